//! A value read from a request leniently, for the bodies whose checks report every field's
//! problem at once (a serde refusal would stop at the first).

use std::str::FromStr;

use serde::{Deserialize, Deserializer};

/// What a client sent for a value of type `T`: the value when its text parses, else the text
/// as written, for the request's checks to report beside every other field's problem. The
/// OpenAPI document describes such a field as `T` (`#[schema(value_type = T)]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed<T> {
    Valid(T),
    Invalid(String),
}

impl<T: FromStr> Parsed<T> {
    /// `text` read as a `T`, or kept as written.
    pub fn read(text: &str) -> Self {
        text.parse().map_or_else(|_| Parsed::Invalid(text.to_owned()), Parsed::Valid)
    }
}

impl<T> Parsed<T> {
    /// The value, if the text was one.
    pub fn valid(self) -> Option<T> {
        match self {
            Parsed::Valid(value) => Some(value),
            Parsed::Invalid(_) => None,
        }
    }
}

impl<'de, T: FromStr> Deserialize<'de> for Parsed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Parsed::read(&String::deserialize(deserializer)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProductStatus;

    #[test]
    fn a_text_that_parses_is_the_value_and_one_that_does_not_is_kept() {
        let valid: Parsed<ProductStatus> = serde_json::from_str("\"active\"").unwrap();
        assert_eq!(valid, Parsed::Valid(ProductStatus::Active));
        let invalid: Parsed<ProductStatus> = serde_json::from_str("\"live\"").unwrap();
        assert_eq!(invalid, Parsed::Invalid("live".into()));
        assert_eq!(invalid.valid(), None);
        assert!(serde_json::from_str::<Parsed<ProductStatus>>("3").is_err(), "not even text: serde's refusal");
    }
}
