//! Logout: revocation plus local wipe, and the end-session URL for the
//! browser's SSO session.

use super::Client;
use crate::error::{ErrorCode, ErrorKind, Result};
use crate::oidc::token;
use crate::platform::Event;
use url::Url;

/// What [`Client::logout`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogoutResult {
    /// Whether the server confirmed the revocation of the tokens. The local
    /// session is wiped either way.
    pub revoked: bool,
    /// The stored session could not be read (damaged, or written by a newer
    /// SDK): it was removed without revoking its tokens, which expire on
    /// their own at the server.
    pub unreadable_session_removed: bool,
}

impl Client {
    /// The URL that ends the browser (SSO) session: the end-session endpoint
    /// with `id_token_hint`, `client_id`, and the optional
    /// `post_logout_redirect_uri` and `state`. Call it before [`logout`](Self::logout),
    /// which wipes the ID token.
    ///
    /// # Errors
    /// Not signed in, or the server offers no end-session endpoint.
    pub async fn end_session_url(
        &self,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
    ) -> Result<Url> {
        let provider = self.provider().await?;
        let mut url = provider
            .metadata
            .end_session_endpoint
            .clone()
            .ok_or(ErrorKind::MissingEndpoint("end session"))?;
        let slot = self.account_lock()?;
        let mut st = slot.state.lock().await;
        self.load_state(&mut st).await?;
        let session = st.session.as_ref().ok_or(ErrorKind::NotSignedIn)?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(id) = &session.id_token {
                q.append_pair("id_token_hint", id.expose());
            }
            q.append_pair("client_id", &self.inner.client_id);
            if let Some(p) = post_logout_redirect_uri {
                q.append_pair("post_logout_redirect_uri", p);
            }
            if let Some(s) = state {
                q.append_pair("state", s);
            }
            if !self.inner.ui_locales.is_empty() {
                q.append_pair("ui_locales", &self.inner.ui_locales.join(" "));
            }
        }
        Ok(url)
    }

    /// Signs out: revokes the refresh and access tokens (RFC 7009) and wipes
    /// the stored session and any login in flight. The local wipe happens
    /// even when revocation fails, and also when the stored session cannot be
    /// read (it is removed; see [`LogoutResult::unreadable_session_removed`]).
    ///
    /// # Errors
    /// Only a store failure while wiping.
    pub async fn logout(&self) -> Result<LogoutResult> {
        let slot = self.account_lock()?;
        let mut state = slot.state.lock().await;
        let mut unreadable = false;
        match self.load_state(&mut state).await {
            Ok(()) => {}
            Err(e) if e.code() == ErrorCode::Storage && self.session_entry_exists().await => {
                unreadable = true;
            }
            Err(e) => return Err(e),
        }
        // Serialize with refreshes in other processes, and revoke what they stored last.
        let _guard = self.lock_store().await?;
        if !unreadable && self.adopt_stored(&mut state).await.is_err() {
            unreadable = true;
        }
        let session = if unreadable {
            None
        } else {
            state.session.clone()
        };
        let mut revoked = !unreadable;
        if let Some(session) = &session {
            revoked = false;
            if let Ok(provider) = self.provider().await
                && let Some(url) = &provider.metadata.revocation_endpoint
            {
                let http = &self.inner.http;
                let cid = &self.inner.client_id;
                let rt_ok = match &session.refresh_token {
                    Some(rt) => token::revoke(http, url, cid, rt, "refresh_token")
                        .await
                        .is_ok(),
                    None => true,
                };
                let at_ok = token::revoke(http, url, cid, &session.access_token, "access_token")
                    .await
                    .is_ok();
                revoked = rt_ok && at_ok;
            }
        }
        let pending = self.store_delete(self.pending_key()).await;
        self.store_delete(self.session_key()).await?;
        pending?;
        state.session = None;
        state.forget();
        drop(state);
        if session.is_some() || unreadable {
            self.emit(Event::SignedOut {
                account: self.account.clone(),
            });
        }
        Ok(LogoutResult {
            revoked,
            unreadable_session_removed: unreadable,
        })
    }

    /// Whether the store holds an entry under this account's session key
    /// (readable or not). A failing store counts as "no".
    async fn session_entry_exists(&self) -> bool {
        matches!(self.store_load(self.session_key()).await, Ok(Some(_)))
    }
}
