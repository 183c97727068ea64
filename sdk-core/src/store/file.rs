use super::{StoreLock, TokenStore, valid_key};
use crate::error::{Error, Result};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// The largest value a [`FileStore`] writes or reads back: 1 MiB. A bigger
/// store file is refused as damaged or planted, not read into memory.
const MAX_FILE_SIZE: usize = 1024 * 1024;

/// A temporary file older than this was left by a writer that crashed.
const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);

/// How often [`FileStore::lock`](TokenStore::lock) retries a held lock.
const LOCK_POLL: Duration = Duration::from_millis(10);

/// A directory of files, one per key, each replaced atomically (write to a
/// temporary file, fsync, rename) and readable by the owner only (0600; the
/// directory 0700). A damaged file affects only its own key.
///
/// On Unix the directory must be owned by the current user, must not be
/// writable by group or others and must not be a symlink; store files are
/// opened without following symlinks. Temporary files left by crashed
/// writers are removed when the store is opened. [`TokenStore::lock`] takes
/// an advisory lock file `.{key}.lock` shared by all processes.
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store in `dir`, created (0700) when missing.
    ///
    /// # Errors
    /// The directory cannot be created, `dir` is not a directory, is a
    /// symlink, or (on Unix) is writable by group or others or not owned by
    /// the current user. An existing directory is never re-permissioned.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        match fs::symlink_metadata(&dir) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_private_dir(&dir)?,
            Err(e) => return Err(io_err("cannot inspect the store directory", e)),
        }
        check_dir(&dir)?;
        let store = FileStore { dir };
        store.remove_stale_temp_files(SystemTime::now());
        Ok(store)
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

    /// Removes the `.{key}.{pid}.{rand}.tmp` files older than
    /// [`STALE_TEMP_AGE`]; a younger one may belong to a running writer.
    /// Best effort: a file that cannot be inspected or removed stays.
    fn remove_stale_temp_files(&self, now: SystemTime) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            if !entry.file_name().to_str().is_some_and(is_temp_name) {
                continue;
            }
            // `DirEntry::metadata` does not follow symlinks.
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if !(meta.is_file() || meta.file_type().is_symlink()) {
                continue;
            }
            let stale = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|age| age >= STALE_TEMP_AGE);
            if stale {
                let _ = fs::remove_file(entry.path());
            }
        }
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

