//! Pure rules of payments: Stripe's webhook signature scheme (which the sandbox provider signs
//! with too), the sandbox's test cards, and the Stripe-shaped events it sends.

use aws_lc_rs::hmac;

/// How old a signed webhook may be.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a webhook's signature is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

/// `v1` of a payload signed at `timestamp`: hex HMAC-SHA256 over `"<t>.<payload>"`, keyed by
/// the endpoint's whole secret text (`whsec_…`).
pub fn sign(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut context = hmac::Context::with_key(&key);
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(payload);
    context.sign().as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The `Stripe-Signature` header for a payload.
pub fn header(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, payload))
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

/// Checks a `Stripe-Signature` header (`t=…,v1=…[,v1=…]`; several `v1` during a secret's
/// rotation, any one may match) against the raw payload at `now` (unix seconds): within the
/// tolerance either way, compared in constant time.
pub fn verify(header: &str, payload: &[u8], secret: &str, now: i64) -> Result<i64, SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = Some(value.parse::<i64>().map_err(|_| SignatureError::Malformed)?),
            Some(("v1", value)) => signatures.push(unhex(value).ok_or(SignatureError::Malformed)?),
            Some(_) => {}
            None => return Err(SignatureError::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    // Checked: a `t` far from now (i64::MIN) is stale, never an overflow.
    if now.checked_sub(timestamp).is_none_or(|age| age.unsigned_abs() > TOLERANCE_SECS.unsigned_abs()) {
        return Err(SignatureError::Stale);
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let signed = [timestamp.to_string().as_bytes(), b".", payload].concat();
    if signatures.iter().any(|signature| hmac::verify(&key, &signed, signature).is_ok()) {
        Ok(timestamp)
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// What the sandbox does with a test card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Declined (`4000000000000002`, like Stripe's generic decline).
    Declined,
}

/// The sandbox's test cards: `4242424242424242` succeeds, `4000000000000002` declines, others
/// are not cards it knows.
pub fn test_card(number: &str) -> Option<Outcome> {
    match number.replace([' ', '-'], "").as_str() {
        "4242424242424242" => Some(Outcome::Succeeded),
        "4000000000000002" => Some(Outcome::Declined),
        _ => None,
    }
}

/// A Stripe-shaped `payment_intent.*` event about an intent.
pub fn intent_event(
    event_id: &str,
    outcome: Outcome,
    intent_id: &str,
    amount: i64,
    currency: &str,
    order_id: &str,
    created: i64,
) -> serde_json::Value {
    let (kind, status) = match outcome {
        Outcome::Succeeded => ("payment_intent.succeeded", "succeeded"),
        Outcome::Declined => ("payment_intent.payment_failed", "requires_payment_method"),
    };
    serde_json::json!({
        "id": event_id,
        "type": kind,
        "created": created,
        "data": {"object": {
            "id": intent_id,
            "amount": amount,
            "currency": currency.to_ascii_lowercase(),
            "status": status,
            "metadata": {"order_id": order_id}
        }}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";

    #[test]
    fn a_signature_made_by_the_documented_scheme_verifies_and_nothing_else_does() {
        let payload = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
        let now = 1_700_000_000;
        // The documented scheme, computed independently: HMAC-SHA256(secret, "t.payload").
        let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes());
        let expected: String = hmac::sign(&key, &[b"1700000000.".as_slice(), payload].concat())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sign(SECRET, now, payload), expected);
        assert_eq!(verify(&header(SECRET, now, payload), payload, SECRET, now + 10), Ok(now));
        // Rotation: an old and a new signature side by side; either matching is enough.
        let rotated = format!("t={now},v1={},v1={}", sign("whsec_old", now, payload), sign(SECRET, now, payload));
        assert!(verify(&rotated, payload, SECRET, now).is_ok());
        assert_eq!(verify(&header(SECRET, now, payload), b"tampered", SECRET, now), Err(SignatureError::Mismatch));
        assert_eq!(verify(&header("whsec_other", now, payload), payload, SECRET, now), Err(SignatureError::Mismatch));
        assert_eq!(verify(&header(SECRET, now, payload), payload, SECRET, now + 301), Err(SignatureError::Stale));
        assert_eq!(verify(&header(SECRET, now + 301, payload), payload, SECRET, now), Err(SignatureError::Stale));
        let far = format!("t={},v1={}", i64::MIN, sign(SECRET, now, payload));
        assert_eq!(verify(&far, payload, SECRET, now), Err(SignatureError::Stale), "no overflow");
        let far = format!("t={},v1={}", i64::MAX, sign(SECRET, now, payload));
        assert_eq!(verify(&far, payload, SECRET, -now), Err(SignatureError::Stale));
        for bad in ["", "t=abc,v1=00", "v1=00", "t=1", "t=1,v1=zz", "nonsense"] {
            assert_eq!(verify(bad, payload, SECRET, now).unwrap_err(), SignatureError::Malformed, "{bad:?}");
        }
    }

    #[test]
    fn test_cards_decide_and_events_have_stripes_shape() {
        assert_eq!(test_card("4242 4242 4242 4242"), Some(Outcome::Succeeded));
        assert_eq!(test_card("4000000000000002"), Some(Outcome::Declined));
        assert_eq!(test_card("1234"), None);
        let event = intent_event("evt_1", Outcome::Declined, "pi_1", 1990, "EUR", "o-1", 5);
        assert_eq!(event["type"], "payment_intent.payment_failed");
        assert_eq!(event["data"]["object"]["currency"], "eur");
        assert_eq!(event["data"]["object"]["metadata"]["order_id"], "o-1");
    }
}
