//! The scripted mock provider (wiremock on 127.0.0.1) the HTTP-level tests share.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, dead_code)]

use p256::pkcs8::EncodePrivateKey;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use zitadel_sdk::store::MemoryStore;
use zitadel_sdk::{Client, LoginOptions, TokenStore, Url};

pub const REDIRECT: &str = "com.example.app:/callback";

pub struct Idp {
    pub server: MockServer,
    pub key: jsonwebtoken::EncodingKey,
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl Idp {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let sk = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let key = jsonwebtoken::EncodingKey::from_ec_der(sk.to_pkcs8_der().unwrap().as_bytes());
        let mut jwk: Value = serde_json::from_str(&sk.public_key().to_jwk_string()).unwrap();
        jwk["kid"] = json!("k1");
        jwk["alg"] = json!("ES256");
        let issuer = server.uri();
        Mock::given(method("GET"))
            .and(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/oauth/v2/authorize"),
                "token_endpoint": format!("{issuer}/oauth/v2/token"),
                "jwks_uri": format!("{issuer}/oauth/v2/keys"),
                "userinfo_endpoint": format!("{issuer}/oidc/v1/userinfo"),
                "revocation_endpoint": format!("{issuer}/oauth/v2/revoke"),
                "device_authorization_endpoint": format!("{issuer}/oauth/v2/device_authorization"),
                "authorization_response_iss_parameter_supported": true
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/oauth/v2/keys"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": [jwk]})))
            .mount(&server)
            .await;
        Idp { server, key }
    }

    pub fn issuer(&self) -> String {
        self.server.uri()
    }

    pub fn id_token(&self, sub: &str, nonce: Option<&str>) -> String {
        let mut claims = json!({
            "iss": self.issuer(), "sub": sub, "aud": "app", "exp": now() + 300, "iat": now(),
        });
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        h.kid = Some("k1".into());
        jsonwebtoken::encode(&h, &claims, &self.key).unwrap()
    }

    pub fn client(&self, store: Arc<dyn TokenStore>) -> Client {
        Client::builder(self.issuer(), "app")
            .redirect_uri(REDIRECT)
            .ui_locales(["de-CH", "en"])
            .store(store)
            .build()
            .unwrap()
    }

    /// Mounts a one-shot token response for the next code exchange.
    pub async fn token_once(&self, body: Value) {
        Mock::given(method("POST"))
            .and(path("/oauth/v2/token"))
            .and(body_string_contains("grant_type=authorization_code"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .up_to_n_times(1)
            .mount(&self.server)
            .await;
    }

    /// Answers every refresh request with `response`.
    pub async fn refresh_answers(&self, response: ResponseTemplate) {
        Mock::given(method("POST"))
            .and(path("/oauth/v2/token"))
            .and(body_string_contains("grant_type=refresh_token"))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    /// The bodies of the requests the token endpoint received, in order.
    pub async fn token_request_bodies(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path() == "/oauth/v2/token")
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect()
    }

    /// Starts a login and returns (callback URL, nonce).
    pub async fn begin(&self, client: &Client) -> (String, String) {
        let url = client.start_login(&LoginOptions::default()).await.unwrap();
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        let mut cb = Url::parse(REDIRECT).unwrap();
        cb.query_pairs_mut()
            .append_pair("code", "the-code")
            .append_pair("state", &q["state"])
            .append_pair("iss", &self.issuer());
        (cb.to_string(), q["nonce"].clone())
    }

    pub async fn login(&self, client: &Client, sub: &str) -> zitadel_sdk::SessionInfo {
        let (cb, nonce) = self.begin(client).await;
        self.token_once(json!({
            "access_token": "at-1", "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": "rt-1", "id_token": self.id_token(sub, Some(&nonce))
        }))
        .await;
        client.complete_login(&cb).await.unwrap()
    }
}

/// A memory store whose saves can be made to fail, and whose keys can be listed.
#[derive(Debug, Default)]
pub struct FlakyStore {
    pub inner: MemoryStore,
    pub fail_saves: AtomicBool,
    keys: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl FlakyStore {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The key of the stored session of an account (the only `session-` key).
    pub fn session_key(&self) -> String {
        self.keys
            .lock()
            .unwrap()
            .iter()
            .find(|k| k.starts_with("session-"))
            .cloned()
            .expect("a stored session")
    }

    pub fn set_failing(&self, fail: bool) {
        self.fail_saves.store(fail, Ordering::SeqCst);
    }
}

impl TokenStore for FlakyStore {
    fn load(&self, key: &str) -> zitadel_sdk::Result<Option<Vec<u8>>> {
        self.inner.load(key)
    }
    fn save(&self, key: &str, value: &[u8]) -> zitadel_sdk::Result<()> {
        if self.fail_saves.load(Ordering::SeqCst) {
            return Err(zitadel_sdk::Error::storage("the keychain is locked"));
        }
        self.keys.lock().unwrap().insert(key.to_owned());
        self.inner.save(key, value)
    }
    fn delete(&self, key: &str) -> zitadel_sdk::Result<()> {
        self.inner.delete(key)
    }
}
