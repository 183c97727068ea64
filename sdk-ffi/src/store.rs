//! [`TokenStore`]: where sessions are persisted — written in the host
//! language (Android Keystore, Apple Keychain, a test double) or one of the
//! Rust stores of sdk-core.

use crate::error::FfiError;
use std::sync::Arc;

/// Where the SDK persists sessions, in-flight logins and cached discovery:
/// opaque byte values under short ASCII keys (`[a-z0-9._-]`, at most 80).
///
/// Implementations must be thread-safe and quick; `save` replaces a value
/// atomically. Errors should be [`FfiError::Storage`]. The values hold
/// tokens: keep them in protected storage and never log them.
#[uniffi::export(rust, foreign)]
pub trait TokenStore: Send + Sync {
    /// The value under `key`, or `None`.
    ///
    /// # Errors
    /// A backend failure ([`FfiError::Storage`]).
    fn load(&self, key: String) -> Result<Option<Vec<u8>>, FfiError>;

    /// Stores `value` under `key`, replacing any previous value.
    ///
    /// # Errors
    /// A backend failure ([`FfiError::Storage`]).
    fn save(&self, key: String, value: Vec<u8>) -> Result<(), FfiError>;

    /// Removes `key`; removing a missing key is not an error.
    ///
    /// # Errors
    /// A backend failure ([`FfiError::Storage`]).
    fn delete(&self, key: String) -> Result<(), FfiError>;
}

/// An sdk-core store offered as a [`TokenStore`].
struct RustStore(Arc<dyn zitadel_sdk::TokenStore>);

impl TokenStore for RustStore {
    fn load(&self, key: String) -> Result<Option<Vec<u8>>, FfiError> {
        Ok(self.0.load(&key)?)
    }
    fn save(&self, key: String, value: Vec<u8>) -> Result<(), FfiError> {
        Ok(self.0.save(&key, &value)?)
    }
    fn delete(&self, key: String) -> Result<(), FfiError> {
        Ok(self.0.delete(&key)?)
    }
}

/// A store that keeps everything in memory (lost when the process ends).
#[uniffi::export]
pub fn memory_token_store() -> Arc<dyn TokenStore> {
    Arc::new(RustStore(Arc::new(zitadel_sdk::store::MemoryStore::new())))
}

/// A store of files in `directory` (created with mode 0700; files 0600,
/// written atomically). For desktop apps; mobile apps use the Keystore or Keychain.
///
/// # Errors
/// [`FfiError::Storage`] when the directory cannot be created.
#[uniffi::export]
pub fn file_token_store(directory: String) -> Result<Arc<dyn TokenStore>, FfiError> {
    let store = zitadel_sdk::store::FileStore::new(directory)?;
    Ok(Arc::new(RustStore(Arc::new(store))))
}

/// The service name of the OS keyring's items when none is given.
const KEYRING_SERVICE: &str = "zitadel-sdk";

/// The OS keyring: the Secret Service (GNOME Keyring, KWallet) on Linux, the
/// login keychain on macOS, the Credential Manager on Windows. For desktop
/// apps; mobile apps pass their Keystore or Keychain store. Items are named
/// with `service` (default `zitadel-sdk`), so several apps keep theirs apart;
/// no item exceeds 2560 bytes (large values are split, saved atomically).
///
/// Available when the library is built with the feature `keyring`.
///
/// # Errors
/// [`FfiError::Misconfigured`] when the library was built without the
/// feature; [`FfiError::Storage`] when no keyring is reachable (e.g. no
/// Secret Service on the session bus) — checked here, not at the first save.
#[uniffi::export(default(service = None))]
pub fn keyring_token_store(service: Option<String>) -> Result<Arc<dyn TokenStore>, FfiError> {
    Ok(Arc::new(RustStore(core_keyring_store(service.as_deref())?)))
}

/// The OS keyring as an sdk-core store (the C configuration uses it too).
pub(crate) fn core_keyring_store(
    service: Option<&str>,
) -> Result<Arc<dyn zitadel_sdk::TokenStore>, FfiError> {
    let service = service.unwrap_or(KEYRING_SERVICE);
    if service.is_empty() {
        return Err(FfiError::invalid_input("the keyring service name is empty"));
    }
    #[cfg(feature = "keyring")]
    {
        let store = zitadel_sdk::store::KeyringStore::with_service(service)?;
        Ok(Arc::new(store))
    }
    #[cfg(not(feature = "keyring"))]
    {
        Err(FfiError::new(
            zitadel_sdk::ErrorCode::Misconfigured,
            "this build of the library has no OS keyring store (feature `keyring`)",
        ))
    }
}

/// A [`TokenStore`] (possibly foreign) as the store sdk-core uses.
pub(crate) struct CoreStore(pub(crate) Arc<dyn TokenStore>);

impl std::fmt::Debug for CoreStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostTokenStore")
    }
}

impl zitadel_sdk::TokenStore for CoreStore {
    fn load(&self, key: &str) -> zitadel_sdk::Result<Option<Vec<u8>>> {
        self.0.load(key.to_owned()).map_err(as_storage)
    }
    fn save(&self, key: &str, value: &[u8]) -> zitadel_sdk::Result<()> {
        self.0
            .save(key.to_owned(), value.to_vec())
            .map_err(as_storage)
    }
    fn delete(&self, key: &str) -> zitadel_sdk::Result<()> {
        self.0.delete(key.to_owned()).map_err(as_storage)
    }
}

/// Any failure of a store is a storage failure for sdk-core.
fn as_storage(e: FfiError) -> zitadel_sdk::Error {
    FfiError::new(zitadel_sdk::ErrorCode::Storage, e.detail()).into_core()
}
