//! [`Client`] and [`ClientBuilder`]: the entry point of the SDK.

use crate::error::{Error, ErrorKind, Result, TokenValidationError};
use crate::http::{Http, require_secure};
use crate::loopback::LoopbackReceiver;
use crate::oidc::authorize::{self, LoginOptions, PendingLogin, RequestParams};
use crate::oidc::discovery::ProviderMetadata;
use crate::oidc::id_token::{self, Expectations};
use crate::oidc::token::{self, DeviceAuthorization, TokenResponse};
use crate::platform::{BrowserLauncher, Clock, Event, EventListener, SystemClock};
use crate::secret::Secret;
use crate::session::{self, SCHEMA, SessionInfo, StoredPending, StoredProvider, StoredSession};
use crate::store::{MemoryStore, TokenStore};
use jsonwebtoken::jwk::Jwk;
use sha2::Digest;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use url::Url;

/// Scopes asked for when none are configured: an ID token with profile and
/// email, a refresh token, and an access token the ZITADEL APIs accept.
pub const DEFAULT_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "offline_access",
    "urn:zitadel:iam:org:project:id:zitadel:aud",
];

/// How long a cached discovery document is trusted before it is fetched again.
const DISCOVERY_TTL: i64 = 24 * 3600;

/// Builds a [`Client`].
pub struct ClientBuilder {
    issuer: String,
    client_id: String,
    redirect_uri: Option<String>,
    scopes: Option<Vec<String>>,
    org_scope: Option<Result<String>>,
    ui_locales: Vec<String>,
    account: String,
    store: Option<Arc<dyn TokenStore>>,
    clock: Arc<dyn Clock>,
    leeway: Duration,
    refresh_margin: Duration,
    timeout: Duration,
    jwks_cooldown: Duration,
}

impl ClientBuilder {
    /// The redirect URI: a loopback URL (`http://127.0.0.1/callback`; the
    /// port is chosen per login), a custom scheme (`com.example.app:/callback`)
    /// or an HTTPS app link.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// Replaces the scopes (default: [`DEFAULT_SCOPES`]). `openid` is always added.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Restricts login to the organization with this id (ZITADEL scope
    /// `urn:zitadel:iam:org:id:{id}`), applying its branding and policies.
    pub fn organization_id(mut self, id: &str) -> Self {
        self.org_scope = Some(check_scope_value(id).map(|v| format!("urn:zitadel:iam:org:id:{v}")));
        self
    }

    /// Restricts login to the organization with this primary domain (ZITADEL
    /// scope `urn:zitadel:iam:org:domain:primary:{domain}`).
    pub fn organization_domain(mut self, domain: &str) -> Self {
        self.org_scope = Some(
            check_scope_value(domain).map(|v| format!("urn:zitadel:iam:org:domain:primary:{v}")),
        );
        self
    }

    /// Preferred languages, most preferred first (`ui_locales`, `Accept-Language`).
    pub fn ui_locales<I, S>(mut self, locales: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ui_locales = locales.into_iter().map(Into::into).collect();
        self
    }

    /// The account name sessions are stored under (default `"default"`).
    /// Several accounts live side by side; see [`Client::for_account`].
    pub fn account(mut self, name: impl Into<String>) -> Self {
        self.account = name.into();
        self
    }

