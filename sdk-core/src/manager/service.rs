//! Service users (machine users) signing in to ZITADEL's APIs: a personal
//! access token used directly, the `client_credentials` grant with the
//! user name and secret, or the JWT profile
//! (`urn:ietf:params:oauth:grant-type:jwt-bearer`) with a key file. Tokens
//! are kept in memory until shortly before they expire.

use super::ManagerClient;
use crate::Client;
use crate::error::{Error, Result};
use crate::oidc::token::token_request;
use crate::secret::Secret;
use base64::Engine;
use serde::Deserialize;
use std::sync::Arc;

/// The scope a service user asks for: ZITADEL's API audience.
const SCOPE: &str = "openid urn:zitadel:iam:org:project:id:zitadel:aud";
/// A token is renewed this long before it expires (seconds).
const RENEW_MARGIN: i64 = 60;
/// How long a token without `expires_in` is reused (seconds).
const DEFAULT_LIFETIME: u64 = 300;
/// Lifetime of a JWT-profile assertion (seconds; ZITADEL accepts up to an hour).
const ASSERTION_LIFETIME: i64 = 300;

/// A service user's key file, as ZITADEL issues it (`AddKey` without a
/// public key, or the console's download):
/// `{"type":"serviceaccount","keyId","key":"<PEM>","userId"}`. `Debug`
/// hides the key.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceKey {
    /// The key id (`kid` of the assertion).
    pub key_id: String,
    /// The service user's id (`iss` and `sub` of the assertion).
    pub user_id: String,
    /// The RSA private key, PEM (PKCS#1, `BEGIN RSA PRIVATE KEY`).
    key: Secret,
}

impl std::fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceKey")
            .field("key_id", &self.key_id)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

impl ServiceKey {
    /// Reads a key file's JSON.
    ///
    /// # Errors
    /// `InvalidInput` when it is not a service-account key file with an
    /// RSA private key in PKCS#1 PEM form.
    pub fn from_json(json: &str) -> Result<ServiceKey> {
        #[derive(Deserialize)]
        struct File {
            #[serde(rename = "type")]
            kind: String,
            #[serde(flatten)]
            key: ServiceKey,
        }
        let f: File = serde_json::from_str(json)
            .map_err(|_| Error::input("the key file is not ZITADEL key-file JSON"))?;
        if f.kind != "serviceaccount" {
            return Err(Error::input(
                "the key file is not of type \"serviceaccount\"",
            ));
        }
        if f.key.key_id.is_empty() || f.key.user_id.is_empty() {
            return Err(Error::input("the key file has no keyId or userId"));
        }
        f.key.der()?;
        Ok(f.key)
    }

    /// The PKCS#1 DER of the PEM key.
    fn der(&self) -> Result<Vec<u8>> {
        let pem = self.key.expose().trim();
        let body = pem
            .strip_prefix("-----BEGIN RSA PRIVATE KEY-----")
            .and_then(|r| r.strip_suffix("-----END RSA PRIVATE KEY-----"))
            .ok_or_else(|| Error::input("the key is not an RSA private key in PKCS#1 PEM form"))?;
        let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| Error::input("the key's PEM body is not base64"))
    }
}

/// How a service user authenticates.
#[derive(Clone, Debug)]
pub enum ServiceCredential {
    /// A personal access token, sent as it is.
    Pat(Secret),
    /// The `client_credentials` grant: the service user's user name as the
    /// client id and its secret (`AddSecret`), sent in the form
    /// (`client_secret_post`).
    ClientCredentials {
        /// The service user's user name.
        username: String,
        /// The client secret.
        secret: Secret,
    },
    /// The JWT profile with a key file.
    KeyFile(ServiceKey),
}

/// A signed-in service user. From [`Client::service_account`]; cheap to
/// clone (clones share the cached token).
#[derive(Clone, Debug)]
pub struct ServiceAccount {
    pub(super) client: Client,
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    credential: ServiceCredential,
    /// The cached token and when it expires (our clock).
    token: tokio::sync::Mutex<Option<(Secret, i64)>>,
}

