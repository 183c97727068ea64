//! The signed-in session of an account: loading it, the single-flight
//! refresh, and what happens when the server ends the session.
//!
//! A refresh runs in a task of its own whose result every waiting caller
//! shares: a caller that is cancelled or dropped while the request is in
//! flight cannot lose the rotated refresh token, because the task still
//! validates and stores it. Across processes (and several `Client`s on one
//! store) refreshes are serialized by the store's lock
//! ([`crate::TokenStore::lock`]) and the stored session is re-read before a
//! refresh and after an `invalid_grant`, so a session another process already
//! rotated is adopted instead of wiped.

use super::Client;
use crate::error::{Error, ErrorKind, Result, TokenValidationError};
use crate::oidc::id_token::Expectations;
use crate::oidc::token::{self, TokenResponse};
use crate::platform::Event;
use crate::secret::Secret;
use crate::session::{self, SessionInfo, StoredSession};
use crate::store::StoreLock;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What a refresh hands every caller waiting for it.
type RefreshResult = Result<(Secret, SessionInfo)>;

/// One account's in-process state.
#[derive(Default)]
pub(super) struct AccountState {
    loaded: bool,
    pub(super) session: Option<StoredSession>,
    /// The latest session could not be written to the store; retried on the next call.
    unsaved: bool,
}

impl AccountState {
    /// Marks the account as signed out in memory (nothing left to save).
    pub(super) fn forget(&mut self) {
        self.session = None;
        self.loaded = true;
        self.unsaved = false;
    }
}

/// One account's state behind its own lock, and the refresh in flight.
#[derive(Default)]
pub(super) struct AccountSlot {
    pub(super) state: tokio::sync::Mutex<AccountState>,
    inflight: std::sync::Mutex<Option<watch::Receiver<Option<RefreshResult>>>>,
}

/// How long an `invalid_grant` waits before the store is read once more when
/// the store has no cross-process lock: long enough for another process that
/// won the rotation race to have saved its new refresh token.
const RACE_REREAD_DELAY: Duration = Duration::from_millis(250);

impl Client {
    /// Loads the account's session from the store once, and retries writing
    /// a session whose last save failed.
    pub(super) async fn load_state(&self, state: &mut AccountState) -> Result<()> {
        if state.unsaved
            && let Some(s) = &state.session
            && self
                .inner
                .store
                .save(&self.session_key(), &session::encode(s)?)
                .is_ok()
        {
            state.unsaved = false;
        }
        if state.loaded {
            return Ok(());
        }
        state.session = self.read_stored_session().await?;
        state.loaded = true;
        Ok(())
    }

    pub(super) async fn read_stored_session(&self) -> Result<Option<StoredSession>> {
        let key = self.session_key();
        match self.store_load(key.clone()).await? {
            Some(bytes) => Ok(Some(session::decode_session(&key, &bytes)?)),
            None => Ok(None),
        }
    }

    /// Re-reads the store and adopts what another process or `Client` wrote
    /// since this one last looked: a newer session, or none (signed out
    /// elsewhere). A session of ours that could not be saved stays: it is
    /// newer than anything stored. Returns whether the session changed.
    pub(super) async fn adopt_stored(&self, state: &mut AccountState) -> Result<bool> {
        if state.unsaved {
            return Ok(false);
        }
        let stored = self.read_stored_session().await?;
        let changed = match (&state.session, &stored) {
            (None, None) => false,
            (Some(mem), Some(st)) => {
                st.updated_at >= mem.updated_at
                    && (st.refresh_token != mem.refresh_token
                        || st.access_token != mem.access_token)
            }
            _ => true,
        };
        if changed {
            state.session = stored;
            state.loaded = true;
        }
        Ok(changed)
    }

    /// Takes the store's cross-process lock for this account's session (on a
    /// blocking thread: the lock may wait for another process).
    pub(super) async fn lock_store(&self) -> Result<Option<StoreLock>> {
        let store = self.inner.store.clone();
        let key = self.session_key();
        let wait = self.inner.lock_wait;
        tokio::task::spawn_blocking(move || store.lock(&key, wait))
            .await
            .map_err(|_| Error::internal("the store lock task failed"))?
    }

