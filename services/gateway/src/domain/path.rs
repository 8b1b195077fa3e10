//! Which public paths may be forwarded at all. Anything that could reach `/internal` or escape
//! its prefix after decoding (`..`, `.`, `//`, encoded slashes, dots or backslashes, double
//! encoding, any case of "internal") is refused before routing.

/// The public API's prefix, stripped before forwarding.
pub const API_PREFIX: &str = "/api/v1";

/// A path accepted for forwarding.
#[derive(Debug, PartialEq, Eq)]
pub struct ForwardPath {
    /// The raw (still encoded) path after the prefix, forwarded unchanged.
    pub raw: String,
    /// Its decoded segments, for matching the route table.
    pub segments: Vec<String>,
}

/// Checks a raw request path; `None` means 404.
pub fn forwardable(raw_path: &str) -> Option<ForwardPath> {
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
