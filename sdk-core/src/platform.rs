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

/// Opens the authorization URL in a browser. On desktop this is the system
/// browser (the callback then arrives on the loopback receiver); mobile apps
/// open a Custom Tab / `ASWebAuthenticationSession` and pass the callback to
/// [`crate::Client::complete_login`].
pub trait BrowserLauncher: Send + Sync {
    /// Opens `url`.
    ///
    /// # Errors
    /// The browser cannot be started; the SDK then fails the login with that error.
    fn open(&self, url: &Url) -> Result<()>;
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
