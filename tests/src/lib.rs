//! Test harness for the integration tests.
//!
//! It runs the SDK's flows for real, on loopback only:
//!
//! - [`Provider`]: a certified third-party OpenID provider (the npm package
//!   `oidc-provider`, see `tests/provider/server.mjs`) on `127.0.0.1`, with one
//!   native public client [`CLIENT_ID`], a request log, a restart with a new
//!   signing key, and a short access-token lifetime on demand.
//! - [`Browser`]: headless Chromium driven over WebDriver (chromedriver +
//!   fantoccini) through the provider's login, consent, device and logout pages.
//! - Small helpers: [`http_client`], [`Pkce`], [`random_token`] and
//!   [`CallbackListener`] (a loopback redirect target that records requests).
//!
//! Needs `node` with `tests/provider/node_modules` installed, and `chromium` +
//! `chromedriver` for [`Browser`]: `scripts/install-test-deps.sh` installs them.
//!
//! Every wait is bounded ([`timeout`]: 20 s, or `HARNESS_TIMEOUT_SECS`) and fails
//! with an error that says what it was waiting for and what it saw.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod callback;
mod error;
mod provider;
mod util;

pub use browser::Browser;
pub use callback::{CallbackListener, CallbackRequest};
pub use error::HarnessError;
pub use provider::{LoggedRequest, Provider, ProviderOptions};
pub use util::{Pkce, http_client, random_token};

/// The harness's result type.
pub type Result<T, E = HarnessError> = std::result::Result<T, E>;

/// The one client registered at the [`Provider`]: a native public client
/// (`token_endpoint_auth_method` `none`, PKCE S256 required).
pub const CLIENT_ID: &str = "native-app";

/// The loopback redirect URI registered for [`CLIENT_ID`]; any port is accepted
/// (RFC 8252 §7.3), e.g. `http://127.0.0.1:54321/callback`.
pub const LOOPBACK_REDIRECT_URI: &str = "http://127.0.0.1/callback";

/// The private-use-scheme redirect URI registered for [`CLIENT_ID`].
pub const CUSTOM_SCHEME_REDIRECT_URI: &str = "com.example.app:/callback";

/// How long any single wait of the harness lasts at most, unless
/// `HARNESS_TIMEOUT_SECS` says otherwise (see [`timeout`]).
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// How long any single wait of the harness lasts at most: `HARNESS_TIMEOUT_SECS`
/// if set to a positive number (for slow or loaded machines), else
/// [`DEFAULT_TIMEOUT`].
pub fn timeout() -> std::time::Duration {
    std::env::var("HARNESS_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|secs| *secs > 0)
        .map(std::time::Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT)
}
