//! A software WebAuthn authenticator (1Password's passkey-rs) for desktop
//! programs, CLIs and tests: a [`PasskeyAuthenticator`] whose private keys
//! live in a [`TokenStore`], one entry per account.
//!
//! # Security
//! It approves every request at once: user presence and user verification
//! are reported as given without asking anyone, as a CLI or test
//! authenticator does. Whoever can use the store (and the account name) can
//! therefore sign in with its passkeys: the keys are exactly as safe as the
//! store — use the OS keyring or a [`crate::store::FileStore`] in a private
//! directory, never a shared one. Keys never appear in `Debug` output or in
//! error messages. Mobile apps use the platform authenticator instead.

use crate::Client;
use crate::error::{Error, ErrorCode, Result};
use crate::platform::PasskeyAuthenticator;
use crate::store::{StoreLock, TokenStore};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use passkey_authenticator::{Authenticator, MemoryStore, UiHint, UserCheck, UserValidationMethod};
use passkey_client::{DefaultClientData, WebauthnError};
use passkey_crypto::coset::{CborSerializable as _, CoseKey};
use passkey_types::ctap2::{Aaguid, Ctap2Error};
use passkey_types::webauthn::{CredentialCreationOptions, CredentialRequestOptions};
use passkey_types::{Bytes, Passkey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The schema version of the stored credentials.
const VERSION: u32 = 1;
/// How long a ceremony waits for another process using the same keys.
const LOCK_WAIT: Duration = Duration::from_secs(10);

type PasskeyClient = passkey_client::Client<
    MemoryStore,
    AutoApprove,
    passkey_crypto::AvailableBackend,
    public_suffix::PublicSuffixList,
    (),
>;

/// A software authenticator whose keys are kept in a [`TokenStore`] under
/// one account. Create it again with the same store and account and the
/// same keys are found. See the [module docs](self) for what it approves.
pub struct SoftwareAuthenticator {
    store: Arc<dyn TokenStore>,
    account: String,
    key: String,
    /// Serializes the load–sign–save of one instance.
    busy: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for SoftwareAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareAuthenticator")
            .field("account", &self.account)
            .field("store_key", &self.key)
            .finish_non_exhaustive()
    }
}

impl SoftwareAuthenticator {
    /// An authenticator keeping its keys in `store` under `account` (any
    /// non-empty name; several accounts live side by side).
    ///
    /// # Errors
    /// `InvalidInput` for an empty account name.
    pub fn new(store: Arc<dyn TokenStore>, account: &str) -> Result<Self> {
        if account.is_empty() {
            return Err(Error::input("the authenticator's account name is empty"));
        }
        Ok(Self::build(store, account.to_owned(), account))
    }

    /// An authenticator in the client's store, under the client's issuer,
    /// client id and account (see [`Client::for_account`]).
    pub fn for_client(client: &Client) -> Self {
        let account = format!(
            "{}|{}|{}",
            client.inner.issuer,
            client.inner.client_id,
            client.account()
        );
        Self::build(
            client.inner.store.clone(),
            client.account().to_owned(),
            &account,
        )
    }

    /// The store key is derived from `name`, so any name is a valid key.
    fn build(store: Arc<dyn TokenStore>, account: String, name: &str) -> Self {
        let digest = Sha256::digest(name.as_bytes());
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        SoftwareAuthenticator {
            store,
            account,
            key: format!("webauthn-{hex}"),
            busy: tokio::sync::Mutex::new(()),
        }
    }

    /// How many credentials this authenticator holds (for all relying parties).
    ///
    /// # Errors
    /// The store fails or holds unreadable data (`Storage`).
    pub async fn credential_count(&self) -> Result<usize> {
        Ok(self.load().await?.len())
    }

    /// Deletes all of this account's keys. The server still lists the
    /// passkeys; remove them there too.
    ///
    /// # Errors
    /// The store fails (`Storage`).
    pub async fn forget(&self) -> Result<()> {
        let _busy = self.busy.lock().await;
        let (store, key) = (self.store.clone(), self.key.clone());
        blocking(move || store.delete(&key)).await
    }

    async fn ceremony(&self, ceremony: Ceremony, origin: &str) -> Result<String> {
        let origin = Url::parse(origin)
            .ok()
            .filter(|u| u.has_host())
            .ok_or_else(|| Error::host(ErrorCode::InvalidInput, "the origin is not a URL"))?;
        let rp_id = match &ceremony {
            Ceremony::Create(o) => o.public_key.rp.id.as_deref(),
            Ceremony::Get(o) => o.public_key.rp_id.as_deref(),
        };
        let host = origin.host_str().unwrap_or_default();
        // passkey-rs lets any origin use the RP ID `localhost`: check here.
        if rp_id.is_some_and(|rp| host != rp && !host.ends_with(&format!(".{rp}"))) {
            return Err(webauthn_error(WebauthnError::OriginRpMissmatch));
        }
        let _busy = self.busy.lock().await;
        let _lock = self.lock_store().await?;
        let before = self.load().await?;
        let mut client = PasskeyClient::new(Authenticator::new(
            Aaguid::new_empty(),
            before.clone(),
            AutoApprove,
            passkey_crypto::AvailableBackend,
        ))
        .allows_insecure_localhost(host == "localhost");
        let response = match ceremony {
            Ceremony::Create(options) => client
                .register(&origin, options, DefaultClientData)
                .await
                .map_err(webauthn_error)
                .and_then(|c| to_json(&c)),
            Ceremony::Get(options) => client
                .authenticate(&origin, options, DefaultClientData)
                .await
                .map_err(webauthn_error)
                .and_then(|c| to_json(&c)),
        }?;
        let after = encode(client.authenticator().store())?;
        if after != encode(&before)? {
            let (store, key) = (self.store.clone(), self.key.clone());
            blocking(move || store.save(&key, &after)).await?;
        }
        Ok(response)
    }

