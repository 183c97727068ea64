use super::{TokenStore, valid_key};
use crate::error::{Error, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A directory of files, one per key, each replaced atomically (write to a
/// temporary file, fsync, rename) and readable by the owner only (0600; the
/// directory 0700). A damaged file affects only its own key.
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store in `dir`, created (0700) when missing.
    ///
    /// # Errors
    /// The directory cannot be created, or `dir` is not a directory.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        create_private_dir(&dir)?;
        if !dir.is_dir() {
            return Err(Error::store("the file store path is not a directory"));
        }
        Ok(FileStore { dir })
    }

    /// The directory this store writes to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        if !valid_key(key) {
            return Err(Error::store("invalid store key"));
        }
        Ok(self.dir.join(format!("{key}.json")))
    }
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore").finish_non_exhaustive()
    }
}

fn io_err(what: &str, e: std::io::Error) -> Error {
    Error::store(format!("{what}: {}", e.kind()))
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => Ok(()),
        Err(e) => Err(io_err("cannot create the store directory", e)),
    }
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| io_err("cannot create the store directory", e))
}

fn open_private(path: &Path) -> std::io::Result<fs::File> {
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

impl TokenStore for FileStore {
    fn load(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match fs::read(self.path(key)?) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("cannot read the store file", e)),
        }
    }

    fn save(&self, key: &str, value: &[u8]) -> Result<()> {
        let path = self.path(key)?;
        let tmp = self.dir.join(format!(
            ".{key}.{}.{}.tmp",
            std::process::id(),
            rand::random::<u32>()
        ));
        let write = || -> std::io::Result<()> {
            let mut f = open_private(&tmp)?;
            f.write_all(value)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            // Make the rename durable where the platform allows it.
            if let Ok(d) = fs::File::open(&self.dir) {
                let _ = d.sync_all();
            }
            Ok(())
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            io_err("cannot write the store file", e)
        })
    }

    fn delete(&self, key: &str) -> Result<()> {
        match fs::remove_file(self.path(key)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("cannot delete the store file", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_store_meets_the_store_contract() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = FileStore::new(dir.path().join("nested")).unwrap_or_else(|e| panic!("{e}"));
        super::super::contract::check(&store);
    }

    #[cfg(unix)]
    #[test]
    fn files_are_private_to_the_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = FileStore::new(dir.path().join("s")).unwrap_or_else(|e| panic!("{e}"));
        store.save("k", b"v").unwrap_or_else(|e| panic!("{e}"));
        let mode = fs::metadata(dir.path().join("s/k.json"))
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o600);
        let dmode = fs::metadata(dir.path().join("s"))
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(dmode, 0o700);
    }

    #[test]
    fn save_leaves_no_temporary_files_behind() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = FileStore::new(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        for i in 0..5u8 {
            store.save("k", &[i]).unwrap_or_else(|e| panic!("{e}"));
        }
        let names: Vec<_> = fs::read_dir(dir.path())
            .map(|r| r.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn keys_that_could_escape_the_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = FileStore::new(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let e = store.save("../x", b"v").err();
        assert_eq!(e.map(|e| e.code()), Some(crate::ErrorCode::Storage));
    }
}
