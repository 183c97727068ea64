use super::chunked::{self, ENTRY_LIMIT, RawEntries};
use super::{TokenStore, valid_key};
use crate::error::{Error, Result};
use keyring_core::{CredentialStore, Entry};
use std::sync::Arc;

/// The OS keyring: the Secret Service (GNOME Keyring, KWallet) on Linux, the
/// login keychain on macOS, the protected-data keychain on iOS, the Credential
/// Manager on Windows and, with the feature `keyring-android`, the Android
/// Keystore. Items belong to the service `zitadel-sdk`.
///
/// No keyring item is larger than 2560 bytes (the Windows limit, applied on
/// every platform): a key's item is a small head that holds the value inline
/// or names numbered chunk items `{key}.{generation}.{i}`; a save replaces
/// the head atomically, so a crash leaves the old or the new value. Values
/// written by earlier versions (one raw item per key) are read as they are
/// and rewritten in this layout on the next save.
pub struct KeyringStore {
    entries: KeyringEntries,
}

/// Single items of the platform keyring.
struct KeyringEntries {
    store: Arc<CredentialStore>,
    service: String,
}

const SERVICE: &str = "zitadel-sdk";

impl KeyringStore {
    /// Connects to the platform keyring.
    ///
    /// # Errors
    /// No keyring is reachable (e.g. no Secret Service on the session bus).
    pub fn new() -> Result<Self> {
        Self::with_service(SERVICE)
    }

    /// Connects to the platform keyring, naming items with `service`
    /// (lets tests and several apps keep their items apart).
    ///
    /// # Errors
    /// No keyring is reachable.
    pub fn with_service(service: &str) -> Result<Self> {
        let store: Arc<CredentialStore> = platform_store()?;
        let this = KeyringStore {
            entries: KeyringEntries {
                store,
                service: service.to_owned(),
            },
        };
        // Probe once, so an unreachable keyring shows up here, not later.
        this.entries.get("probe")?;
        Ok(this)
    }
}

impl KeyringEntries {
    fn entry(&self, key: &str) -> Result<Entry> {
        if !valid_key(key) {
            return Err(Error::store("invalid store key"));
        }
        Entry::new_in_store(&self.store, &self.service, key).map_err(map_err)
    }
}

impl RawEntries for KeyringEntries {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match self.entry(key)?.get_secret() {
            Ok(v) => Ok(Some(v)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }

    /// The Secret Service and the Credential Manager store the bytes given
    /// to `set_secret` as they are, so the limit is checked on those.
    fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        if value.len() > ENTRY_LIMIT {
            return Err(Error::store("a keyring item would exceed 2560 bytes"));
        }
        self.entry(key)?.set_secret(value).map_err(map_err)
    }

    fn delete(&self, key: &str) -> Result<()> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(e)),
        }
    }
}

#[cfg(target_os = "linux")]
fn platform_store() -> Result<Arc<CredentialStore>> {
    let s = zbus_secret_service_keyring_store::Store::new().map_err(map_err)?;
    Ok(s)
}

// The login keychain: usable by unsigned command-line programs as well.
// Compile-checked by scripts/cross-check.sh, not run on the project's machines.
#[cfg(target_os = "macos")]
fn platform_store() -> Result<Arc<CredentialStore>> {
    let s = apple_native_keyring_store::keychain::Store::new().map_err(map_err)?;
    Ok(s)
}

// iOS has only the protected-data keychain (items in the app's access group).
// Compile-checked by scripts/cross-check.sh, not run on the project's machines.
#[cfg(target_os = "ios")]
fn platform_store() -> Result<Arc<CredentialStore>> {
    let s = apple_native_keyring_store::protected::Store::new().map_err(map_err)?;
    Ok(s)
}

// Compile-checked by scripts/cross-check.sh, not run on the project's machines.
#[cfg(target_os = "windows")]
fn platform_store() -> Result<Arc<CredentialStore>> {
    let s = windows_native_keyring_store::Store::new().map_err(map_err)?;
    Ok(s)
}

