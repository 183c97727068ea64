//! The device authorization grant (RFC 8628) for TVs, consoles and games:
//! [`ZitadelClient::start_device_login`] returns a [`DeviceLogin`] whose
//! codes the app shows, then [`DeviceLogin::wait`] polls until the user approved.

use crate::client::ZitadelClient;
use crate::error::FfiError;
use crate::runtime::run;
use crate::session::SessionInfo;
use std::sync::Arc;
use zitadel_sdk::{CancellationToken, DeviceAuthorization};

/// A device login in progress. The device code itself stays inside the SDK.
#[derive(Debug, uniffi::Object)]
pub struct DeviceLogin {
    core: zitadel_sdk::Client,
    auth: DeviceAuthorization,
    cancel: CancellationToken,
}

#[uniffi::export]
impl ZitadelClient {
    /// Starts a device login: returns the codes to show the user.
    ///
    /// # Errors
    /// The server offers no device authorization endpoint or rejects the client.
    pub async fn start_device_login(&self) -> Result<Arc<DeviceLogin>, FfiError> {
        let core = self.core.clone();
        let auth = run(None, {
            let core = core.clone();
            async move { core.start_device_login().await }
        })
        .await?;
        Ok(Arc::new(DeviceLogin {
            core,
            auth,
            cancel: CancellationToken::new(),
        }))
    }
}

#[uniffi::export]
impl DeviceLogin {
    /// The code the user types on the verification page, e.g. `BCDF-GHJK`.
    pub fn user_code(&self) -> String {
        self.auth.user_code.clone()
    }

    /// The page where the user enters the code.
    pub fn verification_uri(&self) -> String {
        self.auth.verification_uri.clone()
    }

    /// The page with the code filled in (for a QR code), when offered.
    pub fn verification_uri_complete(&self) -> Option<String> {
        self.auth.verification_uri_complete.clone()
    }

    /// Seconds the codes were valid for when issued.
    pub fn expires_in_secs(&self) -> u64 {
        self.auth.expires_in
    }

    /// Minimum seconds between two polls.
    pub fn interval_secs(&self) -> u64 {
        self.auth.interval
    }

    /// Polls until the user approved, then stores and returns the session.
    ///
    /// # Errors
    /// [`FfiError::Expired`] when the code expires, [`FfiError::AccessDenied`]
    /// when the user denies, [`FfiError::Cancelled`] after [`cancel`](Self::cancel)
    /// or when the calling coroutine / task is cancelled.
    pub async fn wait(&self) -> Result<SessionInfo, FfiError> {
        let core = self.core.clone();
        let auth = self.auth.clone();
        let token = self.cancel.child_token();
        let on_drop = token.clone();
        run(Some(on_drop), async move {
            core.complete_device_login(&auth, &token).await
        })
        .await
        .map(SessionInfo::from)
    }

    /// Cancels [`wait`](Self::wait), now and for any later call.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

impl DeviceLogin {
    /// The codes as JSON for the C ABI.
    pub(crate) fn codes_json(&self) -> String {
        serde_json::json!({
            "user_code": self.auth.user_code,
            "verification_uri": self.auth.verification_uri,
            "verification_uri_complete": self.auth.verification_uri_complete,
            "expires_in": self.auth.expires_in,
            "interval": self.auth.interval,
        })
        .to_string()
    }

    /// The parts the C ABI's tasks need.
    pub(crate) fn parts(&self) -> (zitadel_sdk::Client, DeviceAuthorization, CancellationToken) {
        (self.core.clone(), self.auth.clone(), self.cancel.clone())
    }

    pub(crate) fn from_parts(core: zitadel_sdk::Client, auth: DeviceAuthorization) -> Self {
        DeviceLogin {
            core,
            auth,
            cancel: CancellationToken::new(),
        }
    }
}
