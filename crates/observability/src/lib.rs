//! Everything a Shopfleet service needs to be observable: structured logs with secrets redacted,
//! request ids that follow a request through the fleet and HTTP metrics by route template (the
//! `/health`, `/ready` and `/metrics` routes that serve them are the service kit's), and error
//! reports to a Sentry-compatible endpoint.

pub mod errors;
mod http;
mod logging;
mod metrics;
mod readiness;
pub mod redact;
mod request_id;

pub use http::{HttpObserver, RouteLabel, observe};
pub use logging::{LogFormat, init_tracing, json_layer_for_tests};
pub use metrics::{HttpMetrics, Metrics};
pub use readiness::ReadinessCheck;
pub use request_id::{REQUEST_ID_HEADER, RequestId, current_request_id, with_request_id};

/// An error and every source under it, for logs: `a: b: c` (each link once, even when an
/// error's own message already repeats its source's).
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut shown = self.0.to_string();
        f.write_str(&shown)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            let text = error.to_string();
            if !shown.ends_with(&text) {
                write!(f, ": {text}")?;
            }
            shown = text;
            source = error.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod chain_tests {
    use super::Chain;

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("reading the key failed")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[derive(Debug)]
    struct Repeats(std::io::Error);

    impl std::fmt::Display for Repeats {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "database: {}", self.0)
        }
    }

    impl std::error::Error for Repeats {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_chain_shows_every_source_once() {
        let error = Outer(std::io::Error::other("permission denied"));
        assert_eq!(Chain(&error).to_string(), "reading the key failed: permission denied");
        // A message that already ends with its source's (thiserror's `database: {0}`) does not
        // repeat it.
        let wrapped = Repeats(std::io::Error::other("connection reset"));
        assert_eq!(Chain(&wrapped).to_string(), "database: connection reset");
        let plain = std::io::Error::other("timed out");
        assert_eq!(Chain(&plain).to_string(), "timed out");
    }
}
