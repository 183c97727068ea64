//! Token storage: the [`TokenStore`] trait and its memory, file and OS
//! keyring backends.
//!
//! A store holds opaque byte blobs under short ASCII keys; the SDK decides
//! what goes in them (a versioned JSON schema, see [`crate::session`]).
//! Several accounts live side by side under different keys.
//!
//! [`TokenStore::lock`] serializes work across processes sharing a store (the
//! [`FileStore`] takes a lock file; the others need none and return no guard).

#[cfg(feature = "keyring")]
mod chunked;
mod file;
#[cfg(feature = "keyring")]
mod keyring;
mod memory;

pub use file::FileStore;
#[cfg(feature = "keyring")]
pub use keyring::KeyringStore;
pub use memory::MemoryStore;

use crate::error::Result;

/// Where the SDK persists sessions, in-flight logins and cached discovery.
///
/// Implementations must be safe to call from several threads; each call is
/// short. `save` must replace the value atomically: a reader sees the old or
/// the new value, never a mix. Keys are at most 80 characters of
/// `[a-z0-9._-]`.
pub trait TokenStore: Send + Sync + std::fmt::Debug {
    /// Reads the value under `key`; `Ok(None)` when there is none.
    ///
    /// # Errors
    /// A backend failure, as an error with code [`crate::ErrorCode::Storage`].
    fn load(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// Stores `value` under `key`, replacing any previous value atomically.
    ///
    /// # Errors
    /// A backend failure, as an error with code [`crate::ErrorCode::Storage`].
    fn save(&self, key: &str, value: &[u8]) -> Result<()>;

    /// Removes the value under `key`; removing a missing key is not an error.
    ///
    /// # Errors
    /// A backend failure, as an error with code [`crate::ErrorCode::Storage`].
    fn delete(&self, key: &str) -> Result<()>;

    /// Takes a cross-process lock named after `key` for the duration of the
    /// returned guard, waiting at most `wait`. Stores without cross-process
    /// sharing return `Ok(None)` (the default). Blocking: the SDK calls it
    /// from a blocking thread.
    ///
    /// # Errors
    /// The lock is still held by someone else after `wait`, or the backend
    /// failed; both with code [`crate::ErrorCode::Storage`].
    fn lock(&self, key: &str, wait: std::time::Duration) -> Result<Option<StoreLock>> {
        let _ = (key, wait);
        Ok(None)
    }
}

/// A held cross-process store lock (see [`TokenStore::lock`]); released
/// when dropped.
///
/// Opaque: it owns whatever the store needs to keep the lock (for the
/// [`FileStore`], an open, locked file). A store provided by the host
/// application wraps its own guard with [`StoreLock::new`].
pub struct StoreLock {
    _guard: Box<dyn Send + Sync>,
}

impl StoreLock {
    /// Wraps `guard`, which holds the lock until it is dropped.
    pub fn new(guard: impl Send + Sync + 'static) -> Self {
        StoreLock {
            _guard: Box::new(guard),
        }
    }
}

impl std::fmt::Debug for StoreLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreLock").finish_non_exhaustive()
    }
}

/// Checks the key format every backend relies on.
pub(crate) fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 80
        && key.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_' || b == b'-'
        })
        && !key.starts_with('.')
}

#[cfg(test)]
pub(crate) mod contract {
    //! The behaviour every backend must show; each backend's tests call this.
    use super::TokenStore;

    pub(crate) fn check(store: &dyn TokenStore) {
        assert_eq!(store.load("acct-a").ok().flatten(), None);
        store.save("acct-a", b"one").ok();
        store.save("acct-b", b"two").ok();
        assert_eq!(
            store.load("acct-a").ok().flatten().as_deref(),
            Some(&b"one"[..])
        );
        store.save("acct-a", b"three").ok();
        assert_eq!(
            store.load("acct-a").ok().flatten().as_deref(),
            Some(&b"three"[..])
        );
        store.delete("acct-a").ok();
        assert_eq!(store.load("acct-a").ok().flatten(), None);
        assert!(
            store.delete("acct-a").is_ok(),
            "deleting a missing key is fine"
        );
        assert_eq!(
            store.load("acct-b").ok().flatten().as_deref(),
            Some(&b"two"[..]),
            "other accounts are untouched"
        );
        store.delete("acct-b").ok();
    }
}

#[cfg(test)]
mod tests {
    use super::{MemoryStore, StoreLock, TokenStore, valid_key};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[test]
    fn stores_without_cross_process_sharing_lock_to_no_guard() {
        let lock = MemoryStore::new().lock("acct-a", Duration::from_secs(1));
        assert!(matches!(lock, Ok(None)), "{lock:?}");
    }

    #[test]
    fn a_store_lock_releases_its_guard_on_drop_and_shows_no_contents() {
        struct Guard(Arc<AtomicBool>);
        impl Drop for Guard {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let released = Arc::new(AtomicBool::new(false));
        let lock = StoreLock::new(Guard(released.clone()));
        assert_eq!(format!("{lock:?}"), "StoreLock { .. }");
        assert!(!released.load(Ordering::SeqCst));
        drop(lock);
        assert!(released.load(Ordering::SeqCst));
    }

    #[test]
    fn keys_are_short_safe_ascii() {
        assert!(valid_key("session-0123abcd"));
        assert!(!valid_key(""));
        assert!(!valid_key("../etc/passwd"));
        assert!(!valid_key(".hidden"));
        assert!(!valid_key("Upper"));
        assert!(!valid_key(&"a".repeat(81)));
    }
}
