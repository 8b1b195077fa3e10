//! A stock keeping unit.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A variant's SKU: 1 to 64 ASCII letters, digits, `.`, `_` or `-`, starting with a letter or
/// digit (`TEE-BLK-M`). Compared as written (SKUs are case-sensitive).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

/// Why a text is not a SKU.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a SKU is 1 to {} letters, digits, '.', '_' or '-'", Sku::MAX_LEN)]
pub struct SkuError;

impl Sku {
    pub const MAX_LEN: usize = 64;
    /// The OpenAPI pattern of a SKU.
    pub const PATTERN: &'static str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

    /// `text` as a SKU, if it is one.
    pub fn parse(text: impl Into<String>) -> Result<Self, SkuError> {
        let text = text.into();
        if Self::is_valid(&text) { Ok(Self(text)) } else { Err(SkuError) }
    }

    /// Whether `text` is a SKU.
    pub fn is_valid(text: &str) -> bool {
        let mut bytes = text.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
            && text.len() <= Self::MAX_LEN
            && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = SkuError;

    fn try_from(text: String) -> Result<Self, SkuError> {
        Self::parse(text)
    }
}

impl FromStr for Sku {
    type Err = SkuError;

    fn from_str(text: &str) -> Result<Self, SkuError> {
        Self::parse(text)
    }
}

impl From<Sku> for String {
    fn from(sku: Sku) -> String {
        sku.0
    }
}

impl AsRef<str> for Sku {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Sku {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Sku {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Sku {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Sku {
    fn eq(&self, other: &String) -> bool {
        self.0 == *other
    }
}

impl PartialEq<Sku> for String {
    fn eq(&self, other: &Sku) -> bool {
        *self == other.0
    }
}

impl PartialEq<Sku> for &str {
    fn eq(&self, other: &Sku) -> bool {
        *self == other.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::text::sqlx_text!(Sku);

impl utoipa::PartialSchema for Sku {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(Self::MAX_LEN))
            .pattern(Some(Self::PATTERN))
            .description(Some(
                "A variant's SKU: 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit.",
            ))
            .examples(["TEE-BLK-M"])
            .into()
    }
}

impl utoipa::ToSchema for Sku {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sku_is_letters_digits_dots_underscores_and_dashes() {
        for good in ["TEE-BLK-M", "a", "A.b_c-9", "9", &"x".repeat(64)] {
            assert_eq!(Sku::parse(good).map(String::from), Ok(good.to_owned()), "{good}");
        }
        for bad in ["", " TEE", "-x", ".a", "TEE M", "tée", "a/b", &"x".repeat(65)] {
            assert_eq!(Sku::parse(bad), Err(SkuError), "{bad:?}");
        }
    }

    #[test]
    fn a_sku_is_a_string_on_the_wire_and_refused_when_it_is_not_one() {
        let sku: Sku = serde_json::from_str("\"TEE-BLK-M\"").unwrap();
        assert_eq!(sku, "TEE-BLK-M");
        assert_eq!(serde_json::to_string(&sku).unwrap(), "\"TEE-BLK-M\"");
        let error = serde_json::from_str::<Sku>("\"no spaces\"").unwrap_err();
        assert!(error.to_string().contains("a SKU is 1 to 64"), "{error}");
    }
}
