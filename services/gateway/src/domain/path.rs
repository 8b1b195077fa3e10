//! Which public paths may be forwarded at all. Anything that could reach `/internal` or escape
//! its prefix after decoding (`..`, `.`, `//`, encoded slashes, dots or backslashes, double
//! encoding, any case of "internal") is refused before routing.

/// The public API's prefix, stripped before forwarding.
pub(crate) const API_PREFIX: &str = "/api/v1";

/// A path accepted for forwarding.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ForwardPath {
    /// The raw (still encoded) path after the prefix, forwarded unchanged.
    pub raw: String,
    /// Its decoded segments, for matching the route table.
    pub segments: Vec<String>,
}

/// Checks a raw request path; `None` means 404.
pub(crate) fn forwardable(raw_path: &str) -> Option<ForwardPath> {
    let rest = raw_path.strip_prefix(API_PREFIX)?;
    if !rest.starts_with('/') || rest.len() < 2 {
        return None;
    }
    let lowered = rest.to_ascii_lowercase();
    // Encoded separators, dots and percent signs have no business in our paths; refusing them
    // outright means what we match is exactly what the upstream will see.
    if ["%2f", "%2e", "%5c", "%25", "%00"].iter().any(|bad| lowered.contains(bad)) || rest.contains('\\') {
        return None;
    }
    // An unreserved character needs no encoding (RFC 3986 §6.2.2.2); encoded, the route decided
    // on the decoded path could differ from the one the upstream matches on the raw path (review
    // L3: `/payments/%77ebhooks` looked like the public webhook route to the gateway only).
    if encodes_unreserved(rest) {
        return None;
    }
    let mut segments = Vec::new();
    for raw_segment in rest[1..].split('/') {
        let segment = percent_decode(raw_segment)?;
        if segment.is_empty() || segment == "." || segment == ".." || segment.eq_ignore_ascii_case("internal") {
            return None;
        }
        segments.push(segment);
    }
    Some(ForwardPath { raw: rest.to_owned(), segments })
}

/// Whether a percent-escape in `path` stands for an unreserved character.
fn encodes_unreserved(path: &str) -> bool {
    path.match_indices('%').any(|(i, _)| {
        path.get(i + 1..i + 3)
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    })
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encoded_unreserved_character_is_refused_and_other_escapes_pass() {
        assert!(forwardable("/api/v1/payments/%77ebhooks/stripe").is_none(), "%77 is w");
        assert!(forwardable("/api/v1/products/%7Eslug").is_none(), "%7E is ~");
        let spaced = forwardable("/api/v1/products/blue%20mug").expect("a space must be encoded");
        assert_eq!(spaced.segments, ["products", "blue mug"]);
        assert_eq!(spaced.raw, "/products/blue%20mug");
    }

    #[test]
    fn ordinary_paths_are_stripped_and_kept_raw() {
        let path = forwardable("/api/v1/products/ferris%20mug").unwrap();
        assert_eq!(path.raw, "/products/ferris%20mug");
        assert_eq!(path.segments, ["products", "ferris mug"]);
    }

    #[test]
    fn every_trick_to_reach_internal_is_refused() {
        for bad in [
            "/api/v1/internal/keys",
            "/api/v1/Internal/keys",
            "/api/v1/INTERNAL",
            "/api/v1/%69nternal/keys",
            "/api/v1/products/../internal/keys",
            "/api/v1/products/%2e%2e/internal",
            "/api/v1/products/%2E%2E/internal",
            "/api/v1/products%2F..%2Finternal",
            "/api/v1//internal",
            "/api/v1/products//x",
            "/api/v1/./products",
            "/api/v1/products\\..\\internal",
            "/api/v1/%252e%252e/internal",
            "/internal/keys",
            "/api/v1",
            "/api/v1/",
            "/api/v2/products",
            "/api/v1products",
        ] {
            assert_eq!(forwardable(bad), None, "{bad}");
        }
    }
}
