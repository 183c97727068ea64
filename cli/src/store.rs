//! Choosing the token store from `--store`.

use crate::output::Out;
use std::path::PathBuf;
use std::sync::Arc;
use zitadel_sdk::store::{FileStore, MemoryStore};
use zitadel_sdk::{Error, ErrorCode, TokenStore};

/// `keyring`, `file:PATH` or `memory`; without a value, the keyring, and a
/// file store in the config directory (with a warning) when no keyring is reachable.
pub fn open(spec: Option<&str>, out: &Out) -> Result<Arc<dyn TokenStore>, Error> {
    match spec {
        Some("memory") => Ok(Arc::new(MemoryStore::new())),
        Some("keyring") => keyring(),
        Some(s) if s.starts_with("file:") => {
            let path = &s["file:".len()..];
            if path.is_empty() {
                return Err(Error::host(
                    ErrorCode::Misconfigured,
                    "--store file:PATH needs a path",
                ));
            }
            Ok(Arc::new(FileStore::new(path)?))
        }
        Some(_) => Err(Error::host(
            ErrorCode::Misconfigured,
            "--store must be keyring, file:PATH or memory",
        )),
        None => match keyring() {
            Ok(s) => Ok(s),
            Err(e) => {
                let dir = config_dir()?;
                out.warn(&format!(
                    "no keyring is reachable ({}); storing tokens in files under {}",
                    e.message(),
                    dir.display()
                ));
                Ok(Arc::new(FileStore::new(dir)?))
            }
        },
    }
}

#[cfg(feature = "keyring")]
fn keyring() -> Result<Arc<dyn TokenStore>, Error> {
    Ok(Arc::new(zitadel_sdk::store::KeyringStore::new()?))
}

#[cfg(not(feature = "keyring"))]
fn keyring() -> Result<Arc<dyn TokenStore>, Error> {
    Err(Error::host(
        ErrorCode::Misconfigured,
        "this zid was built without keyring support",
    ))
}

fn config_dir() -> Result<PathBuf, Error> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"))?;
            let home = PathBuf::from(home);
            Some(if cfg!(target_os = "macos") {
                home.join("Library/Application Support")
            } else {
                home.join(".config")
            })
        })
        .ok_or_else(|| {
            Error::host(
                ErrorCode::Misconfigured,
                "no HOME to put the token store in; use --store",
            )
        })?;
    Ok(base.join("zid").join("store"))
}
