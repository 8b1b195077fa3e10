//! Pure rules of the catalog: page sizes and the opaque listing cursor.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service_kit::{FieldCode, FieldError};
use uuid::Uuid;

pub const DEFAULT_PAGE_SIZE: i64 = 20;
pub const MAX_PAGE_SIZE: i64 = 100;

/// A page size in 1..=100.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageSize(i64);

impl PageSize {
    pub fn parse(raw: Option<&str>) -> Result<Self, FieldError> {
        let Some(raw) = raw else {
            return Ok(Self(DEFAULT_PAGE_SIZE));
        };
        match raw.parse::<i64>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(Self(n)),
            _ => Err(FieldError::new(
                "limit",
                FieldCode::OutOfRange,
                format!("limit must be an integer from 1 to {MAX_PAGE_SIZE}"),
            )),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// Where the next page starts: after the product with this (created_at, id). Opaque to clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "t")]
    pub created_at: DateTime<Utc>,
    #[serde(rename = "i")]
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("cursor serializes"))
    }

    pub fn decode(raw: &str) -> Result<Self, FieldError> {
        URL_SAFE_NO_PAD.decode(raw).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).ok_or_else(|| {
            FieldError::new("cursor", FieldCode::InvalidCursor, "the cursor is not one this API handed out")
        })
    }
}

/// The parameters of a listing request, or every invalid one at once.
pub fn listing_params(
    limit: Option<&str>,
    cursor: Option<&str>,
) -> Result<(PageSize, Option<Cursor>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let limit = PageSize::parse(limit).map_err(|e| errors.push(e)).ok();
    let cursor = cursor.map(Cursor::decode).transpose().map_err(|e| errors.push(e)).ok();
    match (limit, cursor) {
        (Some(limit), Some(cursor)) => Ok((limit, cursor)),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_outside_one_to_a_hundred_are_rejected() {
        assert_eq!(PageSize::parse(None).unwrap().get(), DEFAULT_PAGE_SIZE);
        assert_eq!(PageSize::parse(Some("100")).unwrap().get(), 100);
        for bad in ["0", "101", "-1", "ten", ""] {
            assert_eq!(PageSize::parse(Some(bad)).unwrap_err().field, "limit", "{bad}");
        }
    }

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let cursor = Cursor { created_at: Utc::now(), id: Uuid::now_v7() };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        assert_eq!(Cursor::decode("!!!").unwrap_err().code.as_str(), "invalid_cursor");
        assert_eq!(Cursor::decode("e30").unwrap_err().field, "cursor");
    }

    #[test]
    fn both_bad_parameters_are_named_together() {
        let errors = listing_params(Some("500"), Some("zzz")).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "cursor"]);
    }
}
