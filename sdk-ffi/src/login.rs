//! Browser login: [`ZitadelClient::start_login`] and
//! [`ZitadelClient::complete_login`] for custom-scheme and app-link
//! redirects (Custom Tabs, `ASWebAuthenticationSession`), and
//! [`ZitadelClient::login_with_loopback`] for desktop apps.

use crate::client::ZitadelClient;
use crate::error::FfiError;
use crate::runtime::run;
use crate::session::SessionInfo;
use std::sync::Arc;
use std::time::Duration;
use zitadel_sdk::CancellationToken;

/// Options of one login.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct LoginOptions {
    /// `prompt`: `login`, `select_account`, `create` (registration) or `none`.
    #[uniffi(default = None)]
    pub prompt: Option<String>,
    /// The login name to pre-fill.
    #[uniffi(default = None)]
    pub login_hint: Option<String>,
    /// Forces a fresh authentication when the last one is older (seconds).
    #[uniffi(default = None)]
    pub max_age_secs: Option<u64>,
    /// Extra scopes for this login only.
    #[uniffi(default)]
    pub extra_scopes: Vec<String>,
}

impl From<LoginOptions> for zitadel_sdk::LoginOptions {
    fn from(o: LoginOptions) -> Self {
        zitadel_sdk::LoginOptions {
            prompt: o.prompt,
            login_hint: o.login_hint,
            max_age: o.max_age_secs,
            extra_scopes: o.extra_scopes,
        }
    }
}

/// Opens the authorization URL, implemented by the host: the system browser
/// on desktop; on mobile use [`ZitadelClient::start_login`] instead.
#[uniffi::export(foreign)]
pub trait BrowserLauncher: Send + Sync {
    /// Opens `url` (named `open_url`: `open` is a Swift keyword). Return quickly; the SDK waits for the redirect itself.
    ///
    /// # Errors
    /// The browser cannot be opened ([`FfiError::Cancelled`] when the user declined).
    fn open_url(&self, url: String) -> Result<(), FfiError>;
}

/// A host browser as the launcher sdk-core calls.
pub(crate) struct BrowserAdapter(pub(crate) Arc<dyn BrowserLauncher>);

#[zitadel_sdk::async_trait]
impl zitadel_sdk::BrowserLauncher for BrowserAdapter {
    async fn open(
        &self,
        url: &zitadel_sdk::Url,
        _redirect_uri: &zitadel_sdk::Url,
    ) -> zitadel_sdk::Result<Option<zitadel_sdk::Url>> {
        self.0
            .open_url(url.to_string())
            .map(|()| None)
            .map_err(FfiError::into_core)
    }
}

/// Cancels a long wait (a loopback login, a device-code poll) from another
/// thread or task. Cancelling a coroutine or Swift `Task` does the same.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancelHandle {
    pub(crate) token: CancellationToken,
}

#[uniffi::export]
impl CancelHandle {
    /// A handle not yet cancelled.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(CancelHandle::default())
    }

    /// Cancels the waits given this handle; they end with [`FfiError::Cancelled`].
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

#[uniffi::export]
impl ZitadelClient {
    /// Starts a browser login with the configured redirect URI and returns
    /// the URL to open. The login in flight is persisted, so
    /// [`complete_login`](Self::complete_login) works after an app restart.
    ///
    /// # Errors
    /// No redirect URI configured; discovery or store failures.
    pub async fn start_login(&self, options: LoginOptions) -> Result<String, FfiError> {
        let core = self.core.clone();
        run(None, async move {
            core.start_login(&options.into())
                .await
                .map(|u| u.to_string())
        })
        .await
    }

    /// Completes a browser login with the callback URL the browser was sent to.
    ///
    /// # Errors
    /// No login in flight, a state mismatch, an OAuth error, token validation.
    pub async fn complete_login(&self, callback_url: String) -> Result<SessionInfo, FfiError> {
        let core = self.core.clone();
        run(
            None,
            async move { core.complete_login(&callback_url).await },
        )
        .await
        .map(SessionInfo::from)
    }

    /// Whether `url` is the redirect of the login in flight (for embedded
    /// webviews: stop loading it and pass it to [`complete_login`](Self::complete_login)).
    pub fn is_login_callback(&self, url: String) -> bool {
        self.core.is_login_callback(&url)
    }

    /// Logs in through the system browser with a loopback redirect: binds a
    /// free port on 127.0.0.1, calls `browser`, waits up to `timeout_secs`
    /// for the redirect and completes the login.
    ///
    /// # Errors
    /// As [`complete_login`](Self::complete_login); [`FfiError::Expired`] when
    /// the wait times out; [`FfiError::Cancelled`] when `cancel` fires or the
    /// calling coroutine / task is cancelled.
    pub async fn login_with_loopback(
        &self,
        browser: Arc<dyn BrowserLauncher>,
        options: LoginOptions,
        timeout_secs: u32,
        cancel: Option<Arc<CancelHandle>>,
    ) -> Result<SessionInfo, FfiError> {
        let core = self.core.clone();
        let token = cancel.map(|c| c.token.child_token()).unwrap_or_default();
        let on_drop = token.clone();
        run(Some(on_drop), async move {
            core.login_with_loopback(
                &BrowserAdapter(browser),
                &options.into(),
                Duration::from_secs(timeout_secs.into()),
                &token,
            )
            .await
        })
        .await
        .map(SessionInfo::from)
    }
}