    async fn lock_store(&self) -> Result<Option<StoreLock>> {
        let (store, key) = (self.store.clone(), self.key.clone());
        blocking(move || store.lock(&key, LOCK_WAIT)).await
    }

    async fn load(&self) -> Result<MemoryStore> {
        let (store, key) = (self.store.clone(), self.key.clone());
        match blocking(move || store.load(&key)).await? {
            Some(bytes) => decode(&bytes),
            None => Ok(MemoryStore::new()),
        }
    }
}

#[async_trait::async_trait]
impl PasskeyAuthenticator for SoftwareAuthenticator {
    async fn create(&self, options_json: &str, origin: &str) -> Result<String> {
        let options = parse_options(options_json)?;
        self.ceremony(Ceremony::Create(options), origin).await
    }

    async fn get(&self, options_json: &str, origin: &str) -> Result<String> {
        let options = parse_options(options_json)?;
        self.ceremony(Ceremony::Get(options), origin).await
    }
}

enum Ceremony {
    Create(CredentialCreationOptions),
    Get(CredentialRequestOptions),
}

/// Reads `PublicKeyCredential…OptionsJSON` into passkey-rs' `{publicKey: …}`.
fn parse_options<T: serde::de::DeserializeOwned>(options_json: &str) -> Result<T> {
    let inner: serde_json::Value = serde_json::from_str(options_json)
        .map_err(|_| Error::host(ErrorCode::InvalidInput, "the WebAuthn options are not JSON"))?;
    serde_json::from_value(serde_json::json!({ "publicKey": inner })).map_err(|e| {
        Error::host(
            ErrorCode::InvalidInput,
            format!(
                "the WebAuthn options cannot be read (line {} column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|_| Error::internal("the WebAuthn response cannot be serialized"))
}

/// The user of a CLI or test authenticator: present and verified, always.
struct AutoApprove;

#[async_trait::async_trait]
impl UserValidationMethod for AutoApprove {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, Passkey>,
        presence: bool,
        verification: bool,
    ) -> std::result::Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence,
            verification,
        })
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }
}

/// What a passkey-rs error means for the app.
fn webauthn_error(e: WebauthnError) -> Error {
    use WebauthnError as W;
    let (code, message) = match e {
        W::CredentialNotFound => (
            ErrorCode::NotFound,
            "the authenticator holds none of the credentials asked for",
        ),
        W::AuthenticatorError(c) if c == u8::from(Ctap2Error::NoCredentials) => (
            ErrorCode::NotFound,
            "the authenticator holds none of the credentials asked for",
        ),
        W::AuthenticatorError(c) if c == u8::from(Ctap2Error::CredentialExcluded) => (
            ErrorCode::AlreadyExists,
            "the authenticator is registered for this account already",
        ),
        W::AuthenticatorError(c)
            if c == u8::from(Ctap2Error::OperationDenied)
                || c == u8::from(Ctap2Error::NotAllowed) =>
        {
            (ErrorCode::Cancelled, "the authenticator declined")
        }
        W::TimeoutError => (ErrorCode::Expired, "the authenticator timed out"),
        W::OriginMissingDomain
        | W::OriginRpMissmatch
        | W::UnprotectedOrigin
        | W::InsecureLocalhostNotAllowed
        | W::InvalidRpId
        | W::RequiresRelatedOriginsSupport => (
            ErrorCode::Misconfigured,
            "the origin does not match the relying party ID (HTTPS required except on localhost)",
        ),
        W::ValidationError { .. } | W::SyntaxError | W::NotSupportedError => (
            ErrorCode::InvalidInput,
            "the authenticator cannot fulfil these WebAuthn options",
        ),
        _ => (ErrorCode::Internal, "the software authenticator failed"),
    };
    Error::host(code, message)
}

/// The stored form: the credentials of one account, versioned.
#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    credentials: Vec<StoredCredential>,
}

/// One credential; binary fields as base64url, the private key as its
/// COSE encoding. Deliberately without `Debug`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredCredential {
    credential_id: String,
    rp_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_handle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    counter: Option<u32>,
    private_key: String,
}