    /// The token store (default: in memory only).
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Tolerated clock skew when checking token times (default 60 s).
    pub fn clock_skew_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Refresh the access token when it expires within this margin (default 30 s).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Timeout of each HTTP request (default 30 s).
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Minimum time between two JWKS refetches for an unknown key id (default 60 s).
    pub fn jwks_refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.jwks_cooldown = cooldown;
        self
    }

    /// Builds the client. Makes no network request.
    ///
    /// # Errors
    /// [`crate::ErrorCode::Misconfigured`] for an invalid or insecure issuer or
    /// redirect URI, an empty client id, or an invalid organization value.
    pub fn build(self) -> Result<Client> {
        let issuer =
            Url::parse(&self.issuer).map_err(|_| Error::config("the issuer is not a valid URL"))?;
        require_secure(&issuer)?;
        if issuer.query().is_some() || issuer.fragment().is_some() {
            return Err(Error::config(
                "the issuer must not have a query or fragment",
            ));
        }
        if self.client_id.trim().is_empty() {
            return Err(Error::config("the client id is empty"));
        }
        let redirect_uri = match &self.redirect_uri {
            Some(r) => {
                let u = Url::parse(r)
                    .map_err(|_| Error::config("the redirect URI is not a valid URL"))?;
                if u.scheme() == "http" && !crate::http::is_loopback_host(&u) {
                    return Err(Error::config("an http redirect URI must be on loopback"));
                }
                Some(u)
            }
            None => None,
        };
        let mut scopes: Vec<String> = self
            .scopes
            .unwrap_or_else(|| DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect());
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".into());
        }
        if let Some(org) = self.org_scope {
            let org = org?;
            if !scopes.contains(&org) {
                scopes.push(org);
            }
        }
        if scopes
            .iter()
            .any(|s| s.is_empty() || s.contains(char::is_whitespace))
        {
            return Err(Error::config("a scope is empty or contains whitespace"));
        }
        if self.account.is_empty() {
            return Err(Error::config("the account name is empty"));
        }
        let http = Http::new(self.timeout, &self.ui_locales, self.clock.clone())?;
        let inner = Inner {
            issuer,
            client_id: self.client_id,
            redirect_uri,
            scopes,
            ui_locales: self.ui_locales,
            store: self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
            clock: self.clock,
            leeway: self.leeway.as_secs() as i64,
            refresh_margin: self.refresh_margin.as_secs() as i64,
            jwks_cooldown: self.jwks_cooldown,
            http,
            provider: tokio::sync::Mutex::new(None),
            last_jwks_refetch: Mutex::new(None),
            accounts: Mutex::new(HashMap::new()),
            listeners: RwLock::new(Vec::new()),
        };
        Ok(Client {
            inner: Arc::new(inner),
            account: self.account,
        })
    }
}

fn check_scope_value(v: &str) -> Result<&str> {
    if v.is_empty()
        || v.len() > 200
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
    {
        Err(Error::config(
            "an organization id or domain may only contain letters, digits, '-', '.' and '_'",
        ))
    } else {
        Ok(v)
    }
}

/// The provider's metadata and signing keys, as cached.
struct ProviderState {
    metadata: ProviderMetadata,
    jwks: serde_json::Value,
    keys: Vec<Jwk>,
    fetched_at: i64,
}

/// One account's in-process state, behind its own lock: the single-flight
/// point for refreshes.
#[derive(Default)]
struct AccountState {
    loaded: bool,
    session: Option<StoredSession>,
    /// The latest session could not be written to the store; retried on the next call.
    unsaved: bool,
}

struct Inner {
    issuer: Url,
    client_id: String,
    redirect_uri: Option<Url>,
    scopes: Vec<String>,
    ui_locales: Vec<String>,
    store: Arc<dyn TokenStore>,
    clock: Arc<dyn Clock>,
    leeway: i64,
    refresh_margin: i64,
    jwks_cooldown: Duration,
    http: Http,
    provider: tokio::sync::Mutex<Option<Arc<ProviderState>>>,
    last_jwks_refetch: Mutex<Option<std::time::Instant>>,
    accounts: Mutex<HashMap<String, Arc<tokio::sync::Mutex<AccountState>>>>,
    listeners: RwLock<Vec<Arc<dyn EventListener>>>,
}

/// The SDK client for one issuer and client id, bound to one account.
/// Cheap to clone; clones share caches, locks and listeners.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    account: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("issuer", &self.inner.issuer.as_str())
            .field("client_id", &self.inner.client_id)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// What [`Client::logout`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogoutResult {
    /// Whether the server confirmed the revocation of the tokens. The local
    /// session is wiped either way.
    pub revoked: bool,
}

