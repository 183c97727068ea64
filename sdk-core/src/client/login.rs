//! Browser login (system browser with a loopback redirect, custom scheme,
//! app link or embedded webview) and the device authorization grant.

use super::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::loopback::LoopbackReceiver;
use crate::oidc::authorize::{self, LoginOptions, PendingLogin, RequestParams};
use crate::oidc::id_token::Expectations;
use crate::oidc::token::{self, DeviceAuthorization, TokenResponse};
use crate::platform::{BrowserLauncher, Event};
use crate::secret::Secret;
use crate::session::{self, SCHEMA, SessionInfo, StoredPending, StoredSession};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use url::Url;

/// How long a login in flight may take: a callback for a login started
/// longer ago than this is refused as expired (the user starts again).
pub(crate) const PENDING_LOGIN_TTL: i64 = 15 * 60;

impl Client {
    // ----- browser login -----

    /// Starts a browser login: builds the authorization URL (PKCE S256,
    /// `state`, `nonce`) and persists the login in flight, so
    /// [`complete_login`](Self::complete_login) works even after a restart.
    /// Uses the configured redirect URI.
    ///
    /// # Errors
    /// No redirect URI configured; discovery failures; store failures.
    pub async fn start_login(&self, opts: &LoginOptions) -> Result<Url> {
        let redirect = self
            .inner
            .redirect_uri
            .clone()
            .ok_or_else(|| Error::config("no redirect URI is configured"))?;
        self.start_login_with_redirect(&redirect, opts)
            .await
            .map(|(url, _)| url)
    }

    /// Builds and persists a login in flight; returns its URL and `state`.
    pub(crate) async fn start_login_with_redirect(
        &self,
        redirect: &Url,
        opts: &LoginOptions,
    ) -> Result<(Url, Secret)> {
        let provider = self.provider().await?;
        let redirect = redirect.to_string();
        let params = RequestParams {
            client_id: &self.inner.client_id,
            redirect_uri: &redirect,
            scopes: &self.inner.scopes,
            ui_locales: &self.inner.ui_locales,
        };
        let (url, pending) = authorize::build(&provider.metadata, &params, opts, self.now())?;
        let state = pending.state.clone();
        let stored = StoredPending {
            schema: SCHEMA,
            pending,
        };
        self.store_save(self.pending_key(), session::encode(&stored)?)
            .await?;
        Ok((url, state))
    }

    pub(super) async fn load_pending(&self) -> Result<PendingLogin> {
        let key = self.pending_key();
        let bytes = self
            .store_load(key.clone())
            .await?
            .ok_or(ErrorKind::NoPendingLogin(
                "no login was started for this account",
            ))?;
        Ok(session::decode::<StoredPending>(&key, &bytes)?.pending)
    }

    /// The login in flight, unless it was started more than
    /// [`PENDING_LOGIN_TTL`] ago (then it is removed and `Expired` returned).
    async fn load_fresh_pending(&self) -> Result<PendingLogin> {
        let pending = self.load_pending().await?;
        let age = self.now().saturating_sub(pending.created_at);
        if !(0..=PENDING_LOGIN_TTL).contains(&age) {
            let _ = self.store_delete(self.pending_key()).await;
            return Err(ErrorKind::Expired("the login in progress").into());
        }
        Ok(pending)
    }

    /// Whether `url` is a navigation to the redirect URI of the login in
    /// flight: an embedded webview calls this on each navigation and, when
    /// true, stops loading and passes the URL to [`complete_login`](Self::complete_login).
    /// Synchronous for navigation callbacks: it reads the store on the
    /// calling thread.
    pub fn is_login_callback(&self, url: &str) -> bool {
        let key = self.pending_key();
        let pending = self
            .inner
            .store
            .load(&key)
            .ok()
            .flatten()
            .and_then(|b| session::decode::<StoredPending>(&key, &b).ok());
        let (Ok(url), Some(StoredPending { pending, .. })) = (Url::parse(url), pending) else {
            return false;
        };
        Url::parse(&pending.redirect_uri).is_ok_and(|r| authorize::is_redirect_to(&url, &r))
    }