impl Client {
    /// A service user on this client's issuer, authenticated with
    /// `credential`. Makes no request until a token is needed.
    pub fn service_account(&self, credential: ServiceCredential) -> ServiceAccount {
        ServiceAccount {
            client: self.clone(),
            inner: Arc::new(Inner {
                credential,
                token: tokio::sync::Mutex::new(None),
            }),
        }
    }
}

impl ServiceAccount {
    /// Manager operations with this service user's rights.
    pub fn manager(&self) -> ManagerClient {
        ManagerClient::new(self.client.clone(), Some(self.clone()))
    }

    /// A valid access token: the PAT itself, or a token from the token
    /// endpoint, reused until a minute before it expires (one request
    /// however many callers).
    ///
    /// # Errors
    /// OAuth errors of the token endpoint (`invalid_client`,
    /// `invalid_grant` for a wrong secret or key); `InvalidInput` for an
    /// unusable key; network errors.
    pub async fn access_token(&self) -> Result<Secret> {
        if let ServiceCredential::Pat(t) = &self.inner.credential {
            return Ok(t.clone());
        }
        let mut cached = self.inner.token.lock().await;
        let now = self.client.now();
        if let Some((token, exp)) = cached.as_ref()
            && now < exp.saturating_sub(RENEW_MARGIN)
        {
            return Ok(token.clone());
        }
        let meta = self.client.provider_metadata().await?;
        let assertion;
        let form = match &self.inner.credential {
            ServiceCredential::ClientCredentials { username, secret } => {
                if username.is_empty() || secret.expose().is_empty() {
                    return Err(Error::input("the user name or secret is empty"));
                }
                vec![
                    ("grant_type", "client_credentials"),
                    ("client_id", username.as_str()),
                    ("client_secret", secret.expose()),
                    ("scope", SCOPE),
                ]
            }
            ServiceCredential::KeyFile(key) => {
                assertion = self.assertion(key, &meta.issuer)?;
                vec![
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", assertion.expose()),
                    ("scope", SCOPE),
                ]
            }
            ServiceCredential::Pat(_) => return Err(Error::internal("a PAT needs no grant")),
        };
        let t = token_request(&self.client.inner.http, &meta.token_endpoint, &form).await?;
        let lifetime = i64::try_from(t.expires_in.unwrap_or(DEFAULT_LIFETIME)).unwrap_or(i64::MAX);
        *cached = Some((t.access_token.clone(), now.saturating_add(lifetime)));
        Ok(t.access_token)
    }

    /// Drops the cached token (after the API refused it).
    pub(super) async fn forget_token(&self) {
        *self.inner.token.lock().await = None;
    }

    /// The RS256 assertion: `iss` = `sub` = user id, `aud` = the issuer,
    /// `kid` = key id.
    fn assertion(&self, key: &ServiceKey, issuer: &str) -> Result<Secret> {
        let now = self.client.server_now();
        let claims = serde_json::json!({
            "iss": key.user_id, "sub": key.user_id, "aud": issuer,
            "iat": now, "exp": now + ASSERTION_LIFETIME,
        });
        crate::oidc::jws::sign_rs256(&key.der()?, &key.key_id, &claims)
            .map(Secret::new)
            .ok_or_else(|| Error::input("the key file's key cannot sign (not an RSA key?)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn a_key_file_must_be_a_service_account_with_a_pkcs1_key() {
        let bad = [
            "not json",
            r#"{"type":"application","keyId":"1","userId":"2","key":"-----BEGIN RSA PRIVATE KEY-----\nAA==\n-----END RSA PRIVATE KEY-----"}"#,
            r#"{"type":"serviceaccount","keyId":"","userId":"2","key":"x"}"#,
            r#"{"type":"serviceaccount","keyId":"1","userId":"2","key":"-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----"}"#,
        ];
        for json in bad {
            let e = ServiceKey::from_json(json).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidInput, "{json}");
        }
        let ok = ServiceKey::from_json(
            r#"{"type":"serviceaccount","keyId":"k1","userId":"u1","key":"-----BEGIN RSA PRIVATE KEY-----\nAAEC\n-----END RSA PRIVATE KEY-----\n"}"#,
        )
        .unwrap();
        assert_eq!((ok.key_id.as_str(), ok.user_id.as_str()), ("k1", "u1"));
        assert!(!format!("{ok:?}").contains("AAEC"));
    }
}
