//! TOTP (RFC 6238): HMAC-SHA1 over 30-second steps, 6 digits, the codes of the previous, current
//! and next step accepted (clock drift), and a step once used never accepted again (replay).

use aws_lc_rs::hmac;

pub const STEP_SECS: u64 = 30;
pub const DIGITS: u32 = 6;

/// The code of `step` for `secret` (RFC 4226 dynamic truncation).
pub fn code_at(secret: &[u8], step: u64) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &step.to_be_bytes());
    let digest = mac.as_ref();
    let offset = (digest[digest.len() - 1] & 0x0f) as usize;
    let binary =
        u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    binary % 10u32.pow(DIGITS)
}

/// The step a code matches at `now` (±1 step), if it is later than `last_used_step`.
pub fn verify(secret: &[u8], code: &str, now_secs: u64, last_used_step: Option<u64>) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let given: u32 = code.parse().ok()?;
    let current = now_secs / STEP_SECS;
    [current.saturating_sub(1), current, current + 1]
        .into_iter()
        .filter(|step| last_used_step.is_none_or(|used| *step > used))
        .find(|step| constant_time_eq(code_at(secret, *step), given))
}

fn constant_time_eq(a: u32, b: u32) -> bool {
    // Both are 6-digit numbers; compare every bit regardless of where they differ.
    (a ^ b) == 0
}

/// RFC 4648 base32 without padding, as authenticator apps expect.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The inverse of [`base32`] (case-insensitive; spaces and padding ignored).
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            out.push((buffer >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// The enrolment URI authenticator apps scan.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._@".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        encode(issuer),
        encode(account),
        base32(secret),
        encode(issuer)
    )
}

/// The current code for a base32 secret (what an authenticator app shows now); `cargo xtask totp`
/// prints the demo admin's with it.
pub fn current_code(secret_base32: &str) -> Option<String> {
    let secret = base32_decode(secret_base32)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(format!("{:0width$}", code_at(&secret, now / STEP_SECS), width = DIGITS as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn the_rfc_6238_sha1_vectors_hold_for_six_digits() {
        // RFC 6238 appendix B (8 digits) truncated to 6.
        for (time, expected) in [
            (59u64, 287_082u32),
            (1_111_111_109, 81_804),
            (1_111_111_111, 50_471),
            (1_234_567_890, 5_924),
            (2_000_000_000, 279_037),
        ] {
            assert_eq!(code_at(RFC_SECRET, time / STEP_SECS), expected, "t={time}");
        }
    }

    #[test]
    fn neighbouring_steps_pass_and_a_used_step_never_passes_again() {
        let now = 1_111_111_111;
        let code = format!("{:06}", code_at(RFC_SECRET, now / STEP_SECS - 1));
        let step = verify(RFC_SECRET, &code, now, None).expect("previous step accepted");
        assert_eq!(verify(RFC_SECRET, &code, now, Some(step)), None, "replay refused");
        let far = format!("{:06}", code_at(RFC_SECRET, now / STEP_SECS - 3));
        assert_eq!(verify(RFC_SECRET, &far, now, None), None);
        assert_eq!(verify(RFC_SECRET, "12345", now, None), None);
        assert_eq!(verify(RFC_SECRET, "abcdef", now, None), None);
    }

    #[test]
    fn base32_round_trips_and_the_uri_carries_the_secret() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI").unwrap(), b"foobar");
        let uri = otpauth_uri("Shopfleet", "admin@shop.example", b"foobar");
        assert!(
            uri.starts_with("otpauth://totp/Shopfleet:admin@shop.example?secret=MZXW6YTBOI&issuer=Shopfleet"),
            "{uri}"
        );
    }
}
