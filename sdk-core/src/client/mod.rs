//! [`Client`] and [`ClientBuilder`]: the entry point of the SDK.

mod login;
mod logout;
mod session;

pub use logout::LogoutResult;

use crate::error::{Error, Result, TokenValidationError};
use crate::http::{Http, require_secure};
use crate::oidc::discovery::ProviderMetadata;
use crate::oidc::id_token::{self, Expectations};
use crate::platform::{BrowserLauncher, Clock, Event, EventListener, SystemClock};
use crate::secret::Secret;
use crate::session::{self as stored, SCHEMA, StoredProvider};
use crate::store::{MemoryStore, TokenStore};
use jsonwebtoken::jwk::Jwk;
use session::AccountSlot;
use sha2::Digest;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
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
    login_client: Option<Secret>,
}

impl ClientBuilder {
    /// The token of a login client (a ZITADEL service user with the
    /// instance role `IAM_LOGIN_CLIENT`, usually a PAT): it enables the
    /// browserless flows — native registration and login through the
    /// Session API, password reset for users who cannot sign in.
    ///
    /// # Security
    /// Whoever holds this token can create users and sign anyone in. Give it
    /// only to hosts you control — a backend, a kiosk, a desktop app in a
    /// trusted setting, a test against the emulator — and never ship it
    /// inside an app installed by users (mobile, game client, public
    /// desktop build): there the browser flows are the right choice. The SDK
    /// never bundles one by default.
    pub fn login_client_token(mut self, token: impl Into<String>) -> Self {
        self.login_client = Some(Secret::new(token.into()));
        self
    }

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
                check_redirect_uri(&u)?;
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
            leeway: secs_i64(self.leeway),
            refresh_margin: secs_i64(self.refresh_margin),
            jwks_cooldown: self.jwks_cooldown,
            http,
            provider: tokio::sync::Mutex::new(None),
            last_jwks_refetch: Mutex::new(None),
            accounts: Mutex::new(HashMap::new()),
            lock_wait: self.timeout.saturating_add(Duration::from_secs(10)),
            listeners: RwLock::new(Vec::new()),
            login_client: self.login_client,
            settings: Mutex::new(HashMap::new()),
            user_orgs: Mutex::new(HashMap::new()),
        };
        Ok(Client {
            inner: Arc::new(inner),
            account: self.account,
        })
    }
}

