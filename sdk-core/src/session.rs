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
pub(crate) const SCHEMA: u32 = 1;

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    let value = match version {
        v if v == u64::from(SCHEMA) => value,
        v if v > u64::from(SCHEMA) => {
            return Err(corrupt(format!(
                "schema {v} was written by a newer SDK (this one reads up to {SCHEMA})"
            )));
        }
        // Schema 1 is the first; migrations from older versions go here.
        v => return Err(corrupt(format!("unknown schema {v}"))),
    };
    serde_json::from_value(value).map_err(|_| corrupt("missing or invalid fields".into()))
}

/// Encodes a value for the store.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|_| crate::Error::internal("cannot encode stored data"))
}

/// A signed-in account, as the app sees it. Holds no tokens.
#[derive(Clone, Debug, PartialEq)]
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
