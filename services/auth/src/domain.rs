//! Pure rules of accounts: what an email and a password must look like.

use secrecy::SecretString;
use service_kit::{FieldCode, FieldError};

/// A normalized email: trimmed, lowercased, plausibly deliverable. Uniqueness is on this form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Email(String);

impl Email {
    pub(crate) fn parse(raw: &str) -> Result<Self, FieldError> {
        let email = raw.trim().to_lowercase();
        let invalid = || FieldError::new("email", FieldCode::InvalidEmail, "this is not a valid email address");
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && !local.starts_with('.')
            && !local.ends_with('.');
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok { Ok(Self(email)) } else { Err(invalid()) }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

pub(crate) const PASSWORD_MIN_CHARS: usize = 12;
pub(crate) const PASSWORD_MAX_CHARS: usize = 128;

/// A password of acceptable length for a new account.
pub(crate) struct NewPassword(pub SecretString);

impl NewPassword {
    pub(crate) fn parse(raw: &str) -> Result<Self, FieldError> {
        let chars = raw.chars().count();
        if chars < PASSWORD_MIN_CHARS {
            return Err(FieldError::new(
                "password",
                FieldCode::PasswordTooShort,
                format!("use at least {PASSWORD_MIN_CHARS} characters"),
            ));
        }
        if chars > PASSWORD_MAX_CHARS {
            return Err(FieldError::new(
                "password",
                FieldCode::PasswordTooLong,
                format!("use at most {PASSWORD_MAX_CHARS} characters"),
            ));
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(Email::parse("  Alice@Example.COM ").unwrap().as_str(), "alice@example.com");
    }

    #[test]
    fn implausible_emails_are_rejected() {
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "a b@example.com",
            "alice@-x.com",
            "alice@example..com",
        ] {
            assert_eq!(Email::parse(bad).unwrap_err().field, "email", "{bad:?}");
        }
    }

    #[test]
    fn passwords_must_be_twelve_to_a_hundred_and_twenty_eight_characters() {
        assert_eq!(NewPassword::parse("short").err().unwrap().code.as_str(), "password_too_short");
        assert_eq!(NewPassword::parse(&"x".repeat(129)).err().unwrap().code.as_str(), "password_too_long");
        assert!(NewPassword::parse(&"x".repeat(128)).is_ok());
        // Characters, not bytes: twelve multi-byte characters are enough.
        assert!(NewPassword::parse(&"é".repeat(12)).is_ok());
    }
}
