//! TOTP (RFC 6238, HMAC-SHA1, 6 digits, 30 s) and base32 (RFC 4648).

use hmac::{Hmac, Mac as _};
use rand::RngCore as _;
use sha1::Sha1;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const STEP: i64 = 30;
const DIGITS: u32 = 6;

/// Base32 without padding.
pub(crate) fn base32_encode(data: &[u8]) -> String {
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in data {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32 (case-insensitive, padding and spaces ignored).
pub(crate) fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.chars().filter(|c| *c != '=' && !c.is_whitespace()) {
        let v = ALPHABET
            .iter()
            .position(|a| char::from(*a) == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | u32::try_from(v).ok()?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// A new random 160-bit secret, base32.
pub(crate) fn new_secret() -> String {
    let mut key = [0u8; 20];
    rand::rng().fill_bytes(&mut key);
    base32_encode(&key)
}

/// The code for a time step.
fn code_at(key: &[u8], counter: u64, digits: u32) -> Option<u32> {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).ok()?;
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let bin = (u32::from(hash[offset] & 0x7f) << 24)
        | (u32::from(hash[offset + 1]) << 16)
        | (u32::from(hash[offset + 2]) << 8)
        | u32::from(hash[offset + 3]);
    Some(bin % 10u32.pow(digits))
}

/// The current 6-digit code for a base32 secret at Unix time `t`.
pub(crate) fn code(secret_b32: &str, t: i64) -> Option<String> {
    let key = base32_decode(secret_b32)?;
    let counter = u64::try_from(t.div_euclid(STEP)).ok()?;
    code_at(&key, counter, DIGITS).map(|c| format!("{c:06}"))
}

/// Checks a code against the current, previous and next step.
pub(crate) fn verify(secret_b32: &str, input: &str, t: i64) -> bool {
    let input = input.trim();
    [-STEP, 0, STEP]
        .iter()
        .filter_map(|d| code(secret_b32, t + d))
        .any(|c| crate::util::ct_eq(&c, input))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        let key = b"12345678901234567890";
        // RFC 6238 appendix B (8 digits).
        for (t, expected) in [
            (59u64, 94_287_082u32),
            (1_111_111_109, 7_081_804),
            (2_000_000_000, 69_279_037),
        ] {
            assert_eq!(code_at(key, t / 30, 8), Some(expected));
        }
        let secret = base32_encode(key);
        assert_eq!(code(&secret, 59).as_deref(), Some("287082"));
        assert!(verify(&secret, "287082", 59 + 30));
        assert!(!verify(&secret, "287082", 59 + 90));
    }

    #[test]
    fn base32_round_trips() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(
            base32_decode("mzxw6ytboi======").as_deref(),
            Some(&b"foobar"[..])
        );
        assert_eq!(base32_decode("1"), None);
    }
}