    /// The signed-in session of this account, if any. Makes no request.
    ///
    /// # Errors
    /// The store fails or holds unreadable data (nothing is deleted).
    pub async fn session(&self) -> Result<Option<SessionInfo>> {
        let slot = self.account_lock()?;
        let mut state = slot.state.lock().await;
        self.load_state(&mut state).await?;
        Ok(state.session.as_ref().map(StoredSession::info))
    }

    /// A valid access token, refreshed first when it expires within the
    /// refresh margin. However many callers ask at once, one refresh request
    /// is made; the rotated refresh token is stored before the token is
    /// returned, and stored even when every caller gave up waiting.
    ///
    /// # Errors
    /// [`crate::ErrorCode::NotSignedIn`]; [`crate::ErrorCode::SessionExpired`]
    /// when the server ended the session (it is then removed, other accounts
    /// untouched); [`crate::ErrorCode::Storage`] when the refreshed session
    /// cannot be saved (it is kept in memory and saved on the next call);
    /// network errors (the session is kept).
    pub async fn access_token(&self) -> Result<Secret> {
        if let Some(token) = self.cached_access_token() {
            return Ok(token);
        }
        self.refresh_inner(false).await.map(|s| s.0)
    }

    /// The access token held in memory, when it can be used as it is: the
    /// session was read from the store already, its last save succeeded,
    /// and the token does not expire within the refresh margin. `None`
    /// otherwise (then [`access_token`](Self::access_token) reads the
    /// store, refreshes or reports why not), and also while another call
    /// holds this account's session. Never waits: no store access, no
    /// request, no lock held by anyone else is waited for — for a render
    /// loop, or a caller on a thread that must not block.
    #[must_use]
    pub fn cached_access_token(&self) -> Option<Secret> {
        let slot = self.account_lock().ok()?;
        let state = slot.state.try_lock().ok()?;
        if !state.loaded || state.unsaved {
            return None;
        }
        let session = state.session.as_ref()?;
        self.usable_without_refresh(session, false)
            .then(|| session.access_token.clone())
    }

    /// Refreshes the tokens now, whatever their expiry. When another process
    /// refreshed this account's session meanwhile, its result is taken
    /// instead of a second refresh.
    ///
    /// # Errors
    /// As [`access_token`](Self::access_token).
    pub async fn refresh(&self) -> Result<SessionInfo> {
        self.refresh_inner(true).await.map(|s| s.1)
    }

