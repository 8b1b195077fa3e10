//! Test logs: every line is captured in memory (tests assert on them, e.g. that no secret is
//! ever logged) and printed only when `TEST_LOG` is set.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

fn buffer() -> &'static Mutex<Vec<u8>> {
    static BUFFER: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    BUFFER.get_or_init(|| Mutex::new(Vec::new()))
}

struct Capture;

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        buffer().lock().expect("log buffer").extend_from_slice(bytes);
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stdout().write_all(bytes)?;
        }
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber once per process.
pub fn init() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let filter = EnvFilter::try_from_env("TEST_LOG_FILTER").unwrap_or_else(|_| {
            EnvFilter::new("debug,sqlx=info,hyper=info,hyper_util=info,h2=info,tower=info,reqwest=info,rustls=info")
        });
        let layer = observability::json_layer_for_tests("test", || Capture).with_filter(filter);
        let _ = tracing_subscriber::registry().with(layer).try_init();
    });
}

/// Everything logged so far in this process.
pub fn captured() -> String {
    String::from_utf8_lossy(&buffer().lock().expect("log buffer")).into_owned()
}