fn encode(creds: &MemoryStore) -> Result<Vec<u8>> {
    let mut credentials = creds
        .values()
        .map(|p| {
            let key = p
                .key
                .clone()
                .to_vec()
                .map_err(|_| Error::internal("a key cannot be encoded"))?;
            Ok(StoredCredential {
                credential_id: URL_SAFE_NO_PAD.encode(&*p.credential_id),
                rp_id: p.rp_id.clone(),
                user_handle: p.user_handle.as_deref().map(|h| URL_SAFE_NO_PAD.encode(h)),
                username: p.username.clone(),
                user_display_name: p.user_display_name.clone(),
                counter: p.counter,
                private_key: URL_SAFE_NO_PAD.encode(key),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    credentials.sort_by(|a, b| a.credential_id.cmp(&b.credential_id));
    serde_json::to_vec(&Stored {
        version: VERSION,
        credentials,
    })
    .map_err(|_| Error::internal("the keys cannot be encoded"))
}

fn decode(bytes: &[u8]) -> Result<MemoryStore> {
    let corrupt = || Error::storage("the stored WebAuthn keys are corrupt or of an unknown schema");
    let stored: Stored = serde_json::from_slice(bytes).map_err(|_| corrupt())?;
    if stored.version != VERSION {
        return Err(corrupt());
    }
    let b64 = |s: &str| URL_SAFE_NO_PAD.decode(s).map_err(|_| corrupt());
    stored
        .credentials
        .into_iter()
        .map(|c| {
            let id = b64(&c.credential_id)?;
            let key = CoseKey::from_slice(&b64(&c.private_key)?).map_err(|_| corrupt())?;
            let user_handle = c.user_handle.as_deref().map(b64).transpose()?;
            let passkey = Passkey {
                key,
                credential_id: Bytes::from(id.clone()),
                rp_id: c.rp_id,
                user_handle: user_handle.map(Bytes::from),
                username: c.username,
                user_display_name: c.user_display_name,
                counter: c.counter,
                extensions: Default::default(),
            };
            Ok((id, passkey))
        })
        .collect()
}

/// Runs a store call on a blocking thread.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| Error::internal("a store task failed"))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore as Tokens;
    use serde_json::{Value, json};

    fn creation_options() -> String {
        json!({
            "rp": {"id": "localhost", "name": "ZITADEL"},
            "user": {"id": "dXNlci0x", "name": "ada", "displayName": "Ada"},
            "challenge": "Y2hhbGxlbmdlLWNoYWxsZW5nZQ",
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            "authenticatorSelection": {"userVerification": "required"},
            "attestation": "none"
        })
        .to_string()
    }

    #[tokio::test]
    async fn keys_survive_in_the_store_and_never_show_in_debug() {
        let store: Arc<dyn TokenStore> = Arc::new(Tokens::new());
        let a = SoftwareAuthenticator::new(store.clone(), "ada").unwrap();
        let cred: Value = serde_json::from_str(
            &a.create(&creation_options(), "http://localhost:8080")
                .await
                .unwrap(),
        )
        .unwrap();
        assert!(
            cred["rawId"].is_string(),
            "binary fields are base64url: {cred}"
        );
        assert!(cred["response"]["attestationObject"].is_string());

        // A new instance on the same store signs with the same key
        let b = SoftwareAuthenticator::new(store.clone(), "ada").unwrap();
        assert_eq!(b.credential_count().await.unwrap(), 1);
        let request = json!({"challenge": "b3RoZXItY2hhbGxlbmdl", "rpId": "localhost",
            "allowCredentials": [{"type": "public-key", "id": cred["rawId"]}],
            "userVerification": "required"})
        .to_string();
        let assertion: Value =
            serde_json::from_str(&b.get(&request, "http://localhost:8080").await.unwrap()).unwrap();
        assert_eq!(assertion["id"], cred["id"]);
        assert!(assertion["response"]["signature"].is_string());

        // Another account has no keys
        let other = SoftwareAuthenticator::new(store.clone(), "bob").unwrap();
        let e = other
            .get(&request, "http://localhost:8080")
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotFound, "{e}");

        let stored = store.load(&b.key).unwrap().unwrap();
        let private =
            serde_json::from_slice::<Value>(&stored).unwrap()["credentials"][0]["privateKey"]
                .as_str()
                .unwrap()
                .to_owned();
        let debug = format!("{b:?}");
        assert!(
            !debug.contains(&private) && debug.contains("ada"),
            "{debug}"
        );

        b.forget().await.unwrap();
        assert_eq!(a.credential_count().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn wrong_inputs_are_typed_errors() {
        let a = SoftwareAuthenticator::new(Arc::new(Tokens::new()), "ada").unwrap();
        let e = a.create("not json", "http://localhost").await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput);
        let e = a
            .create(&creation_options(), "no origin")
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput);
        let e = a
            .create(&creation_options(), "http://example.com")
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Misconfigured, "{e}");
        assert!(SoftwareAuthenticator::new(Arc::new(Tokens::new()), "").is_err());
        let store = Arc::new(Tokens::new());
        let b = SoftwareAuthenticator::new(store.clone(), "ada").unwrap();
        store.save(&b.key, b"{not the schema").unwrap();
        assert_eq!(
            b.credential_count().await.unwrap_err().code(),
            ErrorCode::Storage
        );
    }
}
