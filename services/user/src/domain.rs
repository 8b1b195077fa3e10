//! Pure rules of profiles and addresses: what each field may hold.

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

/// A locale like `en` or `de-AT`.
pub fn locale(value: &str) -> Result<String, FieldError> {
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
pub fn currency(value: &str) -> Result<String, FieldError> {
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
