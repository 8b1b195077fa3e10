//! What each field of a person's address and contact may hold: the one set of rules the user
//! service's address book and the order service's typed-in checkout address both keep
//! (review f5592e3 L3: the inline address was barely checked).

use service_kit::{FieldCode, FieldError};

fn length(field: &str, value: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    let n = trimmed.chars().count();
    if n < min || n > max {
        return Err(FieldError::new(field, FieldCode::InvalidLength, format!("must be {min} to {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(field, FieldCode::InvalidCharacters, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// A required text field of bounded length, trimmed.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    length(field, value, 1, max)
}

/// An optional text field: empty means none.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => length(field, v, 1, max).map(Some),
    }
}

/// A phone number in E.164 (`+` and 8 to 15 digits); spaces and dashes are dropped.
pub fn phone(field: &str, value: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(raw) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    let digits = compact.strip_prefix('+').unwrap_or("");
    let valid =
        (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0');
    if valid {
        Ok(Some(compact))
    } else {
        Err(FieldError::new(field, FieldCode::InvalidPhone, "use the international format, e.g. +4915112345678"))
    }
}

/// An ISO 3166-1 alpha-2 country code, uppercased.
pub fn country(value: &str) -> Result<String, FieldError> {
    let upper = value.trim().to_ascii_uppercase();
    if upper.len() == 2 && upper.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(upper)
    } else {
        Err(FieldError::new("country", FieldCode::InvalidCountry, "use a two-letter ISO 3166-1 code such as DE"))
    }
}
