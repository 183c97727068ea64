use super::TokenStore;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::Mutex;

/// An in-memory store: nothing survives the process. For tests and for apps
/// that must not persist anything.
#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Vec<u8>>>> {
        self.map
            .lock()
            .map_err(|_| Error::store("memory store lock poisoned"))
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemoryStore")
    }
}

impl TokenStore for MemoryStore {
    fn load(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.lock()?.get(key).cloned())
    }

    fn save(&self, key: &str, value: &[u8]) -> Result<()> {
        self.lock()?.insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.lock()?.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn memory_store_meets_the_store_contract() {
        super::super::contract::check(&super::MemoryStore::new());
    }

    #[test]
    fn debug_shows_no_contents() {
        let s = super::MemoryStore::new();
        use super::TokenStore;
        s.save("k", b"secret-token").ok();
        assert_eq!(format!("{s:?}"), "MemoryStore");
    }
}
