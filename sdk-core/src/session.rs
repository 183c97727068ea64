//! The signed-in state and its versioned persisted schema.

use crate::error::{ErrorKind, Result};
use crate::oidc::IdTokenClaims;
use crate::oidc::authorize::PendingLogin;
use crate::oidc::discovery::ProviderMetadata;
use crate::secret::Secret;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The current version of everything the SDK writes to a [`crate::TokenStore`].
/// A newer version is refused (never overwritten by an older SDK without a
/// fresh login); older versions are migrated in [`decode`].
///
/// - 1: the first.
/// - 2: a session no longer stores the decoded ID token claims beside the
///   ID token (they are derived from it on load), which halves its size.
pub(crate) const SCHEMA: u32 = 2;

/// What is stored for a signed-in account.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StoredSession {
    pub schema: u32,
    pub issuer: String,
    pub client_id: String,
    pub account: String,
    pub access_token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret>,
    /// Access token expiry, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The ID token's claims: not stored (schema 2), derived from `id_token` on load.
    #[serde(skip)]
    pub claims: Option<IdTokenClaims>,
    /// The nonce of the original login, which a refreshed ID token may repeat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub updated_at: i64,
}

/// What is stored for a login in flight.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StoredPending {
    pub schema: u32,
    pub pending: PendingLogin,
}

/// Cached discovery document and JWKS of an issuer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StoredProvider {
    pub schema: u32,
    pub metadata: ProviderMetadata,
    pub jwks: serde_json::Value,
    pub fetched_at: i64,
}

/// Decodes a stored blob: checks the schema version and migrates older ones.
pub(crate) fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T> {
    let corrupt = |detail: String| -> crate::Error {
        ErrorKind::StoreCorrupt {
            key: key.to_owned(),
            detail,
        }
        .into()
    };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|_| corrupt("not JSON".into()))?;
    let version = value
        .get("schema")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| corrupt("no schema version".into()))?;
    let mut value = match version {
        v if v == u64::from(SCHEMA) => value,
        v if v > u64::from(SCHEMA) => {
            return Err(corrupt(format!(
                "schema {v} was written by a newer SDK (this one reads up to {SCHEMA})"
            )));
        }
        // 1 -> 2: sessions carried `claims`, now derived from the ID token
        // (the field is dropped on load); pending logins and provider caches are unchanged.
        1 => migrate_1_to_2(value),
        v => return Err(corrupt(format!("unknown schema {v}"))),
    };
    value["schema"] = serde_json::Value::from(SCHEMA);
    serde_json::from_value(value).map_err(|_| corrupt("missing or invalid fields".into()))
}

fn migrate_1_to_2(mut value: serde_json::Value) -> serde_json::Value {
    if let Some(map) = value.as_object_mut() {
        map.remove("claims");
    }
    value
}

/// Decodes a stored session and derives its claims from the ID token.
pub(crate) fn decode_session(key: &str, bytes: &[u8]) -> Result<StoredSession> {
    let mut s: StoredSession = decode(key, bytes)?;
    if let Some(id) = &s.id_token {
        s.claims = crate::oidc::id_token::stored_claims(id.expose());
        if s.claims.is_none() {
            return Err(ErrorKind::StoreCorrupt {
                key: key.to_owned(),
                detail: "the stored ID token cannot be read".into(),
            }
            .into());
        }
    }
    Ok(s)
}

/// Encodes a value for the store.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|_| crate::Error::internal("cannot encode stored data"))
}

/// A signed-in account, as the app sees it. Holds no tokens.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SessionInfo {
    /// The account name the session is stored under.
    pub account: String,
    /// The user id (`sub`).
    pub subject: String,
    /// The ID token's claims (profile, email, ZITADEL claims).
    pub claims: Option<IdTokenClaims>,
    /// Access token expiry, seconds since the epoch.
    pub expires_at: Option<i64>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Whether the session can be refreshed.
    pub has_refresh_token: bool,
}