// SharedPreferences encrypted with an Android Keystore key. The store finds
// the app's Context through the `ndk-context` crate, which panics when the app
// has not handed it over yet; that panic becomes a typed error here.
// Compile-checked by scripts/cross-check.sh, not run on the project's machines.
#[cfg(all(target_os = "android", feature = "keyring-android"))]
fn platform_store() -> Result<Arc<CredentialStore>> {
    let config = std::collections::HashMap::from([("name", SERVICE)]);
    match std::panic::catch_unwind(|| {
        android_native_keyring_store::Store::new_with_configuration(&config)
    }) {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(map_err(e)),
        Err(_) => Err(Error::store(
            "the Android context is not initialized: call io.crates.keyring.Keyring.initializeNdkContext(context) before creating the keyring store",
        )),
    }
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "macos",
    target_os = "ios",
    target_os = "windows",
    all(target_os = "android", feature = "keyring-android")
)))]
fn platform_store() -> Result<Arc<CredentialStore>> {
    Err(Error::store(
        "no keyring backend is compiled in for this platform: enable the feature keyring-android on Android, or pass your own TokenStore",
    ))
}

fn map_err(e: keyring_core::Error) -> Error {
    use keyring_core::Error as K;
    let what = match e {
        K::NoStorageAccess(_) => "the keyring is locked or not reachable",
        K::PlatformFailure(_) => "the keyring failed",
        K::BadEncoding(_) | K::BadDataFormat(..) => "a keyring item has a bad format",
        K::TooLong(..) => "a keyring value is too long",
        _ => "keyring error",
    };
    Error::store(what)
}

impl std::fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringStore")
            .field("service", &self.entries.service)
            .finish()
    }
}

impl TokenStore for KeyringStore {
    fn load(&self, key: &str) -> Result<Option<Vec<u8>>> {
        check_key(key)?;
        chunked::load(&self.entries, key)
    }

    fn save(&self, key: &str, value: &[u8]) -> Result<()> {
        check_key(key)?;
        chunked::save(&self.entries, key, value)
    }

    fn delete(&self, key: &str) -> Result<()> {
        check_key(key)?;
        chunked::delete(&self.entries, key)
    }
}

fn check_key(key: &str) -> Result<()> {
    if valid_key(key) {
        Ok(())
    } else {
        Err(Error::store("invalid store key"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::TokenStore;

    fn keyring_runs() -> bool {
        let on = std::env::var("ZID_TEST_KEYRING").as_deref() == Ok("1");
        if !on {
            eprintln!("skipped: ZID_TEST_KEYRING is not 1");
        }
        on
    }

    /// Runs only where a Secret Service is reachable (the test command starts
    /// gnome-keyring under dbus-run-session and sets `ZID_TEST_KEYRING=1`).
    #[test]
    fn keyring_store_meets_the_store_contract_when_a_keyring_runs() {
        if !keyring_runs() {
            return;
        }
        let store = super::KeyringStore::with_service("zitadel-sdk-test")
            .unwrap_or_else(|e| panic!("keyring: {e}"));
        super::super::contract::check(&store);
    }

    /// A 20 KB value takes nine items, each within the 2560-byte limit.
    #[test]
    fn keyring_store_round_trips_a_20_kb_value_when_a_keyring_runs() {
        use super::RawEntries;
        if !keyring_runs() {
            return;
        }
        let store = super::KeyringStore::with_service("zitadel-sdk-test")
            .unwrap_or_else(|e| panic!("keyring: {e}"));
        let key = "big-value-test";
        let value: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        store
            .save(key, &value)
            .unwrap_or_else(|e| panic!("save: {e}"));
        let head = store.entries.get(key).unwrap_or_else(|e| panic!("{e}"));
        assert!(head.is_some_and(|h| h.len() <= super::ENTRY_LIMIT));
        let back = store.load(key).unwrap_or_else(|e| panic!("load: {e}"));
        assert_eq!(back.as_deref(), Some(&value[..]));
        store.save(key, b"small").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            store.load(key).ok().flatten().as_deref(),
            Some(&b"small"[..])
        );
        store.delete(key).unwrap_or_else(|e| panic!("delete: {e}"));
        assert_eq!(store.load(key).ok().flatten(), None);
    }
}