    /// Completes a browser login with the callback URL (the redirect the
    /// browser was sent to): checks `state` and `iss`, exchanges the code,
    /// validates the ID token, and stores the session.
    ///
    /// # Errors
    /// No login in flight; a state mismatch (the login in flight is kept);
    /// an OAuth error from the server; token validation failures.
    pub async fn complete_login(&self, callback_url: &str) -> Result<SessionInfo> {
        let callback = Url::parse(callback_url)
            .map_err(|_| Error::input("the callback is not a valid URL"))?;
        let pending = self.load_fresh_pending().await?;
        let provider = self.provider().await?;
        let code =
            authorize::parse_callback(&callback, &pending, &provider.metadata, &self.inner.issuer);
        let code = match code {
            Ok(c) => c,
            Err(e) => {
                // A denied or failed login is over; a forged state is not ours to end.
                if !matches!(
                    e.kind(),
                    ErrorKind::StateMismatch | ErrorKind::NoPendingLogin(_)
                ) {
                    let _ = self.store_delete(self.pending_key()).await;
                }
                return Err(e);
            }
        };
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", pending.redirect_uri.as_str()),
            ("client_id", self.inner.client_id.as_str()),
            ("code_verifier", pending.pkce_verifier.expose()),
        ];
        let result =
            token::token_request(&self.inner.http, &provider.metadata.token_endpoint, &form).await;
        // The code is single-use: whatever happened, this login is over.
        let _ = self.store_delete(self.pending_key()).await;
        let resp = result?;
        self.finish_login(resp, Some(&pending)).await
    }

    /// Logs in through the system browser with a loopback redirect (RFC 8252
    /// §7.3): binds an ephemeral loopback port, opens the browser, waits for
    /// the callback and completes the login.
    ///
    /// # Errors
    /// As [`complete_login`](Self::complete_login), plus the browser failing
    /// to open, the wait timing out ([`crate::ErrorCode::Expired`]) or being
    /// cancelled ([`crate::ErrorCode::Cancelled`]).
    pub async fn login_with_loopback(
        &self,
        browser: &dyn BrowserLauncher,
        opts: &LoginOptions,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<SessionInfo> {
        let template = match &self.inner.redirect_uri {
            Some(u) => u.clone(),
            None => Url::parse("http://127.0.0.1/callback")
                .map_err(|_| Error::internal("default redirect URI"))?,
        };
        let receiver = LoopbackReceiver::bind(&template).await?;
        let (url, state) = self
            .start_login_with_redirect(receiver.redirect_uri(), opts)
            .await?;
        let callback = tokio::select! {
            opened = browser.open(&url, receiver.redirect_uri()) => match opened? {
                Some(callback) => callback,
                None => receiver.wait(state.expose(), timeout, cancel).await?,
            },
            _ = cancel.cancelled() => return Err(ErrorKind::Cancelled.into()),
        };
        self.complete_login(callback.as_str()).await
    }

    /// Logs in with a launcher that returns the callback itself — an
    /// `ASWebAuthenticationSession`, an Auth Tab, an embedded webview — for
    /// the configured redirect URI (custom scheme or app link). With a
    /// loopback redirect URI this is [`login_with_loopback`](Self::login_with_loopback).
    ///
    /// # Errors
    /// As [`complete_login`](Self::complete_login); `Misconfigured` when the
    /// launcher returns no callback for a non-loopback redirect (pass it to
    /// `complete_login` when the app receives it instead); `Cancelled`.
    pub async fn login(
        &self,
        browser: &dyn BrowserLauncher,
        opts: &LoginOptions,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<SessionInfo> {
        let redirect = self
            .inner
            .redirect_uri
            .clone()
            .ok_or_else(|| Error::config("no redirect URI is configured"))?;
        if redirect.scheme() == "http" && crate::http::is_loopback_host(&redirect) {
            return self
                .login_with_loopback(browser, opts, timeout, cancel)
                .await;
        }
        let (url, _state) = self.start_login_with_redirect(&redirect, opts).await?;
        let opened = tokio::select! {
            opened = browser.open(&url, &redirect) => opened?,
            _ = cancel.cancelled() => return Err(ErrorKind::Cancelled.into()),
            _ = tokio::time::sleep(timeout) => return Err(ErrorKind::Expired("the wait for the browser").into()),
        };
        let callback = opened.ok_or_else(|| {
            Error::config(
                "the launcher returned no callback: pass the callback URL to complete_login when the app receives it",
            )
        })?;
        self.complete_login(callback.as_str()).await
    }

    async fn finish_login(
        &self,
        resp: TokenResponse,
        pending: Option<&PendingLogin>,
    ) -> Result<SessionInfo> {
        let id_token = resp.id_token.clone().ok_or_else(|| {
            Error::malformed(&self.inner.issuer, "the token response has no id_token")
        })?;
        let provider = self.provider().await?;
        let claims = self
            .validate_id_token(
                id_token.expose(),
                Expectations {
                    // The ID token's iss must equal the issuer exactly as discovery
                    // spells it (already checked to be the configured one).
                    issuer: &provider.metadata.issuer,
                    client_id: &self.inner.client_id,
                    nonce: pending.map(|p| p.nonce.expose()),
                    original_nonce: None,
                    max_age: pending.and_then(|p| p.max_age),
                    access_token: Some(resp.access_token.expose()),
                    previous_sub: None,
                    now: self.server_now(),
                    leeway: self.inner.leeway,
                },
            )
            .await?;
        let now = self.now();
        let session = StoredSession {
            schema: SCHEMA,
            issuer: self.inner.issuer.to_string(),
            client_id: self.inner.client_id.clone(),
            account: self.account.clone(),
            expires_at: super::expiry(now, resp.expires_in),
            scopes: resp
                .scope
                .as_deref()
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_else(|| self.inner.scopes.clone()),
            nonce: claims.get_str("nonce").map(str::to_owned),
            claims: Some(claims),
            access_token: resp.access_token,
            refresh_token: resp.refresh_token,
            id_token: Some(id_token),
            updated_at: now,
        };
        let slot = self.account_lock()?;
        let mut state = slot.state.lock().await;
        self.persist_session(&mut state, session).await?;
        let info = state
            .session
            .as_ref()
            .map(StoredSession::info)
            .ok_or_else(|| Error::internal("session missing"))?;
        drop(state);
        self.emit(Event::SignedIn {
            account: self.account.clone(),
            subject: info.subject.clone(),
        });
        Ok(info)
    }

    // ----- device authorization grant -----

    /// Starts a device login (RFC 8628): returns the codes to show the user.
    ///
    /// # Errors
    /// The server offers no device authorization endpoint, or rejects the client.
    pub async fn start_device_login(&self) -> Result<DeviceAuthorization> {
        let provider = self.provider().await?;
        let url = provider
            .metadata
            .device_authorization_endpoint
            .as_ref()
            .ok_or(ErrorKind::MissingEndpoint("device authorization"))?;
        token::device_authorization(
            &self.inner.http,
            url,
            &self.inner.client_id,
            &self.inner.scopes.join(" "),
        )
        .await
    }

    /// Polls until the user approved the device login, then stores the session.
    ///
    /// # Errors
    /// [`crate::ErrorCode::Expired`] when the code expires,
    /// [`crate::ErrorCode::AccessDenied`] when the user denies,
    /// [`crate::ErrorCode::Cancelled`] when `cancel` fires.
    pub async fn complete_device_login(
        &self,
        device: &DeviceAuthorization,
        cancel: &CancellationToken,
    ) -> Result<SessionInfo> {
        let provider = self.provider().await?;
        let resp = token::poll_device_token(
            &self.inner.http,
            &provider.metadata.token_endpoint,
            &self.inner.client_id,
            device,
            cancel,
        )
        .await?;
        self.finish_login(resp, None).await
    }
}
