//! The signed-in session: [`ZitadelClient::session`],
//! [`ZitadelClient::access_token`], [`ZitadelClient::refresh`],
//! [`ZitadelClient::userinfo`], [`ZitadelClient::end_session_url`] and
//! [`ZitadelClient::logout`].

use crate::client::ZitadelClient;
use crate::error::FfiError;
use crate::runtime::run;

/// A signed-in account. Holds no tokens.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SessionInfo {
    /// The account name the session is stored under.
    pub account: String,
    /// The user id (`sub`).
    pub subject: String,
    /// Access token expiry, seconds since the Unix epoch.
    pub expires_at: Option<i64>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Whether the session can be refreshed.
    pub has_refresh_token: bool,
    /// Every claim of the validated ID token as a JSON object (`"{}"` when
    /// there is none). Personal data: do not log it.
    pub claims_json: String,
}

impl From<zitadel_sdk::SessionInfo> for SessionInfo {
    fn from(s: zitadel_sdk::SessionInfo) -> Self {
        let claims_json = s
            .claims
            .as_ref()
            .map(|c| serde_json::Value::Object(c.all.clone()).to_string())
            .unwrap_or_else(|| "{}".into());
        SessionInfo {
            account: s.account,
            subject: s.subject,
            expires_at: s.expires_at,
            scopes: s.scopes,
            has_refresh_token: s.has_refresh_token,
            claims_json,
        }
    }
}

impl SessionInfo {
    /// The session as JSON for the C ABI (`claims` as an object).
    pub(crate) fn to_json(&self) -> String {
        let claims: serde_json::Value =
            serde_json::from_str(&self.claims_json).unwrap_or(serde_json::Value::Null);
        serde_json::json!({
            "account": self.account,
            "subject": self.subject,
            "expires_at": self.expires_at,
            "scopes": self.scopes,
            "has_refresh_token": self.has_refresh_token,
            "claims": claims,
        })
        .to_string()
    }
}

/// What [`ZitadelClient::logout`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct LogoutResult {
    /// Whether the server confirmed the revocation; the local session is wiped either way.
    pub revoked: bool,
}

#[uniffi::export]
impl ZitadelClient {
    /// The signed-in session of this account, if any. Makes no request.
    ///
    /// # Errors
    /// The store fails or holds unreadable data.
    pub async fn session(&self) -> Result<Option<SessionInfo>, FfiError> {
        let core = self.core.clone();
        run(None, async move { core.session().await })
            .await
            .map(|s| s.map(SessionInfo::from))
    }

    /// A valid access token, refreshed first when it is about to expire.
    /// However many callers ask at once, one refresh request is made.
    ///
    /// # Security
    /// The token is a bearer credential: send it only to the APIs, never log it.
    ///
    /// # Errors
    /// [`FfiError::NotSignedIn`]; [`FfiError::SessionExpired`] when the server
    /// ended the session; [`FfiError::RetryLater`] on network errors.
    pub async fn access_token(&self) -> Result<String, FfiError> {
        // A usable token in memory is returned on the caller's thread: no
        // hop onto the SDK's runtime (see `cached_access_token`).
        if let Some(token) = self.cached_access_token() {
            return Ok(token);
        }
        let core = self.core.clone();
        run(None, async move {
            core.access_token().await.map(|t| t.expose().to_owned())
        })
        .await
    }

    /// The access token already in memory when it can be used as it is (read
    /// from the store before, saved, not expiring within the refresh margin);
    /// `null`/`nil` otherwise — then call [`access_token`](Self::access_token).
    /// Synchronous and never waits: no store access, no request, no lock
    /// held by another call is waited for; safe on a UI or render thread.
    ///
    /// # Security
    /// As [`access_token`](Self::access_token).
    pub fn cached_access_token(&self) -> Option<String> {
        self.core
            .cached_access_token()
            .map(|t| t.expose().to_owned())
    }

    /// Refreshes the tokens now.
    ///
    /// # Errors
    /// As [`access_token`](Self::access_token).
    pub async fn refresh(&self) -> Result<SessionInfo, FfiError> {
        let core = self.core.clone();
        run(None, async move { core.refresh().await })
            .await
            .map(SessionInfo::from)
    }

    /// The userinfo of the signed-in user as a JSON object.
    ///
    /// # Errors
    /// Not signed in; the server offers no userinfo endpoint; a `sub` mismatch.
    pub async fn userinfo(&self) -> Result<String, FfiError> {
        let core = self.core.clone();
        run(None, async move {
            core.userinfo().await.map(|u| u.to_json_string())
        })
        .await
    }

    /// The URL that ends the browser (SSO) session; call it before [`logout`](Self::logout).
    ///
    /// # Errors
    /// Not signed in, or the server offers no end-session endpoint.
    pub async fn end_session_url(
        &self,
        post_logout_redirect_uri: Option<String>,
        state: Option<String>,
    ) -> Result<String, FfiError> {
        let core = self.core.clone();
        run(None, async move {
            core.end_session_url(post_logout_redirect_uri.as_deref(), state.as_deref())
                .await
                .map(|u| u.to_string())
        })
        .await
    }

    /// Signs out: revokes the tokens and wipes the stored session (the wipe
    /// happens even when the revocation fails).
    ///
    /// # Errors
    /// Only a store failure while wiping.
    pub async fn logout(&self) -> Result<LogoutResult, FfiError> {
        let core = self.core.clone();
        run(None, async move { core.logout().await })
            .await
            .map(|r| LogoutResult { revoked: r.revoked })
    }
}
