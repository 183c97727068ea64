//! Capabilities the host app provides: a clock, a browser, an event listener.

use crate::error::Result;
use std::time::{SystemTime, UNIX_EPOCH};
use url::Url;

/// Wall-clock time in seconds since the Unix epoch. Tests inject their own.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// Runs the browser part of a login (or of an IdP intent): opens the URL
/// and, where the launcher sees the redirect itself, returns the callback.
///
/// Three kinds fit: the **system browser** on desktop only opens the URL
/// and returns `None` — the SDK's loopback receiver gets the callback; an
/// **`ASWebAuthenticationSession`, Auth Tab or Custom Tab with a redirect
/// activity** returns the callback URL it was handed for `redirect_uri`;
/// an **embedded webview** (only on request: identity providers such as
/// Google refuse webviews) returns the navigation to `redirect_uri` it
/// intercepted. Implement it with [`async_trait`](crate::async_trait).
#[async_trait::async_trait]
pub trait BrowserLauncher: Send + Sync {
    /// Opens `url`. Returns `Some(callback)` when this launcher captured the
    /// redirect to `redirect_uri` itself, `None` when it only handed the URL
    /// to a browser (the SDK then waits on its loopback receiver).
    ///
    /// # Errors
    /// The browser cannot be started, or the user closed it
    /// ([`crate::ErrorCode::Cancelled`]); the SDK fails the login with that error.
    async fn open(&self, url: &Url, redirect_uri: &Url) -> Result<Option<Url>>;
}

/// Something that happened to an account's session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A login completed.
    SignedIn {
        /// The account name.
        account: String,
        /// The user id (`sub`).
        subject: String,
    },
    /// Tokens were refreshed (and the rotated refresh token stored).
    Refreshed {
        /// The account name.
        account: String,
    },
    /// The app signed the user out.
    SignedOut {
        /// The account name.
        account: String,
    },
    /// The server ended the session (refresh token expired or revoked); sign in again.
    SessionExpired {
        /// The account name.
        account: String,
    },
}

/// Receives [`Event`]s. Called synchronously; keep it short.
pub trait EventListener: Send + Sync {
    /// Called for each event.
    fn on_event(&self, event: &Event);
}

/// A WebAuthn authenticator: creates passkeys and security-key credentials
/// and signs login challenges with them — `navigator.credentials.create` and
/// `.get` for a native app. On Android it is the Credential Manager, on iOS
/// `ASAuthorization`, plugged in through the bindings; on desktops, CLIs and
/// in tests the SDK's `SoftwareAuthenticator` (feature
/// `software-authenticator`).
///
/// Both calls speak the WebAuthn JSON ZITADEL speaks (WebAuthn Level 3
/// `…JSON` forms, binary fields as unpadded base64url), which is what the
/// Credential Manager takes and returns as is.
///
/// # Errors
/// Raise failures with [`crate::Error::host`]: [`crate::ErrorCode::Cancelled`]
/// when the user declines or dismisses the prompt,
/// [`crate::ErrorCode::NotFound`] when the authenticator holds none of the
/// credentials asked for, [`crate::ErrorCode::AlreadyExists`] when it is
/// registered for this account already. Messages must not contain key
/// material or personal data.
#[async_trait::async_trait]
pub trait PasskeyAuthenticator: Send + Sync {
    /// Creates a credential. `options_json` is a
    /// `PublicKeyCredentialCreationOptionsJSON` (`rp`, `user`, `challenge`,
    /// `pubKeyCredParams`, `excludeCredentials`, `authenticatorSelection`, …);
    /// `origin` is the relying party's web origin (the issuer's, e.g.
    /// `https://my-instance.zitadel.cloud`; platform authenticators that
    /// derive the origin from the app's identity ignore it). Returns the
    /// `RegistrationResponseJSON` (`id`, `rawId`, `type`, `response` with
    /// `clientDataJSON` and `attestationObject`, …).
    async fn create(&self, options_json: &str, origin: &str) -> Result<String>;

    /// Signs a login challenge. `options_json` is a
    /// `PublicKeyCredentialRequestOptionsJSON` (`challenge`, `rpId`,
    /// `allowCredentials`, `userVerification`, …); `origin` as for
    /// [`create`](Self::create). Returns the `AuthenticationResponseJSON`
    /// (`id`, `rawId`, `type`, `response` with `clientDataJSON`,
    /// `authenticatorData`, `signature`, `userHandle`).
    async fn get(&self, options_json: &str, origin: &str) -> Result<String>;
}
