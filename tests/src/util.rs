//! Small helpers: an HTTP client for loopback, PKCE, random tokens.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// A reqwest client for talking to the loopback provider: no proxy, no
/// redirects followed (so tests see every `Location`), [`crate::timeout`] per request.
///
/// reqwest is built with `rustls-no-provider` in this workspace, so this installs
/// rustls' ring provider as the process default first (ignoring the error if a
/// provider is already installed).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(crate::timeout())
        .build()
        .expect("building a reqwest client for loopback")
}

/// `n` random bytes, base64url without padding.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A PKCE pair (RFC 7636) with the S256 method.
#[derive(Debug, Clone)]
pub struct Pkce {
    /// The `code_verifier` (43 characters).
    pub verifier: String,
    /// The `code_challenge`: base64url(SHA-256(verifier)).
    pub challenge: String,
}

impl Pkce {
    /// A fresh random verifier and its S256 challenge.
    pub fn new() -> Self {
        let verifier = random_token(32);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Self {
            verifier,
            challenge,
        }
    }

    /// Always `S256`.
    pub fn method(&self) -> &'static str {
        "S256"
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Self::new()
    }
}

/// The last `max` characters of a file, for error messages.
pub(crate) fn tail_of_file(path: &std::path::Path, max: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let start = text
                .char_indices()
                .rev()
                .nth(max)
                .map(|(i, _)| i)
                .unwrap_or(0);
            text[start..].trim().to_owned()
        }
        Err(e) => format!("(could not read {}: {e})", path.display()),
    }
}
