//! Log set-up: JSON lines by default (`LOG_FORMAT=pretty` for humans), every line carrying the
//! service and the fields of its spans (so the request id), and every sensitive field redacted.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::redact::{REDACTED, is_sensitive, redact_json};

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line: what production log pipelines read.
    Json,
    /// Human-readable lines for a terminal.
    Pretty,
}

impl LogFormat {
    /// `LOG_FORMAT=pretty` (or `text`) asks for human-readable lines; anything else is JSON.
    pub fn from_env() -> Self {
        match std::env::var(settings::shared::LOG_FORMAT.name).as_deref() {
            Ok("pretty" | "text" | "human") => Self::Pretty,
            _ => Self::Json,
        }
    }
}

/// The filter when `RUST_LOG` is unset: its declared default.
fn default_filter() -> &'static str {
    settings::shared::RUST_LOG.default_value().unwrap_or("info")
}

/// Installs the global subscriber for `service`, filtered by `RUST_LOG`. A second call (several
/// services in one test process) is a no-op.
pub fn init_tracing(service: &'static str, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter()));
    let layer = match format {
        LogFormat::Json => json_layer(service, std::io::stdout).boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .fmt_fields(tracing_subscriber::fmt::format::debug_fn(redacting_field).delimited(" "))
            .with_target(false)
            .boxed(),
    };
    let _ = tracing_subscriber::registry().with(filter).with(layer).try_init();
}

/// The JSON layer writing to any writer; tests use it to capture log lines.
pub fn json_layer_for_tests<S, W>(service: &'static str, writer: W) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    json_layer(service, writer)
}

fn json_layer<S, W>(service: &'static str, writer: W) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .fmt_fields(JsonFields::new())
        .event_format(RedactingJson { service })
        .with_writer(writer)
}

fn redacting_field(writer: &mut Writer<'_>, field: &Field, value: &dyn fmt::Debug) -> fmt::Result {
    match (field.name(), is_sensitive(field.name())) {
        (_, true) => write!(writer, "{}={REDACTED}", field.name()),
        ("message", false) => write!(writer, "{value:?}"),
        (name, false) => write!(writer, "{name}={value:?}"),
    }
}

/// Formats an event as one JSON object: timestamp, level, service, target, message, the fields
/// of every enclosing span (outermost first, so the request id is on every line of a request)
/// and the event's own fields; sensitive names are redacted wherever they appear.
struct RedactingJson {
    service: &'static str,
}

impl<S, N> FormatEvent<S, N> for RedactingJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut line = serde_json::Map::new();
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        line.insert("timestamp".into(), timestamp.into());
        line.insert("level".into(), event.metadata().level().as_str().into());
        line.insert("service".into(), self.service.into());
        line.insert("target".into(), event.metadata().target().into());

        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let Some(fields) = extensions.get::<FormattedFields<N>>() else {
                    continue;
                };
                if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(fields) {
                    line.extend(map);
                }
            }
        }
        let mut visitor = JsonVisitor(&mut line);
        event.record(&mut visitor);

        let mut value = serde_json::Value::Object(line);
        redact_json(&mut value);
        writeln!(writer, "{value}")
    }
}

struct JsonVisitor<'a>(&'a mut serde_json::Map<String, serde_json::Value>);

impl JsonVisitor<'_> {
    fn put(&mut self, field: &Field, value: serde_json::Value) {
        let value = if is_sensitive(field.name()) { REDACTED.into() } else { value };
        self.0.insert(field.name().to_owned(), value);
    }
}

impl Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn capture(f: impl FnOnce()) -> Vec<serde_json::Value> {
        let buffer = Buffer::default();
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::registry().with(json_layer("test-svc", move || sink.clone()));
        tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    #[test]
    fn every_line_is_json_with_the_span_fields_of_its_request() {
        let lines = capture(|| {
            let span = tracing::info_span!("request", request_id = "rid-1", route = "/products");
            let _guard = span.enter();
            tracing::info!(status = 200, "request finished");
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["service"], "test-svc");
        assert_eq!(line["request_id"], "rid-1");
        assert_eq!(line["route"], "/products");
        assert_eq!(line["status"], 200);
        assert_eq!(line["message"], "request finished");
        assert_eq!(line["level"], "INFO");
    }

    #[test]
    fn secrets_in_event_and_span_fields_are_redacted() {
        let lines = capture(|| {
            let span = tracing::info_span!("call", authorization = "Bearer eyJhbGciOi");
            let _guard = span.enter();
            tracing::warn!(password = "correct horse battery", refresh_token = "abc", "oops");
        });
        let text = lines[0].to_string();
        assert!(!text.contains("eyJhbGciOi"), "{text}");
        assert!(!text.contains("correct horse"), "{text}");
        assert_eq!(lines[0]["password"], REDACTED);
        assert_eq!(lines[0]["authorization"], REDACTED);
    }
}