    pub(super) async fn refresh_inner(&self, force: bool) -> RefreshResult {
        let slot = self.account_lock()?;
        if !force {
            let mut state = slot.state.lock().await;
            self.load_state(&mut state).await?;
            let current = state.session.as_ref().ok_or(ErrorKind::NotSignedIn)?;
            if self.usable_without_refresh(current, false) {
                return Ok((current.access_token.clone(), current.info()));
            }
        }
        let mut rx = self.join_or_start_refresh(&slot, force)?;
        let result = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| Error::internal("the refresh task ended without a result"))?;
        result
            .clone()
            .unwrap_or_else(|| Err(Error::internal("the refresh task ended without a result")))
    }

    /// Whether the session's access token may be used as it is: fresh, or
    /// (unless a refresh is forced) not refreshable but not expired either.
    fn usable_without_refresh(&self, s: &StoredSession, force: bool) -> bool {
        let now = self.now();
        if s.refresh_token.is_none() {
            return s.expires_at.is_some_and(|exp| exp > now);
        }
        !force && !needs_refresh(s, self.inner.refresh_margin, now)
    }

    /// The refresh in flight for this account, or a new one in a task of its
    /// own: it runs to the end (request, validation, save) even when every
    /// caller stops waiting, and all callers share its result.
    fn join_or_start_refresh(
        &self,
        slot: &Arc<AccountSlot>,
        force: bool,
    ) -> Result<watch::Receiver<Option<RefreshResult>>> {
        let mut inflight = slot
            .inflight
            .lock()
            .map_err(|_| Error::internal("refresh slot lock poisoned"))?;
        if let Some(rx) = inflight.as_ref() {
            // A task that died without publishing (a panic) is not joined.
            let alive = rx.has_changed().is_ok() || rx.borrow().is_some();
            if alive {
                return Ok(rx.clone());
            }
        }
        let (tx, rx) = watch::channel(None);
        *inflight = Some(rx.clone());
        let client = self.clone();
        let slot = slot.clone();
        tokio::spawn(async move {
            let result = client.refresh_now(force).await;
            // Publish first, then clear: a caller arriving in between still gets this result.
            let _ = tx.send(Some(result));
            if let Ok(mut f) = slot.inflight.lock() {
                *f = None;
            }
        });
        Ok(rx)
    }

    /// The refresh itself, under the account's lock and the store's lock.
    async fn refresh_now(&self, force: bool) -> RefreshResult {
        let slot = self.account_lock()?;
        let mut state = slot.state.lock().await;
        self.load_state(&mut state).await?;
        let guard = self.lock_store().await?;
        // Another process may have refreshed (or signed out) while we waited.
        let adopted = self.adopt_stored(&mut state).await?;
        let mut current = state.session.clone().ok_or(ErrorKind::NotSignedIn)?;
        if self.usable_without_refresh(&current, force && !adopted) {
            return Ok((current.access_token.clone(), current.info()));
        }
        let provider = self.provider().await?;
        let mut retried = false;
        loop {
            let Some(refresh_token) = current.refresh_token.clone() else {
                return Err(self.expire(&mut state, None).await);
            };
            let form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose()),
                ("client_id", self.inner.client_id.as_str()),
            ];
            let resp =
                token::token_request(&self.inner.http, &provider.metadata.token_endpoint, &form)
                    .await;
            match resp {
                Ok(resp) => {
                    return self
                        .apply_refresh(&mut state, &current, resp, &provider.metadata.issuer)
                        .await;
                }
                Err(e) if e.oauth_error() == Some("invalid_grant") => {
                    // Someone else may have rotated the token first: take theirs.
                    if !retried && self.adopt_rotated(&mut state, guard.is_none()).await? {
                        retried = true;
                        current = state.session.clone().ok_or(ErrorKind::NotSignedIn)?;
                        if self.usable_without_refresh(&current, false) {
                            return Ok((current.access_token.clone(), current.info()));
                        }
                        continue;
                    }
                    return Err(self.expire(&mut state, Some(&refresh_token)).await);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// After an `invalid_grant`: whether the store now holds another session
    /// than the one refused (another process or client rotated it). Without a
    /// cross-process lock the winner may still be saving: read once more after
    /// a short pause.
    async fn adopt_rotated(&self, state: &mut AccountState, unlocked: bool) -> Result<bool> {
        if self.adopt_stored(state).await? {
            return Ok(state.session.is_some());
        }
        if unlocked {
            tokio::time::sleep(RACE_REREAD_DELAY).await;
            if self.adopt_stored(state).await? {
                return Ok(state.session.is_some());
            }
        }
        Ok(false)
    }

    /// Validates and stores a refresh response.
    async fn apply_refresh(
        &self,
        state: &mut AccountState,
        current: &StoredSession,
        resp: TokenResponse,
        issuer: &str,
    ) -> RefreshResult {
        let now = self.now();
        let claims = match &resp.id_token {
            Some(id) => {
                let checked = self
                    .validate_id_token(
                        id.expose(),
                        Expectations {
                            issuer,
                            client_id: &self.inner.client_id,
                            nonce: None,
                            original_nonce: current.nonce.as_deref(),
                            max_age: None,
                            access_token: Some(resp.access_token.expose()),
                            previous_sub: current.claims.as_ref().map(|c| c.sub.as_str()),
                            now: self.server_now(),
                            leeway: self.inner.leeway,
                        },
                    )
                    .await;
                match checked {
                    Ok(c) => Some(c),
                    Err(e) => {
                        // The server has rotated the refresh token already: keep the
                        // new one (never the unvalidated tokens), or the session is lost.
                        if let Some(rt) = resp.refresh_token {
                            let mut kept = current.clone();
                            kept.refresh_token = Some(rt);
                            kept.updated_at = now;
                            self.persist_session(state, kept).await?;
                        }
                        return Err(e);
                    }
                }
            }
            None => None,
        };
        let mut next = current.clone();
        next.expires_at = super::expiry(now, resp.expires_in);
        if let Some(scope) = &resp.scope {
            next.scopes = scope.split_whitespace().map(str::to_owned).collect();
        }
        if let Some(rt) = resp.refresh_token {
            next.refresh_token = Some(rt);
        }
        if let Some(c) = claims {
            next.claims = Some(c);
            next.id_token = resp.id_token;
        }
        next.access_token = resp.access_token;
        next.updated_at = now;
        let token = next.access_token.clone();
        let info = next.info();
        self.persist_session(state, next).await?;
        self.emit(Event::Refreshed {
            account: self.account.clone(),
        });
        Ok((token, info))
    }

    /// Writes the session to the store, then to memory. On a store failure
    /// the session is kept in memory (marked unsaved, written again on the
    /// next call) and the Storage error returned.
    pub(super) async fn persist_session(
        &self,
        state: &mut AccountState,
        session: StoredSession,
    ) -> Result<()> {
        let bytes = session::encode(&session)?;
        let saved = self.store_save(self.session_key(), bytes).await;
        state.loaded = true;
        state.session = Some(session);
        state.unsaved = saved.is_err();
        saved
    }

    /// Ends this account's session locally after the server refused it.
    /// Only a stored session that still holds the refused refresh token is
    /// deleted: one another process stored meanwhile stays.
    async fn expire(&self, state: &mut AccountState, refused: Option<&Secret>) -> Error {
        let unchanged = match self.read_stored_session().await {
            Ok(Some(stored)) => stored.refresh_token.as_ref() == refused,
            Ok(None) | Err(_) => false,
        };
        if unchanged {
            let _ = self.store_delete(self.session_key()).await;
        }
        state.forget();
        self.emit(Event::SessionExpired {
            account: self.account.clone(),
        });
        ErrorKind::SessionExpired.into()
    }

    /// The userinfo of the signed-in user; its `sub` must equal the ID token's.
    ///
    /// # Errors
    /// Not signed in; the server offers no userinfo endpoint; a `sub` mismatch.
    pub async fn userinfo(&self) -> Result<crate::session::UserInfo> {
        let (token, session) = self.refresh_inner(false).await?;
        let provider = self.provider().await?;
        let url = provider
            .metadata
            .userinfo_endpoint
            .as_ref()
            .ok_or(ErrorKind::MissingEndpoint("userinfo"))?;
        let info: serde_json::Map<String, serde_json::Value> = self
            .inner
            .http
            .get_json_with(url, Some(token.expose()))
            .await?;
        let sub = info.get("sub").and_then(|s| s.as_str());
        if sub != Some(session.subject.as_str()) || session.subject.is_empty() {
            return Err(Error::token(TokenValidationError::UserinfoSubject));
        }
        serde_json::from_value(serde_json::Value::Object(info))
            .map_err(|_| Error::malformed(url, "a userinfo claim has an unexpected type"))
    }
}

/// Whether a session's access token should be refreshed at `now`: inside
/// the refresh margin before expiry, but never in the first half of the
/// token's lifetime (so a token shorter-lived than the margin is not
/// refreshed again by every caller that waited on the refresh).
fn needs_refresh(s: &StoredSession, margin: i64, now: i64) -> bool {
    let Some(exp) = s.expires_at else {
        return false;
    };
    let lifetime = exp.saturating_sub(s.updated_at).max(0);
    now >= exp.saturating_sub(margin.min(lifetime / 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SCHEMA;

    fn session(updated_at: i64, expires_at: Option<i64>) -> StoredSession {
        StoredSession {
            schema: SCHEMA,
            issuer: "https://idp.example".into(),
            client_id: "app".into(),
            account: "default".into(),
            access_token: Secret::new("at"),
            refresh_token: None,
            id_token: None,
            expires_at,
            scopes: vec![],
            claims: None,
            nonce: None,
            updated_at,
        }
    }

    #[test]
    fn refresh_happens_inside_the_margin_before_expiry() {
        let s = session(0, Some(3600));
        assert!(!needs_refresh(&s, 30, 3000));
        assert!(needs_refresh(&s, 30, 3571));
        assert!(needs_refresh(&s, 30, 4000));
    }

    #[test]
    fn short_lived_tokens_are_not_refreshed_in_their_first_half() {
        let s = session(100, Some(110));
        assert!(!needs_refresh(&s, 30, 100));
        assert!(!needs_refresh(&s, 30, 104));
        assert!(needs_refresh(&s, 30, 105));
    }

    #[test]
    fn tokens_without_expiry_are_used_as_they_are() {
        assert!(!needs_refresh(&session(0, None), 30, 1_000_000));
    }

    #[test]
    fn extreme_expiry_values_do_not_overflow() {
        assert!(needs_refresh(&session(i64::MAX, Some(i64::MIN)), 30, 0));
        assert!(!needs_refresh(&session(i64::MIN, Some(i64::MAX)), 30, 0));
    }
}
