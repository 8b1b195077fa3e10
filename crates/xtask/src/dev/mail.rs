//! The mail the local fleet's notification service writes as files (`MAIL_DIR`), read the way a
//! shopper reads their inbox: the first message to an address that says something.

use std::time::{Duration, Instant};

use anyhow::ensure;

use crate::dev::fleet::Fleet;

/// Waits until an email to `recipient` satisfies `found` (given the raw and the decoded text),
/// for `within`; what `found` picked out of it.
async fn wait_for<T>(
    fleet: &Fleet,
    recipient: &str,
    within: Duration,
    what: &str,
    found: impl Fn(&str, &str) -> Option<T>,
) -> anyhow::Result<T> {
    let deadline = Instant::now() + within;
    loop {
        for entry in std::fs::read_dir(fleet.mail_dir()).into_iter().flatten().flatten() {
            let raw = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if !raw.contains(&format!("To: {recipient}")) {
                continue;
            }
            if let Some(value) = found(&raw, &testkit::mail::decode_quoted_printable(&raw)) {
                return Ok(value);
            }
        }
        ensure!(Instant::now() < deadline, "no email to {recipient} {what} under {}", fleet.mail_dir().display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The decoded text of the first email to `recipient` that contains `needle`.
pub(crate) async fn text_with(fleet: &Fleet, recipient: &str, needle: &str) -> anyhow::Result<String> {
    let what = format!("with {needle:?}");
    wait_for(fleet, recipient, Duration::from_secs(20), &what, |_, text| text.contains(needle).then(|| text.to_owned()))
        .await
}

/// The token of the link to the storefront's `page` in an email to `recipient`.
pub(crate) async fn token_for(fleet: &Fleet, recipient: &str, page: &str) -> anyhow::Result<String> {
    let what = format!("linking to {page}");
    wait_for(fleet, recipient, Duration::from_secs(10), &what, |raw, _| testkit::mail::token_in_link(raw, page)).await
}