/// A duration in whole seconds as `i64`, saturating (no configured value can overflow).
fn secs_i64(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// The access token's expiry time for `expires_in` seconds from `now`,
/// saturating: a server's number cannot overflow it.
fn expiry(now: i64, expires_in: Option<u64>) -> Option<i64> {
    expires_in.map(|s| now.saturating_add(i64::try_from(s).unwrap_or(i64::MAX)))
}

/// Accepts the redirect URIs RFC 8252 allows a native app: loopback `http`,
/// `https` (app links / universal links), and private-use schemes in
/// reverse-DNS form (`com.example.app:/callback`, §7.1). Anything else —
/// `javascript:`, `data:`, `file:`, a scheme without a dot — is refused.
fn check_redirect_uri(u: &Url) -> Result<()> {
    match u.scheme() {
        "http" if crate::http::is_loopback_host(u) => Ok(()),
        "http" => Err(Error::config("an http redirect URI must be on loopback")),
        "https" if u.host().is_some() => Ok(()),
        s if s.contains('.') && !matches!(s, "javascript" | "data" | "file" | "blob") => Ok(()),
        _ => Err(Error::config(
            "the redirect URI must be loopback http, https, or a reverse-DNS custom scheme such as com.example.app:/callback",
        )),
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

pub(crate) struct Inner {
    pub(crate) issuer: Url,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: Option<Url>,
    pub(crate) scopes: Vec<String>,
    pub(crate) ui_locales: Vec<String>,
    pub(crate) store: Arc<dyn TokenStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) leeway: i64,
    pub(crate) refresh_margin: i64,
    pub(crate) jwks_cooldown: Duration,
    pub(crate) http: Http,
    provider: tokio::sync::Mutex<Option<Arc<ProviderState>>>,
    pub(crate) last_jwks_refetch: Mutex<Option<std::time::Instant>>,
    accounts: Mutex<HashMap<String, Arc<AccountSlot>>>,
    /// How long a refresh waits for another process's refresh of the same account.
    pub(crate) lock_wait: Duration,
    pub(crate) listeners: RwLock<Vec<Arc<dyn EventListener>>>,
    /// The login-client token, when configured (trusted hosts only).
    pub(crate) login_client: Option<Secret>,
    /// Settings read with the login-client token, by path: (read at, value).
    pub(crate) settings: Mutex<HashMap<String, (i64, serde_json::Value)>>,
    /// Orgs of users looked up through the login client (user id → org id).
    pub(crate) user_orgs: Mutex<HashMap<String, String>>,
}

/// The SDK client for one issuer and client id, bound to one account.
/// Cheap to clone; clones share caches, locks and listeners.
///
/// Build one `Client` per issuer and client id in a process and clone it.
/// Separately built `Client`s on one store each hold the session in memory:
/// refreshes stay safe (they are serialized by the store's lock and adopt
/// what the other wrote), but a logout through one is seen by the other
/// only when it next reads the store — when its access token nears expiry —
/// so until then it still hands out that token, which the logout may have
/// revoked.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
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

/// A [`BrowserLauncher`] from a closure that only opens the URL (a system
/// browser: the callback comes through the loopback receiver).
pub struct FnBrowser<F>(pub F);

#[async_trait::async_trait]
impl<F> BrowserLauncher for FnBrowser<F>
where
    F: Fn(&Url) -> Result<()> + Send + Sync,
{
    async fn open(&self, url: &Url, _redirect_uri: &Url) -> Result<Option<Url>> {
        (self.0)(url).map(|()| None)
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
            login_client: None,
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

    /// How many HTTP requests this client (and its clones) has sent so far:
    /// discovery, JWKS, token, API calls — for request counts in demos,
    /// benchmarks and tests.
    pub fn request_count(&self) -> u64 {
        self.inner.http.request_count()
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

    pub(crate) fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// Our clock corrected by the server's `Date` header: for checking the
    /// server's token times (`exp`, `iat`, `auth_time`).
    pub(crate) fn server_now(&self) -> i64 {
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

    /// Reads from the token store on the blocking pool: keyring and file
    /// I/O (a D-Bus round trip, a lock, a slow disk) must never stall the
    /// async runtime the app and the SDK share.
    pub(crate) async fn store_load(&self, key: String) -> Result<Option<Vec<u8>>> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || store.load(&key))
            .await
            .map_err(|_| Error::internal("a token store task failed"))?
    }

    /// Writes to the token store on the blocking pool (see [`Self::store_load`]).
    pub(crate) async fn store_save(&self, key: String, bytes: Vec<u8>) -> Result<()> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || store.save(&key, &bytes))
            .await
            .map_err(|_| Error::internal("a token store task failed"))?
    }

    /// Deletes from the token store on the blocking pool (see [`Self::store_load`]).
    pub(crate) async fn store_delete(&self, key: String) -> Result<()> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || store.delete(&key))
            .await
            .map_err(|_| Error::internal("a token store task failed"))?
    }

    fn account_lock(&self) -> Result<Arc<AccountSlot>> {
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
            && now.saturating_sub(p.fetched_at) < DISCOVERY_TTL
        {
            return Ok(p.clone());
        }
        let key = self.provider_key();
        if let Ok(Some(bytes)) = self.store_load(key.clone()).await {
            // A damaged cache entry is only a cache miss.
            if let Ok(stored) = stored::decode::<StoredProvider>(&key, &bytes)
                && now.saturating_sub(stored.fetched_at) < DISCOVERY_TTL
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
        self.persist_provider(&p).await;
        *slot = Some(p.clone());
        Ok(p)
    }

    async fn persist_provider(&self, p: &ProviderState) {
        let stored = StoredProvider {
            schema: SCHEMA,
            metadata: p.metadata.clone(),
            jwks: p.jwks.clone(),
            fetched_at: p.fetched_at,
        };
        // The cache is an optimisation: failing to write it fails nothing.
        if let Ok(bytes) = stored::encode(&stored) {
            let _ = self.store_save(self.provider_key(), bytes).await;
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
        self.persist_provider(&p).await;
        *self.inner.provider.lock().await = Some(p.clone());
        Ok(Some(p))
    }

    async fn validate_id_token(
        &self,
        token: &str,
        exp: Expectations<'_>,
    ) -> Result<crate::IdTokenClaims> {
        let provider = self.provider().await?;
        let (header, alg) = id_token::parse_header(
            token,
            &provider.metadata.id_token_signing_alg_values_supported,
        )?;
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
}

#[cfg(test)]
#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn only_loopback_https_and_reverse_dns_redirect_uris_are_accepted() {
        for bad in [
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "myapp:/callback",
            "ftp://127.0.0.1/cb",
        ] {
            let r = Client::builder("https://idp.example", "app")
                .redirect_uri(bad)
                .build();
            assert_eq!(
                r.err().map(|e| e.code()),
                Some(crate::ErrorCode::Misconfigured),
                "{bad}"
            );
        }
        for good in [
            "http://127.0.0.1/callback",
            "http://[::1]:8080/cb",
            "https://app.example/callback",
            "com.example.app:/callback",
            "com.example.app://oauth/callback",
        ] {
            assert!(
                Client::builder("https://idp.example", "app")
                    .redirect_uri(good)
                    .build()
                    .is_ok(),
                "{good}"
            );
        }
    }

    #[test]
    fn loopback_issuers_are_allowed_and_an_empty_client_id_is_refused() {
        assert!(
            Client::builder("http://127.0.0.1:8080", "app")
                .build()
                .is_ok()
        );
        assert!(Client::builder("https://idp.example", "").build().is_err());
    }
}
