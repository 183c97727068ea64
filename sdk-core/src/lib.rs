//! # ZITADEL self-service SDK — core
//!
//! A complete OpenID Connect public client for native apps, games and
//! desktop programs signing users in to ZITADEL (or any certified OpenID
//! provider): browser login with PKCE S256, `state` and `nonce`; loopback,
//! custom-scheme and webview redirects; the device authorization grant;
//! full ID token validation; single-flight token refresh with the rotated
//! refresh token stored before it is used; revocation and end-session; and
//! token stores for memory, files and the OS keyring.
//!
//! ## A first integration (desktop, loopback redirect)
//!
//! ```no_run
//! use std::sync::Arc;
//! use zitadel_sdk::{Client, LoginOptions, store::FileStore};
//!
//! # async fn run() -> Result<(), zitadel_sdk::Error> {
//! let client = Client::builder("https://my-instance.zitadel.cloud", "my-native-app-client-id")
//!     .redirect_uri("http://127.0.0.1/callback")
//!     .store(Arc::new(FileStore::new("/path/to/app/tokens")?))
//!     .ui_locales(["de", "en"])
//!     .build()?;
//!
//! // Opens the system browser and waits for the redirect on a loopback port.
//! let opener = |url: &url::Url| -> Result<(), zitadel_sdk::Error> { println!("open {url}"); Ok(()) };
//! let session = client
//!     .login_with_loopback(&zitadel_sdk::FnBrowser(opener), &LoginOptions::default(),
//!                          std::time::Duration::from_secs(300), &Default::default())
//!     .await?;
//! println!("signed in as {}", session.subject);
//!
//! // Later: a valid access token, refreshed when needed (one refresh however many callers).
//! let token = client.access_token().await?;
//! # let _ = token;
//! // Sign out: revoke the tokens and wipe the stored session.
//! client.logout().await?;
//! # Ok(()) }
//! ```
//!
//! Mobile apps use [`Client::start_login`] with a custom-scheme or app-link
//! redirect URI, open the URL in a Custom Tab or `ASWebAuthenticationSession`,
//! and pass the callback to [`Client::complete_login`] — which works even when
//! the app was killed and restarted meanwhile, because the in-flight login is
//! persisted. TVs and games use [`Client::start_device_login`].
//!
//! # Errors
//! Every fallible call returns [`Error`], whose [`Error::code`] is a stable
//! [`ErrorCode`] naming what the app should do.
//!
//! # Security
//! Tokens are [`Secret`]s whose `Debug` prints `[redacted]`; no error message
//! contains a token, code or query string; HTTPS is required except on loopback.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod api;
mod client;
mod error;
pub mod flows;
mod http;
pub mod loopback;
pub mod manager;
pub mod oidc;
mod platform;
mod secret;
mod session;
#[cfg(feature = "software-authenticator")]
pub mod software_authenticator;
pub mod store;

/// The attribute for implementing the SDK's async host traits
/// ([`BrowserLauncher`], [`PasskeyAuthenticator`]).
pub use async_trait::async_trait;
pub use client::{Client, ClientBuilder, FnBrowser, LogoutResult};
pub use error::{Error, ErrorCode, PasswordRule, Result, TokenValidationError};
pub use http::is_secure_or_loopback;
pub use oidc::{DeviceAuthorization, IdTokenClaims, LoginOptions, ProviderMetadata};
pub use platform::{
    BrowserLauncher, Clock, Event, EventListener, PasskeyAuthenticator, SystemClock,
};
pub use secret::Secret;
pub use session::{SessionInfo, UserInfo};
pub use store::{StoreLock, TokenStore};
/// Cancels a long-running operation (waiting for a browser, polling a device code).
pub use tokio_util::sync::CancellationToken;
pub use url::Url;