/// Whether `name` is a temporary file of [`FileStore::save`]:
/// `.{key}.{pid}.{rand}.tmp`.
fn is_temp_name(name: &str) -> bool {
    let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let mut parts = inner.rsplitn(3, '.');
    let digits =
        |s: Option<&str>| s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    digits(parts.next()) && digits(parts.next()) && parts.next().is_some_and(valid_key)
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

/// Refuses a store directory that is a symlink, not a directory, or (on
/// Unix) shared with other users.
fn check_dir(dir: &Path) -> Result<()> {
    let meta =
        fs::symlink_metadata(dir).map_err(|e| io_err("cannot inspect the store directory", e))?;
    if meta.file_type().is_symlink() {
        return Err(Error::store(
            "the store directory is a symlink; refusing to follow it",
        ));
    }
    if !meta.is_dir() {
        return Err(Error::store("the file store path is not a directory"));
    }
    check_dir_owner_and_mode(&meta)
}

#[cfg(unix)]
fn check_dir_owner_and_mode(meta: &fs::Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    if meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(Error::store(
            "the store directory is not owned by the current user",
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(Error::store(
            "the store directory is writable by group or others; make it private (0700)",
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_dir_owner_and_mode(_meta: &fs::Metadata) -> Result<()> {
    Ok(())
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

/// Opens `o` at `path` without following a symlink in the last component
/// (O_NOFOLLOW on Unix; a check before opening elsewhere). A symlink is
/// reported as such, a missing file as `NotFound`.
fn open_no_follow(o: &mut fs::OpenOptions, path: &Path, what: &str) -> Result<Option<fs::File>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: a FIFO planted in place of a store file must not hang
        // the open; it changes nothing for regular files.
        o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(symlink_err(what));
    }
    let file = match o.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(symlink_err(what));
            }
            return Err(io_err(&format!("cannot open the {what}"), e));
        }
    };
    let meta = file
        .metadata()
        .map_err(|e| io_err(&format!("cannot inspect the {what}"), e))?;
    if !meta.is_file() {
        return Err(Error::store(format!("the {what} is not a regular file")));
    }
    Ok(Some(file))
}

fn symlink_err(what: &str) -> Error {
    Error::store(format!("the {what} is a symlink; refusing to follow it"))
}

/// Holds a locked lock file; unlocking on drop (closing would too).
struct FileLock(fs::File);

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl TokenStore for FileStore {
    fn load(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(key)?;
        let Some(file) = open_no_follow(fs::OpenOptions::new().read(true), &path, "store file")?
        else {
            return Ok(None);
        };
        let mut value = Vec::new();
        file.take(MAX_FILE_SIZE as u64 + 1)
            .read_to_end(&mut value)
            .map_err(|e| io_err("cannot read the store file", e))?;
        if value.len() > MAX_FILE_SIZE {
            return Err(Error::store("the store file is larger than 1 MiB"));
        }
        Ok(Some(value))
    }

    fn save(&self, key: &str, value: &[u8]) -> Result<()> {
        let path = self.path(key)?;
        if value.len() > MAX_FILE_SIZE {
            return Err(Error::store("the value is larger than 1 MiB"));
        }
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

    /// Locks `.{key}.lock` in the store directory (an advisory lock, see
    /// [`fs::File::try_lock`]), retrying every 10 ms until `wait` has passed.
    fn lock(&self, key: &str, wait: Duration) -> Result<Option<StoreLock>> {
        if !valid_key(key) {
            return Err(Error::store("invalid store key"));
        }
        let path = self.dir.join(format!(".{key}.lock"));
        let mut o = fs::OpenOptions::new();
        o.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let Some(file) = open_no_follow(&mut o, &path, "store lock file")? else {
            // Only a directory removed under us gets here.
            return Err(Error::store("cannot create the store lock file"));
        };
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(StoreLock::new(FileLock(file)))),
                Err(fs::TryLockError::WouldBlock) => {}
                Err(fs::TryLockError::Error(e)) => {
                    return Err(io_err("cannot lock the store lock file", e));
                }
            }
            let elapsed = start.elapsed();
            if elapsed >= wait {
                return Err(Error::store("another process holds the store lock"));
            }
            std::thread::sleep(LOCK_POLL.min(wait - elapsed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn new_store(dir: &Path) -> FileStore {
        FileStore::new(dir).unwrap_or_else(|e| panic!("{e}"))
    }

    fn storage_error<T: std::fmt::Debug>(r: Result<T>) -> Error {
        match r {
            Ok(v) => panic!("expected a storage error, got {v:?}"),
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::Storage, "{e}");
                e
            }
        }
    }

    #[test]
    fn file_store_meets_the_store_contract() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = new_store(&dir.path().join("nested"));
        super::super::contract::check(&store);
    }

    #[cfg(unix)]
    #[test]
    fn files_are_private_to_the_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = new_store(&dir.path().join("s"));
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
        let store = new_store(dir.path());
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
        let store = new_store(dir.path());
        let e = store.save("../x", b"v").err();
        assert_eq!(e.map(|e| e.code()), Some(ErrorCode::Storage));
    }

    #[cfg(unix)]
    #[test]
    fn a_store_directory_writable_by_group_or_others_is_refused_not_chmodded() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for mode in [0o770, 0o702, 0o777] {
            let d = dir.path().join(format!("d{mode:o}"));
            fs::create_dir(&d).unwrap_or_else(|e| panic!("{e}"));
            fs::set_permissions(&d, fs::Permissions::from_mode(mode))
                .unwrap_or_else(|e| panic!("{e}"));
            let e = storage_error(FileStore::new(&d));
            assert!(e.to_string().contains("writable by group or others"), "{e}");
            let now = fs::metadata(&d).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(now.ok(), Some(mode), "the mode is left alone");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_store_directory_owned_by_another_user_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let foreign = if rustix::process::geteuid().is_root() {
            // Root can hand a directory to someone else.
            let d = dir.path().join("theirs");
            fs::create_dir(&d).unwrap_or_else(|e| panic!("{e}"));
            std::os::unix::fs::chown(&d, Some(4242), None).unwrap_or_else(|e| panic!("{e}"));
            d
        } else {
            // Owned by root and not writable by others, unless this is a
            // sandbox where the current user owns the root directory.
            use std::os::unix::fs::MetadataExt;
            let euid = rustix::process::geteuid().as_raw();
            if fs::metadata("/").map(|m| m.uid()).ok() == Some(euid) {
                eprintln!("skipped: the current user owns /");
                return;
            }
            PathBuf::from("/")
        };
        let e = storage_error(FileStore::new(&foreign));
        assert!(
            e.to_string().contains("not owned by the current user"),
            "{e}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_store_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let real = dir.path().join("real");
        new_store(&real);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap_or_else(|e| panic!("{e}"));
        let e = storage_error(FileStore::new(&link));
        assert!(e.to_string().contains("symlink"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_in_place_of_a_store_file_is_refused_on_load() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = new_store(&dir.path().join("s"));
        let target = dir.path().join("elsewhere");
        fs::write(&target, b"secret-token").unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(&target, dir.path().join("s/k.json"))
            .unwrap_or_else(|e| panic!("{e}"));
        let e = storage_error(store.load("k"));
        let text = format!("{e} {e:?}");
        assert!(text.contains("symlink"), "{text}");
        assert!(!text.contains("secret-token"), "{text}");
    }

    #[test]
    fn a_store_file_over_one_mib_is_refused_on_load() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = new_store(dir.path());
        fs::write(dir.path().join("big.json"), vec![b'x'; MAX_FILE_SIZE + 1])
            .unwrap_or_else(|e| panic!("{e}"));
        let e = storage_error(store.load("big"));
        assert!(e.to_string().contains("larger than 1 MiB"), "{e}");
        fs::write(dir.path().join("max.json"), vec![b'x'; MAX_FILE_SIZE])
            .unwrap_or_else(|e| panic!("{e}"));
        let v = store.load("max").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.map(|v| v.len()), Some(MAX_FILE_SIZE));
    }

    #[test]
    fn saving_a_value_over_one_mib_is_refused_and_keeps_the_old_value() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = new_store(dir.path());
        store.save("k", b"old").unwrap_or_else(|e| panic!("{e}"));
        storage_error(store.save("k", &vec![0u8; MAX_FILE_SIZE + 1]));
        let v = store.load("k").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.as_deref(), Some(&b"old"[..]));
    }

    #[test]
    fn stale_temporary_files_are_removed_on_open_but_fresh_ones_stay() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        new_store(dir.path())
            .save("k", b"v")
            .unwrap_or_else(|e| panic!("{e}"));
        let stale = dir.path().join(".k.123.456.tmp");
        let fresh = dir.path().join(".k.123.789.tmp");
        let unrelated = dir.path().join(".notes.tmp");
        for p in [&stale, &fresh, &unrelated] {
            fs::write(p, b"partial").unwrap_or_else(|e| panic!("{e}"));
        }
        let old = SystemTime::now() - Duration::from_secs(11 * 60);
        for p in [&stale, &unrelated] {
            fs::File::options()
                .write(true)
                .open(p)
                .and_then(|f| f.set_modified(old))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let store = new_store(dir.path());
        assert!(!stale.exists(), "a stale temporary file is removed");
        assert!(fresh.exists(), "a fresh one may belong to a running writer");
        assert!(unrelated.exists(), "files the store did not write stay");
        let v = store.load("k").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.as_deref(), Some(&b"v"[..]), "stored values stay");
    }

    #[test]
    fn temporary_file_names_are_recognised_exactly() {
        assert!(is_temp_name(".session-ab.12.34.tmp"));
        assert!(!is_temp_name(".session-ab.lock"));
        assert!(!is_temp_name("session-ab.12.34.tmp"));
        assert!(!is_temp_name(".session-ab.12.x.tmp"));
        assert!(!is_temp_name(".12.34.tmp"));
    }

    #[test]
    fn a_second_lock_on_the_same_key_waits_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = std::sync::Arc::new(new_store(dir.path()));
        let first = store
            .lock("k", Duration::ZERO)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(first.is_some());
        let (tx, rx) = std::sync::mpsc::channel();
        let s = store.clone();
        let waiter = std::thread::spawn(move || {
            let second = s.lock("k", Duration::from_secs(10));
            tx.send(()).ok();
            second.map(|g| g.is_some())
        });
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "the second lock waits while the first is held"
        );
        drop(first);
        assert!(
            rx.recv_timeout(Duration::from_secs(5)).is_ok(),
            "the second lock is taken once the first is dropped"
        );
        let got = waiter.join().unwrap_or_else(|_| panic!("waiter panicked"));
        assert!(matches!(got, Ok(true)), "{got:?}");
    }

    #[test]
    fn a_lock_held_past_the_wait_gives_a_storage_error() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = new_store(dir.path());
        let _held = store
            .lock("k", Duration::ZERO)
            .unwrap_or_else(|e| panic!("{e}"));
        let start = Instant::now();
        let e = storage_error(store.lock("k", Duration::from_millis(100)));
        assert!(start.elapsed() >= Duration::from_millis(100));
        assert!(
            e.to_string()
                .contains("another process holds the store lock"),
            "{e}"
        );
    }

    #[test]
    fn locks_on_different_keys_do_not_block_each_other() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = new_store(dir.path());
        let a = store.lock("a", Duration::ZERO);
        let b = store.lock("b", Duration::ZERO);
        assert!(matches!(a, Ok(Some(_))), "{a:?}");
        assert!(matches!(b, Ok(Some(_))), "{b:?}");
    }

    #[test]
    fn lock_files_survive_reopening_and_do_not_disturb_values() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = new_store(dir.path());
        store.save("k", b"v").unwrap_or_else(|e| panic!("{e}"));
        drop(store.lock("k", Duration::ZERO));
        let store = new_store(dir.path());
        assert!(dir.path().join(".k.lock").exists(), "lock files are kept");
        assert_eq!(store.load("k").ok().flatten().as_deref(), Some(&b"v"[..]));
        let lock = store.lock("k", Duration::ZERO);
        assert!(matches!(lock, Ok(Some(_))), "{lock:?}");
        assert_eq!(
            format!("{:?}", lock.ok().flatten()),
            "Some(StoreLock { .. })"
        );
    }

    #[cfg(unix)]
    #[test]
    fn lock_files_are_private_and_never_followed_through_a_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = new_store(dir.path());
        drop(store.lock("k", Duration::ZERO));
        let mode = fs::metadata(dir.path().join(".k.lock"))
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o600);
        let target = dir.path().join("target");
        std::os::unix::fs::symlink(&target, dir.path().join(".s.lock"))
            .unwrap_or_else(|e| panic!("{e}"));
        let e = storage_error(store.lock("s", Duration::ZERO));
        assert!(e.to_string().contains("symlink"), "{e}");
        assert!(!target.exists(), "the symlink's target is not created");
    }

    /// Set in the child process of
    /// `a_lock_held_by_another_process_blocks_until_it_exits`.
    const CHILD_DIR: &str = "ZID_TEST_LOCK_CHILD_DIR";

    /// The child half of the cross-process test: takes the lock, says so
    /// with a marker file and holds it for a moment. A no-op otherwise.
    #[test]
    fn lock_child_process_helper() {
        let Some(dir) = std::env::var_os(CHILD_DIR) else {
            return;
        };
        let dir = PathBuf::from(dir);
        let store = new_store(&dir);
        let guard = store
            .lock("k", Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("{e}"));
        fs::write(dir.join("child-locked"), b"").unwrap_or_else(|e| panic!("{e}"));
        std::thread::sleep(Duration::from_millis(500));
        drop(guard);
    }

    #[test]
    fn a_lock_held_by_another_process_blocks_until_it_exits() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = new_store(dir.path());
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
        let mut child = std::process::Command::new(exe)
            .args([
                "--exact",
                "store::file::tests::lock_child_process_helper",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        let marker = dir.path().join("child-locked");
        let start = Instant::now();
        while !marker.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the child never took the lock"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        storage_error(store.lock("k", Duration::from_millis(50)));
        let got = store.lock("k", Duration::from_secs(10));
        assert!(matches!(got, Ok(Some(_))), "{got:?}");
        let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
        assert!(status.success(), "child: {status}");
    }
}