impl StoredSession {
    pub(crate) fn info(&self) -> SessionInfo {
        SessionInfo {
            account: self.account.clone(),
            subject: self
                .claims
                .as_ref()
                .map(|c| c.sub.clone())
                .unwrap_or_default(),
            claims: self.claims.clone(),
            expires_at: self.expires_at,
            scopes: self.scopes.clone(),
            has_refresh_token: self.refresh_token.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_types_the_standard_claims_and_keeps_the_others() {
        let v = serde_json::json!({"sub": "1", "email": "a@b.example", "email_verified": true,
            "urn:zitadel:iam:org:project:roles": {"admin": {}}});
        let u: UserInfo = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(u.email.as_deref(), Some("a@b.example"));
        assert_eq!(u.email_verified, Some(true));
        assert!(u.other.contains_key("urn:zitadel:iam:org:project:roles"));
        assert_eq!(serde_json::to_value(&u).unwrap(), v);
    }

    fn session_json(schema: u32) -> serde_json::Value {
        serde_json::json!({
            "schema": schema, "issuer": "https://idp.example", "client_id": "app",
            "account": "default", "access_token": "AT", "refresh_token": "RT",
            "expires_at": 100, "updated_at": 1
        })
    }

    #[test]
    fn current_schema_round_trips() {
        let bytes = serde_json::to_vec(&session_json(SCHEMA)).unwrap_or_default();
        let s: StoredSession = decode("k", &bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.refresh_token.as_ref().map(Secret::expose), Some("RT"));
        let again: StoredSession =
            decode("k", &encode(&s).unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.access_token.expose(), "AT");
    }

    fn id_token() -> String {
        let key = crate::oidc::id_token::tests::TestKey::new("k1");
        key.sign(&crate::oidc::id_token::tests::claims())
    }

    #[test]
    fn a_schema_1_session_migrates_with_claims_derived_from_the_id_token() {
        let mut v1 = session_json(1);
        v1["id_token"] = serde_json::json!(id_token());
        v1["claims"] = serde_json::json!({"iss": "stale", "sub": "stale", "aud": [], "exp": 0, "iat": 0, "all": {}});
        let bytes = serde_json::to_vec(&v1).unwrap_or_default();
        let s = decode_session("k", &bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.schema, SCHEMA);
        assert_eq!(s.claims.as_ref().map(|c| c.sub.as_str()), Some("user-1"));
        assert_eq!(s.refresh_token.as_ref().map(Secret::expose), Some("RT"));
        // Saved again, it is a schema-2 record without the claims.
        let again: serde_json::Value =
            serde_json::from_slice(&encode(&s).unwrap_or_default()).unwrap_or_default();
        assert_eq!(again["schema"], serde_json::json!(SCHEMA));
        assert!(again.get("claims").is_none());
        let s2 =
            decode_session("k", &encode(&s).unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s2.info(), s.info());
    }

    #[test]
    fn schema_1_pending_logins_and_provider_caches_still_read() {
        let pending = serde_json::json!({"schema": 1, "pending": {
            "state": "s", "nonce": "n", "pkce_verifier": "v", "redirect_uri": "com.example.app:/cb", "created_at": 5}});
        let p: StoredPending = decode("k", &serde_json::to_vec(&pending).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.pending.created_at, 5);
    }

    #[test]
    fn a_stored_session_with_an_unreadable_id_token_is_a_storage_error() {
        let mut v = session_json(SCHEMA);
        v["id_token"] = serde_json::json!("not-a-jwt");
        let e = decode_session("k", &serde_json::to_vec(&v).unwrap_or_default()).err();
        assert_eq!(e.map(|e| e.code()), Some(crate::ErrorCode::Storage));
    }

    #[test]
    fn a_newer_schema_is_refused_with_a_storage_error() {
        let bytes = serde_json::to_vec(&session_json(SCHEMA + 1)).unwrap_or_default();
        let e = decode::<StoredSession>("k", &bytes).err();
        assert_eq!(
            e.as_ref().map(|e| e.code()),
            Some(crate::ErrorCode::Storage)
        );
        assert!(e.is_some_and(|e| e.message().contains("newer SDK")));
    }

    #[test]
    fn garbage_and_missing_fields_are_typed_storage_errors_without_content() {
        for bytes in [
            &b"\x00\x01garbage"[..],
            br#"{"schema":1,"access_token":"LEAK"}"#,
            br#"{"access_token":"LEAK"}"#,
        ] {
            let e = decode::<StoredSession>("k", bytes).err();
            let e = e.unwrap_or_else(|| panic!("expected an error"));
            assert_eq!(e.code(), crate::ErrorCode::Storage);
            assert!(!e.message().contains("LEAK"));
        }
    }
}

/// The OpenID Connect userinfo of the signed-in user: the standard claims
/// typed, every other claim (ZITADEL's roles, org, metadata) in `other`.
/// Serializes back to the same JSON object.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UserInfo {
    /// The user id.
    pub sub: String,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Nickname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// The login name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the email address is verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Whether the phone number is verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_verified: Option<bool>,
    /// Preferred language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Gender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// Every other claim.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl UserInfo {
    /// The userinfo as one JSON object (as the server sent it).
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}
