//! Field errors: one invalid field with its registered code, a collector that gathers every
//! invalid field of a request into one 422, and the table that maps a named database
//! constraint (unique, check, foreign key) to the problem it means for the client.

use serde::Serialize;

use crate::{Code, FieldCode, Problem};

/// One invalid field of a request: which field, a registered code, and a message for humans.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    #[serde(serialize_with = "field_code")]
    pub code: FieldCode,
    pub message: String,
}

fn field_code<S: serde::Serializer>(code: &FieldCode, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(code.as_str())
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: FieldCode, message: impl Into<String>) -> Self {
        Self { field: field.into(), code, message: message.into() }
    }
}

/// Collects the invalid fields of one request, so the client hears about all of them at once.
///
/// ```
/// # use problem::{FieldErrors, FieldCode};
/// let mut errors = FieldErrors::default();
/// let name = errors.check(Ok::<_, problem::FieldError>("Ada"));
/// errors.push("country", FieldCode::InvalidCountry, "use a two-letter code");
/// let problem = errors.finish().unwrap_err();
/// assert_eq!(problem.errors().len(), 1);
/// assert_eq!(name, Some("Ada"));
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "finish() turns the collected errors into a 422"]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Records an invalid field.
    pub fn push(&mut self, field: impl Into<String>, code: FieldCode, message: impl Into<String>) {
        self.0.push(FieldError::new(field, code, message));
    }

    /// Records an error already made.
    pub fn add(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// The value of a parsed field, or `None` after recording why it is invalid.
    pub fn check<T>(&mut self, parsed: Result<T, FieldError>) -> Option<T> {
        parsed.map_err(|error| self.0.push(error)).ok()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors recorded, for rules that hand them on rather than answer.
    pub fn into_errors(self) -> Vec<FieldError> {
        self.0
    }

    /// `Ok` when no field was invalid, else a 422 `validation_failed` naming every one.
    pub fn finish(self) -> Result<(), Problem> {
        if self.0.is_empty() { Ok(()) } else { Err(Problem::validation(self.0)) }
    }

    /// Like [`finish`](Self::finish), handing back `value` when every field was valid. A value
    /// of `None` with no recorded error cannot happen when every field went through `check`.
    pub fn finish_with<T>(self, value: Option<T>) -> Result<T, Problem> {
        self.finish()?;
        value.ok_or_else(|| Problem::internal(&"a field was invalid but no error was recorded"))
    }
}

/// What a violated constraint means to the client.
#[derive(Clone, Copy, Debug)]
pub enum OnViolation {
    /// A whole-request problem, e.g. 409 `email_taken` for a unique index on the email.
    Problem(Code, &'static str),
    /// One invalid field, answered as a 422 naming it.
    Field(&'static str, FieldCode, &'static str),
}

/// One named database constraint and what its violation means.
#[derive(Clone, Copy, Debug)]
pub struct Constraint {
    pub name: &'static str,
    pub on_violation: OnViolation,
}

impl Constraint {
    pub const fn problem(name: &'static str, code: Code, detail: &'static str) -> Self {
        Self { name, on_violation: OnViolation::Problem(code, detail) }
    }

    pub const fn field(name: &'static str, field: &'static str, code: FieldCode, message: &'static str) -> Self {
        Self { name, on_violation: OnViolation::Field(field, code, message) }
    }
}

/// The problem for a violated constraint named `name`, if the service's table knows it. An
/// unknown constraint is a bug (the caller answers 500 and logs it), never a guess.
pub fn constraint_problem(table: &[Constraint], name: &str) -> Option<Problem> {
    let constraint = table.iter().find(|c| c.name == name)?;
    Some(match constraint.on_violation {
        OnViolation::Problem(code, detail) => Problem::new(code, detail),
        OnViolation::Field(field, code, message) => Problem::validation(vec![FieldError::new(field, code, message)]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_invalid_field_is_named_in_one_problem() {
        let mut errors = FieldErrors::default();
        assert_eq!(errors.check(Ok::<_, FieldError>(3)), Some(3));
        errors.push("email", FieldCode::InvalidEmail, "not an email");
        errors.add(FieldError::new("country", FieldCode::InvalidCountry, "use DE"));
        let problem = errors.finish().unwrap_err();
        assert_eq!(problem.code(), Code::ValidationFailed);
        let body = problem.body();
        assert_eq!(body["errors"][0]["field"], "email");
        assert_eq!(body["errors"][1]["code"], "invalid_country");
    }

    #[test]
    fn no_invalid_field_is_ok() {
        assert!(FieldErrors::default().finish().is_ok());
        assert_eq!(FieldErrors::default().finish_with(Some(1)).unwrap(), 1);
    }

    #[test]
    fn a_named_constraint_maps_to_its_problem_and_an_unknown_one_to_none() {
        const TABLE: &[Constraint] = &[
            Constraint::problem("users_email_key", Code::EmailTaken, "taken"),
            Constraint::field("addresses_country_check", "country", FieldCode::InvalidCountry, "use DE"),
        ];
        assert_eq!(constraint_problem(TABLE, "users_email_key").unwrap().code(), Code::EmailTaken);
        let field = constraint_problem(TABLE, "addresses_country_check").unwrap();
        assert_eq!(field.errors()[0].code, FieldCode::InvalidCountry);
        assert!(constraint_problem(TABLE, "something_else").is_none());
    }
}
