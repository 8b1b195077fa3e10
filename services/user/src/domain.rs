//! Pure rules of profiles and addresses: what each field may hold.

use service_kit::{FieldCode, FieldError};

pub(crate) use contracts::user::rules::{country, optional_text, phone, text};

/// A locale like `en` or `de-AT`.
pub(crate) fn locale(value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    let (lang, region) = v.split_once('-').map_or((v, None), |(l, r)| (l, Some(r)));
    let lang_ok = lang.len() == 2 && lang.chars().all(|c| c.is_ascii_lowercase());
    let region_ok = region.is_none_or(|r| r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()));
    if lang_ok && region_ok {
        Ok(v.to_owned())
    } else {
        Err(FieldError::new("locale", FieldCode::InvalidLocale, "use a locale such as en or de-AT"))
    }
}

/// An ISO 4217 currency code, uppercased.
pub(crate) fn currency(value: &str) -> Result<String, FieldError> {
    let upper = value.trim().to_ascii_uppercase();
    if upper.len() == 3 && upper.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(upper)
    } else {
        Err(FieldError::new("currency", FieldCode::InvalidCurrency, "use a three-letter ISO 4217 code such as EUR"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalized_to_e164_or_refused() {
        assert_eq!(phone("phone", Some("+49 151 1234-5678")).unwrap().as_deref(), Some("+4915112345678"));
        assert_eq!(phone("phone", Some("")).unwrap(), None);
        for bad in ["015112345678", "+0123456789", "+12", "+49abc"] {
            assert_eq!(phone("phone", Some(bad)).unwrap_err().field, "phone", "{bad}");
        }
    }

    #[test]
    fn country_locale_and_currency_codes_are_checked() {
        assert_eq!(country("de").unwrap(), "DE");
        assert!(country("DEU").is_err());
        assert_eq!(locale("de-AT").unwrap(), "de-AT");
        assert!(locale("german").is_err());
        assert!(locale("de-at").is_err());
        assert_eq!(currency("eur").unwrap(), "EUR");
        assert!(currency("E").is_err());
    }

    #[test]
    fn text_fields_are_trimmed_and_bounded() {
        assert_eq!(text("city", "  Berlin ", 100).unwrap(), "Berlin");
        assert_eq!(text("city", "   ", 100).unwrap_err().code.as_str(), "invalid_length");
        assert_eq!(text("city", &"x".repeat(101), 100).unwrap_err().code.as_str(), "invalid_length");
        assert_eq!(optional_text("line2", Some(""), 10).unwrap(), None);
        assert_eq!(text("city", "a\u{0}b", 100).unwrap_err().code.as_str(), "invalid_characters");
    }
}