/// A [`BrowserLauncher`] from a closure.
pub struct FnBrowser<F>(pub F);

impl<F> BrowserLauncher for FnBrowser<F>
where
    F: Fn(&Url) -> Result<()> + Send + Sync,
{
    fn open(&self, url: &Url) -> Result<()> {
        (self.0)(url)
    }
}

fn hash16(parts: &[&str]) -> String {
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Client {
    /// Starts building a client for `issuer` (e.g. `https://my-instance.zitadel.cloud`)
    /// and the app's `client_id`.
    pub fn builder(issuer: impl Into<String>, client_id: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            issuer: issuer.into(),
            client_id: client_id.into(),
            redirect_uri: None,
            scopes: None,
            org_scope: None,
            ui_locales: Vec::new(),
            account: "default".into(),
            store: None,
            clock: Arc::new(SystemClock),
            leeway: Duration::from_secs(60),
            refresh_margin: Duration::from_secs(30),
            timeout: Duration::from_secs(30),
            jwks_cooldown: Duration::from_secs(60),
        }
    }

    /// The same client bound to another account; accounts are stored side by side.
    pub fn for_account(&self, account: impl Into<String>) -> Client {
        Client {
            inner: self.inner.clone(),
            account: account.into(),
        }
    }

    /// The account this client is bound to.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &Url {
        &self.inner.issuer
    }

    /// The scopes sent with each authorization request.
    pub fn scopes(&self) -> &[String] {
        &self.inner.scopes
    }

    /// Registers a listener for session events.
    pub fn add_listener(&self, listener: Arc<dyn EventListener>) {
        if let Ok(mut l) = self.inner.listeners.write() {
            l.push(listener);
        }
    }

    fn emit(&self, event: Event) {
        if let Ok(l) = self.inner.listeners.read() {
            for listener in l.iter() {
                listener.on_event(&event);
            }
        }
    }

    fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// Our clock corrected by the server's `Date` header: for checking the
    /// server's token times (`exp`, `iat`, `auth_time`).
    fn server_now(&self) -> i64 {
        self.now() + self.inner.http.server_skew()
    }

    fn account_hash(&self) -> String {
        hash16(&[
            self.inner.issuer.as_str(),
            &self.inner.client_id,
            &self.account,
        ])
    }
    fn session_key(&self) -> String {
        format!("session-{}", self.account_hash())
    }
    fn pending_key(&self) -> String {
        format!("pending-{}", self.account_hash())
    }
    fn provider_key(&self) -> String {
        format!("provider-{}", hash16(&[self.inner.issuer.as_str()]))
    }

    fn account_lock(&self) -> Result<Arc<tokio::sync::Mutex<AccountState>>> {
        let mut map = self
            .inner
            .accounts
            .lock()
            .map_err(|_| Error::internal("account map lock poisoned"))?;
        Ok(map.entry(self.account.clone()).or_default().clone())
    }

    // ----- provider metadata and keys -----

    /// The provider's metadata, from memory, the store, or the network (in
    /// that order); the discovery document and JWKS are cached together.
    ///
    /// # Errors
    /// Network failures, a malformed document, or an issuer mismatch.
    pub async fn provider_metadata(&self) -> Result<ProviderMetadata> {
        Ok(self.provider().await?.metadata.clone())
    }

    async fn provider(&self) -> Result<Arc<ProviderState>> {
        let mut slot = self.inner.provider.lock().await;
        let now = self.now();
        if let Some(p) = slot.as_ref()
            && now - p.fetched_at < DISCOVERY_TTL
        {
            return Ok(p.clone());
        }
        let key = self.provider_key();
        if let Ok(Some(bytes)) = self.inner.store.load(&key) {
            // A damaged cache entry is only a cache miss.
            if let Ok(stored) = session::decode::<StoredProvider>(&key, &bytes)
                && now - stored.fetched_at < DISCOVERY_TTL
                && stored.metadata.validate(&self.inner.issuer).is_ok()
            {
                let p = Arc::new(ProviderState {
                    keys: id_token::parse_jwks(&stored.jwks),
                    metadata: stored.metadata,
                    jwks: stored.jwks,
                    fetched_at: stored.fetched_at,
                });
                *slot = Some(p.clone());
                return Ok(p);
            }
        }
        let metadata = ProviderMetadata::fetch(&self.inner.http, &self.inner.issuer).await?;
        let jwks: serde_json::Value = self.inner.http.get_json(&metadata.jwks_uri).await?;
        let p = Arc::new(ProviderState {
            keys: id_token::parse_jwks(&jwks),
            metadata,
            jwks,
            fetched_at: now,
        });
        self.persist_provider(&p);
        *slot = Some(p.clone());
        Ok(p)
    }

    fn persist_provider(&self, p: &ProviderState) {
        let stored = StoredProvider {
            schema: SCHEMA,
            metadata: p.metadata.clone(),
            jwks: p.jwks.clone(),
            fetched_at: p.fetched_at,
        };
        // The cache is an optimisation: failing to write it fails nothing.
        if let Ok(bytes) = session::encode(&stored) {
            let _ = self.inner.store.save(&self.provider_key(), &bytes);
        }
    }

    /// Refetches the JWKS once for an unknown key id, at most once per cooldown.
    async fn refetch_jwks(&self) -> Result<Option<Arc<ProviderState>>> {
        {
            let mut last = self
                .inner
                .last_jwks_refetch
                .lock()
                .map_err(|_| Error::internal("lock poisoned"))?;
            if last.is_some_and(|t| t.elapsed() < self.inner.jwks_cooldown) {
                return Ok(None);
            }
            *last = Some(std::time::Instant::now());
        }
        let current = self.provider().await?;
        let jwks: serde_json::Value = self.inner.http.get_json(&current.metadata.jwks_uri).await?;
        let p = Arc::new(ProviderState {
            keys: id_token::parse_jwks(&jwks),
            metadata: current.metadata.clone(),
            jwks,
            fetched_at: current.fetched_at,
        });
        self.persist_provider(&p);
        *self.inner.provider.lock().await = Some(p.clone());
        Ok(Some(p))
    }

    async fn validate_id_token(
        &self,
        token: &str,
        exp: Expectations<'_>,
    ) -> Result<crate::IdTokenClaims> {
        let (header, alg) = id_token::parse_header(token)?;
        let provider = self.provider().await?;
        if let Some(k) = id_token::select_key(&provider.keys, header.kid.as_deref(), alg) {
            return id_token::verify(token, alg, k, &exp);
        }
        match self.refetch_jwks().await? {
            Some(p) => match id_token::select_key(&p.keys, header.kid.as_deref(), alg) {
                Some(k) => id_token::verify(token, alg, k, &exp),
                None => Err(Error::token(TokenValidationError::UnknownKey)),
            },
            None => Err(Error::token(TokenValidationError::UnknownKey)),
        }
    }

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
    async fn start_login_with_redirect(
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
        self.inner
            .store
            .save(&self.pending_key(), &session::encode(&stored)?)?;
        Ok((url, state))
    }

    fn load_pending(&self) -> Result<PendingLogin> {
        let key = self.pending_key();
        let bytes = self
            .inner
            .store
            .load(&key)?
            .ok_or(ErrorKind::NoPendingLogin(
                "no login was started for this account",
            ))?;
        Ok(session::decode::<StoredPending>(&key, &bytes)?.pending)
    }

    /// Whether `url` is a navigation to the redirect URI of the login in
    /// flight: an embedded webview calls this on each navigation and, when
    /// true, stops loading and passes the URL to [`complete_login`](Self::complete_login).
    pub fn is_login_callback(&self, url: &str) -> bool {
        let (Ok(url), Ok(pending)) = (Url::parse(url), self.load_pending()) else {
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
        let pending = self.load_pending()?;
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
                    let _ = self.inner.store.delete(&self.pending_key());
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
        let _ = self.inner.store.delete(&self.pending_key());
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
        browser.open(&url)?;
        let callback = receiver.wait(state.expose(), timeout, cancel).await?;
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
            expires_at: resp.expires_in.map(|s| now + s as i64),
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
        let lock = self.account_lock()?;
        let mut state = lock.lock().await;
        self.persist_session(&mut state, session)?;
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

    /// Writes the session to the store, then to memory. On a store failure
    /// the session is kept in memory (marked unsaved) and the error returned.
    fn persist_session(&self, state: &mut AccountState, session: StoredSession) -> Result<()> {
        let bytes = session::encode(&session)?;
        let saved = self.inner.store.save(&self.session_key(), &bytes);
        state.loaded = true;
        state.session = Some(session);
        state.unsaved = saved.is_err();
        saved
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

    // ----- the session -----

    async fn load_state(&self, state: &mut AccountState) -> Result<()> {
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
        let key = self.session_key();
        state.session = match self.inner.store.load(&key)? {
            Some(bytes) => Some(session::decode::<StoredSession>(&key, &bytes)?),
            None => None,
        };
        state.loaded = true;
        Ok(())
    }

    /// The signed-in session of this account, if any. Makes no request.
    ///
    /// # Errors
    /// The store fails or holds unreadable data (nothing is deleted).
    pub async fn session(&self) -> Result<Option<SessionInfo>> {
        let lock = self.account_lock()?;
        let mut state = lock.lock().await;
        self.load_state(&mut state).await?;
        Ok(state.session.as_ref().map(StoredSession::info))
    }

    /// A valid access token, refreshed first when it expires within the
    /// refresh margin. However many callers ask at once, one refresh request
    /// is made; the rotated refresh token is stored before the token is returned.
    ///
    /// # Errors
    /// [`crate::ErrorCode::NotSignedIn`]; [`crate::ErrorCode::SessionExpired`]
    /// when the server ended the session (it is then removed, other accounts
    /// untouched); network errors (the session is kept).
    pub async fn access_token(&self) -> Result<Secret> {
        self.refresh_inner(false).await.map(|s| s.0)
    }

    /// Refreshes the tokens now, whatever their expiry.
    ///
    /// # Errors
    /// As [`access_token`](Self::access_token).
    pub async fn refresh(&self) -> Result<SessionInfo> {
        self.refresh_inner(true).await.map(|s| s.1)
    }

    async fn refresh_inner(&self, force: bool) -> Result<(Secret, SessionInfo)> {
        let lock = self.account_lock()?;
        let mut state = lock.lock().await;
        self.load_state(&mut state).await?;
        let current = state.session.clone().ok_or(ErrorKind::NotSignedIn)?;
        let now = self.now();
        let fresh = !needs_refresh(&current, self.inner.refresh_margin, now);
        if fresh && !force {
            return Ok((current.access_token.clone(), current.info()));
        }
        let Some(refresh_token) = current.refresh_token.clone() else {
            if !force && current.expires_at.is_some_and(|exp| exp > now) {
                // Not refreshable but still valid: use it until it expires.
                return Ok((current.access_token.clone(), current.info()));
            }
            return Err(self.expire(&mut state));
        };
        let provider = self.provider().await?;
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", self.inner.client_id.as_str()),
        ];
        let resp =
            match token::token_request(&self.inner.http, &provider.metadata.token_endpoint, &form)
                .await
            {
                Ok(r) => r,
                Err(e) if e.oauth_error() == Some("invalid_grant") => {
                    return Err(self.expire(&mut state));
                }
                Err(e) => return Err(e),
            };
        let claims = match &resp.id_token {
            Some(id) => {
                let checked = self
                    .validate_id_token(
                        id.expose(),
                        Expectations {
                            issuer: &provider.metadata.issuer,
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
                            self.persist_session(&mut state, kept)?;
                        }
                        return Err(e);
                    }
                }
            }
            None => None,
        };
        let mut next = current.clone();
        next.expires_at = resp.expires_in.map(|s| now + s as i64);
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
        self.persist_session(&mut state, next)?;
        drop(state);
        self.emit(Event::Refreshed {
            account: self.account.clone(),
        });
        Ok((token, info))
    }

    /// Ends this account's session locally after the server refused it.
    fn expire(&self, state: &mut AccountState) -> Error {
        state.session = None;
        state.loaded = true;
        state.unsaved = false;
        let _ = self.inner.store.delete(&self.session_key());
        self.emit(Event::SessionExpired {
            account: self.account.clone(),
        });
        ErrorKind::SessionExpired.into()
    }

    /// The userinfo of the signed-in user; its `sub` must equal the ID token's.
    ///
    /// # Errors
    /// Not signed in; the server offers no userinfo endpoint; a `sub` mismatch.
    pub async fn userinfo(&self) -> Result<serde_json::Map<String, serde_json::Value>> {
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
        Ok(info)
    }

    // ----- logout -----

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
        let lock = self.account_lock()?;
        let mut st = lock.lock().await;
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
    /// the stored session. The local wipe happens even when revocation fails.
    ///
    /// # Errors
    /// Only a store failure while wiping.
    pub async fn logout(&self) -> Result<LogoutResult> {
        let lock = self.account_lock()?;
        let mut state = lock.lock().await;
        self.load_state(&mut state).await?;
        let Some(session) = state.session.clone() else {
            return Ok(LogoutResult { revoked: true });
        };
        let mut revoked = false;
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
        self.inner.store.delete(&self.session_key())?;
        state.session = None;
        state.unsaved = false;
        drop(state);
        self.emit(Event::SignedOut {
            account: self.account.clone(),
        });
        Ok(LogoutResult { revoked })
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
    let lifetime = (exp - s.updated_at).max(0);
    now >= exp - margin.min(lifetime / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn org_scopes_are_added_and_validated() {
        let c = Client::builder("https://idp.example", "app")
            .organization_domain("acme.localhost")
            .build()
            .unwrap();
        assert!(
            c.scopes()
                .contains(&"urn:zitadel:iam:org:domain:primary:acme.localhost".to_string())
        );
        assert!(
            c.scopes()
                .contains(&"urn:zitadel:iam:org:project:id:zitadel:aud".to_string())
        );
        let c = Client::builder("https://idp.example", "app")
            .organization_id("123")
            .build()
            .unwrap();
        assert!(
            c.scopes()
                .contains(&"urn:zitadel:iam:org:id:123".to_string())
        );
        let bad = Client::builder("https://idp.example", "app")
            .organization_domain("a b")
            .build();
        assert_eq!(
            bad.err().map(|e| e.code()),
            Some(crate::ErrorCode::Misconfigured)
        );
    }

    #[test]
    fn insecure_issuers_and_redirects_are_refused() {
        for (issuer, redirect) in [
            ("http://idp.example", "http://127.0.0.1/callback"),
            ("https://idp.example", "http://app.example/callback"),
            ("https://idp.example?x=1", "http://127.0.0.1/callback"),
            ("not a url", "http://127.0.0.1/callback"),
        ] {
            let r = Client::builder(issuer, "app")
                .redirect_uri(redirect)
                .build();
            assert_eq!(
                r.err().map(|e| e.code()),
                Some(crate::ErrorCode::Misconfigured),
                "{issuer} {redirect}"
            );
        }
        assert!(
            Client::builder("http://127.0.0.1:8080", "app")
                .build()
                .is_ok()
        );
        assert!(Client::builder("https://idp.example", "").build().is_err());
    }
}
