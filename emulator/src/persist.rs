//! `--data DIR`: the instance state in SQLite, written through after every
//! request that changed it and loaded at start instead of the seed.
//!
//! Schema version 1 keeps the whole state as one JSON document (the model
//! types are plain serde data) plus the seed info, in table `snapshot`.
//! A later schema can split it into tables; `schema_version` tells which.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension as _, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::model::State;
use crate::seed::{SeedInfo, SeedUserInfo};

/// Current schema version of the database.
const SCHEMA_VERSION: i64 = 1;
/// File name inside the data directory.
const FILE_NAME: &str = "zitadel-emulator.sqlite3";

/// Errors of the persistence layer.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// The data directory or database cannot be opened.
    #[error("cannot open {path}: {message}")]
    Open {
        /// The database path.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The database holds a newer or unknown schema.
    #[error("unsupported data schema version {0}")]
    Schema(i64),
    /// A stored document cannot be read or written.
    #[error("stored state is unreadable: {0}")]
    Corrupt(String),
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The seed info with the fields that are not printed.
#[derive(Debug, Serialize, Deserialize)]
struct StoredInfo {
    client_id: String,
    login_client_token: String,
    org_id: String,
    project_id: String,
    org_domain: String,
    users: Vec<StoredUser>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredUser {
    login_name: String,
    password: String,
    roles: Vec<String>,
    user_id: String,
}

/// The SQLite store.
#[derive(Debug)]
pub(crate) struct Store {
    conn: Mutex<Connection>,
    /// Hash of the last state written, to skip unchanged writes.
    last: Mutex<Option<[u8; 32]>>,
}

impl Store {
    /// Opens (and creates) the database in `dir`.
    pub(crate) fn open(dir: &Path) -> Result<Self, PersistError> {
        let path = dir.join(FILE_NAME);
        let open_err = |message: String| PersistError::Open {
            path: path.clone(),
            message,
        };
        std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        let conn = Connection::open(&path).map_err(|e| open_err(e.to_string()))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS snapshot (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 schema_version INTEGER NOT NULL,
                 state TEXT NOT NULL,
                 seed_info TEXT NOT NULL,
                 saved_at INTEGER NOT NULL
             );",
        )?;
        Ok(Self {
            conn: Mutex::new(conn),
            last: Mutex::new(None),
        })
    }

    /// Loads the stored state and seed info, if any. The issuer of the
    /// returned seed info is `issuer` (the port may differ between runs).
    pub(crate) fn load(&self, issuer: &str) -> Result<Option<(State, SeedInfo)>, PersistError> {
        let conn = self
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let row: Option<(i64, String, String)> = conn
            .query_row(
                "SELECT schema_version, state, seed_info FROM snapshot WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((version, state, info)) = row else {
            return Ok(None);
        };
        if version != SCHEMA_VERSION {
            return Err(PersistError::Schema(version));
        }
        let state: State =
            serde_json::from_str(&state).map_err(|e| PersistError::Corrupt(e.to_string()))?;
        let info: StoredInfo =
            serde_json::from_str(&info).map_err(|e| PersistError::Corrupt(e.to_string()))?;
        let info = SeedInfo {
            issuer: issuer.to_owned(),
            client_id: info.client_id,
            login_client_token: info.login_client_token,
            org_id: info.org_id,
            users: info
                .users
                .into_iter()
                .map(|u| SeedUserInfo {
                    login_name: u.login_name,
                    password: u.password,
                    roles: u.roles,
                    user_id: u.user_id,
                })
                .collect(),
            project_id: info.project_id,
            org_domain: info.org_domain,
        };
        Ok(Some((state, info)))
    }

    /// Writes the state (and seed info) if it changed since the last write.
    /// `snapshot` serializes the state; it is called with the database lock
    /// held, so snapshots reach the disk in the order they were taken.
    pub(crate) fn save(
        &self,
        snapshot: impl FnOnce() -> Result<String, serde_json::Error>,
        info: &SeedInfo,
    ) -> Result<(), PersistError> {
        let conn = self
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let json = snapshot().map_err(|e| PersistError::Corrupt(e.to_string()))?;
        let hash: [u8; 32] = Sha256::digest(json.as_bytes()).into();
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *last == Some(hash) {
            return Ok(());
        }
        let stored = StoredInfo {
            client_id: info.client_id.clone(),
            login_client_token: info.login_client_token.clone(),
            org_id: info.org_id.clone(),
            project_id: info.project_id.clone(),
            org_domain: info.org_domain.clone(),
            users: info
                .users
                .iter()
                .map(|u| StoredUser {
                    login_name: u.login_name.clone(),
                    password: u.password.clone(),
                    roles: u.roles.clone(),
                    user_id: u.user_id.clone(),
                })
                .collect(),
        };
        let info_json =
            serde_json::to_string(&stored).map_err(|e| PersistError::Corrupt(e.to_string()))?;
        conn.execute(
            "INSERT INTO snapshot (id, schema_version, state, seed_info, saved_at)
             VALUES (1, ?1, ?2, ?3, ?4)
             ON CONFLICT(id) DO UPDATE SET schema_version = excluded.schema_version,
                 state = excluded.state, seed_info = excluded.seed_info, saved_at = excluded.saved_at",
            params![SCHEMA_VERSION, json, info_json, crate::util::now()],
        )?;
        *last = Some(hash);
        Ok(())
    }
}
