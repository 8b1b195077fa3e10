//! Error reporting to a Sentry-compatible endpoint, when `SENTRY_DSN` is set: every 5xx a
//! service answers, every panic, and every dead-lettered event. A report carries the service,
//! the request id (or the event's id), the method, the route template and the status: never a
//! body, a header, a query string, a path with ids in it, or anything a user wrote. The
//! transport is our own reqwest (rustls) on a thread of its own with a bounded queue, so a slow
//! or unreachable endpoint never holds up a request; reports beyond the queue are dropped.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentry::{ClientOptions, Envelope, Level, Transport};

/// Reports queued but not yet sent, at most.
const QUEUE: usize = 256;
/// How long one delivery may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Error reporting while it lives; dropping it sends what is queued (at most two seconds).
pub struct Reporting {
    _guard: sentry::ClientInitGuard,
}

impl Reporting {
    /// Sends everything queued so far (tests, and before a deliberate exit).
    pub fn flush(&self, timeout: Duration) -> bool {
        sentry::Hub::main().client().is_some_and(|client| client.flush(Some(timeout)))
    }
}

/// Starts reporting when `SENTRY_DSN` is set (`SENTRY_ENVIRONMENT` names the deployment).
pub fn init_from_env(service: &'static str) -> Option<Reporting> {
    let dsn = std::env::var(settings::shared::SENTRY_DSN.name).ok().filter(|v| !v.trim().is_empty())?;
    let environment = std::env::var(settings::shared::SENTRY_ENVIRONMENT.name).ok().filter(|v| !v.trim().is_empty());
    init(service, dsn.trim(), environment)
}

/// Starts reporting to `dsn`; `None` (with an error logged) when it is not a DSN.
pub fn init(service: &'static str, dsn: &str, environment: Option<String>) -> Option<Reporting> {
    let dsn: sentry::types::Dsn = match dsn.parse() {
        Ok(dsn) => dsn,
        Err(error) => {
            tracing::error!(error = %crate::Chain(&error), "SENTRY_DSN is not a DSN: errors are not reported");
            return None;
        }
    };
    let options = ClientOptions {
        dsn: Some(dsn),
        release: Some(env!("CARGO_PKG_VERSION").into()),
        environment: environment.map(Into::into),
        send_default_pii: false,
        attach_stacktrace: false,
        transport: Some(Arc::new(|options: &ClientOptions| {
            Arc::new(HttpTransport::start(options)) as Arc<dyn Transport>
        })),
        // Whatever an integration might add about the request or the person goes.
        before_send: Some(Arc::new(|mut event: sentry::protocol::Event<'static>| {
            event.request = None;
            event.user = None;
            event.server_name = None;
            Some(event)
        })),
        ..Default::default()
    };
    let guard = sentry::init(options);
    sentry::configure_scope(|scope| scope.set_tag("service", service));
    Some(Reporting { _guard: guard })
}

fn enabled() -> bool {
    sentry::Hub::current().client().is_some_and(|client| client.is_enabled())
}

/// A request answered with a 5xx.
pub fn server_error(service: &str, method: &str, route: &str, status: u16, request_id: &str) {
    if !enabled() {
        return;
    }
    sentry::with_scope(
        |scope| {
            scope.set_tag("request_id", request_id);
            scope.set_tag("method", method);
            scope.set_tag("route", route);
            scope.set_tag("status", status);
        },
        || sentry::capture_message(&format!("{service}: {method} {route} answered {status}"), Level::Error),
    );
}

/// An event a consumer gave up on (moved to its dead letters): which, not why (the error may
/// quote what a user wrote; the consumer's log and the dead-letter entry keep it).
pub fn dead_letter(group: &str, stream: &str, event_type: &str, entry_id: &str) {
    if !enabled() {
        return;
    }
    sentry::with_scope(
        |scope| {
            scope.set_tag("group", group);
            scope.set_tag("stream", stream);
            scope.set_tag("event_type", event_type);
            scope.set_tag("entry_id", entry_id);
        },
        || sentry::capture_message(&format!("{group} dead-lettered {event_type} from {stream}"), Level::Error),
    );
}

enum Message {
    Envelope(Box<Envelope>),
    Flush(SyncSender<()>),
}

/// Posts envelopes to the DSN's envelope endpoint from a thread of its own.
struct HttpTransport {
    sender: Mutex<Option<SyncSender<Message>>>,
}

impl HttpTransport {
    fn start(options: &ClientOptions) -> Self {
        let (sender, receiver) = sync_channel(QUEUE);
        if let Some(dsn) = options.dsn.clone() {
            let url = dsn.envelope_api_url().to_string();
            let auth = dsn.to_auth(Some(concat!("shopfleet/", env!("CARGO_PKG_VERSION")))).to_string();
            let spawned =
                std::thread::Builder::new().name("error-reports".into()).spawn(move || deliver(&url, &auth, receiver));
            if let Err(error) = spawned {
                tracing::error!(error = %crate::Chain(&error), "cannot start the error-report thread");
            }
        }
        Self { sender: Mutex::new(Some(sender)) }
    }

    fn send(&self, message: Message) -> bool {
        let sender = self.sender.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        sender.as_ref().is_some_and(|sender| sender.try_send(message).is_ok())
    }
}

fn deliver(url: &str, auth: &str, receiver: Receiver<Message>) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
    // The client and its requests' timers belong to this thread's runtime.
    let _context = runtime.enter();
    let Ok(client) = reqwest::Client::builder().timeout(SEND_TIMEOUT).build() else { return };
    for message in receiver {
        match message {
            Message::Envelope(envelope) => {
                let mut body = Vec::new();
                if envelope.to_writer(&mut body).is_err() {
                    continue;
                }
                let sent = runtime.block_on(
                    client
                        .post(url)
                        .header("x-sentry-auth", auth)
                        .header("content-type", "application/x-sentry-envelope")
                        .body(body)
                        .send(),
                );
                match sent {
                    Ok(response) if response.status().is_success() => {}
                    Ok(response) => tracing::warn!(
                        status = response.status().as_u16(),
                        "the error-report endpoint refused a report"
                    ),
                    Err(error) => {
                        tracing::warn!(error = %crate::Chain(&error), "cannot reach the error-report endpoint")
                    }
                }
            }
            Message::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

impl Transport for HttpTransport {
    fn send_envelope(&self, envelope: Envelope) {
        // A full queue drops the report rather than wait.
        self.send(Message::Envelope(Box::new(envelope)));
    }

    fn flush(&self, timeout: Duration) -> bool {
        let (done, finished) = sync_channel(1);
        self.send(Message::Flush(done)) && finished.recv_timeout(timeout).is_ok()
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        let flushed = self.flush(timeout);
        self.sender.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        flushed
    }
}
