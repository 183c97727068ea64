//! Values split across size-limited keyring entries.
//!
//! The Windows Credential Manager holds at most [`ENTRY_LIMIT`] bytes per
//! entry, and the limit is applied on every platform so a store moves between
//! them unchanged. A value lives under its key as a *head* entry:
//!
//! ```text
//! MAGIC (10) | version (1) | generation (16 hex) | chunks (u32 BE) | length (u64 BE) | SHA-256 (32) | inline value
//! ```
//!
//! A value of at most [`INLINE_MAX`] bytes sits inline in the head (chunks
//! = 0). A larger one is cut into chunks of at most [`ENTRY_LIMIT`] bytes
//! under `{key}.{generation}.{i}`, and the head holds nothing after the hash.
//!
//! `save` writes the chunks of a fresh generation, then replaces the head (the
//! only step that must be atomic) and only then deletes the previous
//! generation's chunks, so a crash at any point leaves the old or the new
//! value readable. `load` checks the chunk count, the length and the hash.
//!
//! Before this layout each value was one raw entry (a JSON object, so it
//! starts with `{`). [`MAGIC`] starts with a NUL byte, which no JSON text can,
//! so a raw entry is told apart from a head and returned as it is; the next
//! save writes the new layout over it.

use super::valid_key;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};

/// The most bytes one keyring entry may hold (the Windows Credential
/// Manager's `CRED_MAX_CREDENTIAL_BLOB_SIZE`), counted on the bytes handed to
/// the keyring, head encoding included.
pub(crate) const ENTRY_LIMIT: usize = 2560;

/// The largest value stored: 1 MiB (like the file store), 410 chunks.
pub(crate) const MAX_VALUE: usize = 1024 * 1024;

/// Marks a head; not the start of any JSON text (legacy values are JSON).
const MAGIC: &[u8; 10] = b"\0zid-chunk";
const VERSION: u8 = 1;
const GENERATION_LEN: usize = 16;
const HEADER_LEN: usize = MAGIC.len() + 1 + GENERATION_LEN + 4 + 8 + 32;

/// The largest value kept inline in the head.
pub(crate) const INLINE_MAX: usize = ENTRY_LIMIT - HEADER_LEN;

const MAX_CHUNKS: usize = MAX_VALUE.div_ceil(ENTRY_LIMIT);

/// Single keyring entries, the unit the chunking works over: the OS keyring
/// in production, a fake that enforces [`ENTRY_LIMIT`] in tests.
pub(crate) trait RawEntries {
    /// The bytes stored under `key`; `Ok(None)` when there is no entry.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Creates or replaces the entry under `key`.
    fn set(&self, key: &str, value: &[u8]) -> Result<()>;
    /// Removes the entry under `key`; a missing entry is not an error.
    fn delete(&self, key: &str) -> Result<()>;
}

/// A parsed head.
#[derive(PartialEq, Eq)]
struct Head {
    generation: String,
    chunks: usize,
    len: usize,
    hash: [u8; 32],
    inline: Vec<u8>,
}

fn corrupt_head() -> Error {
    Error::store("a keyring head entry is corrupt")
}

impl Head {
    /// `Ok(None)` for a legacy raw value (no [`MAGIC`]); an error for a head
    /// that is damaged or of an unknown version.
    fn parse(bytes: &[u8]) -> Result<Option<Head>> {
        let Some(rest) = bytes.strip_prefix(&MAGIC[..]) else {
            return Ok(None);
        };
        let Some((&version, rest)) = rest.split_first() else {
            return Err(corrupt_head());
        };
        if version != VERSION {
            return Err(Error::store(
                "a keyring head entry has an unknown format version",
            ));
        }
        let (generation, rest) = split(rest, GENERATION_LEN)?;
        if !generation
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        {
            return Err(corrupt_head());
        }
        let (chunks, rest) = split(rest, 4)?;
        let (len, rest) = split(rest, 8)?;
        let (hash, inline) = split(rest, 32)?;
        let chunks =
            usize::try_from(u32::from_be_bytes(array(chunks)?)).map_err(|_| corrupt_head())?;
        let len = usize::try_from(u64::from_be_bytes(array(len)?)).map_err(|_| corrupt_head())?;
        let consistent = if chunks == 0 {
            inline.len() == len
        } else {
            inline.is_empty()
                && chunks <= MAX_CHUNKS
                && len > (chunks - 1) * ENTRY_LIMIT
                && len <= chunks * ENTRY_LIMIT
        };
        if !consistent {
            return Err(corrupt_head());
        }
        Ok(Some(Head {
            generation: String::from_utf8_lossy(generation).into_owned(),
            chunks,
            len,
            hash: array(hash)?,
            inline: inline.to_vec(),
        }))
    }

    fn encode(&self) -> Result<Vec<u8>> {
        let chunks = u32::try_from(self.chunks).map_err(|_| Error::store("too many chunks"))?;
        let mut out = Vec::with_capacity(HEADER_LEN + self.inline.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(self.generation.as_bytes());
        out.extend_from_slice(&chunks.to_be_bytes());
        out.extend_from_slice(&(self.len as u64).to_be_bytes());
        out.extend_from_slice(&self.hash);
        out.extend_from_slice(&self.inline);
        Ok(out)
    }
}

fn split(bytes: &[u8], n: usize) -> Result<(&[u8], &[u8])> {
    bytes.split_at_checked(n).ok_or_else(corrupt_head)
}

fn array<const N: usize>(bytes: &[u8]) -> Result<[u8; N]> {
    bytes.try_into().map_err(|_| corrupt_head())
}

fn sha256(value: &[u8]) -> [u8; 32] {
    Sha256::digest(value).into()
}

/// The entry holding chunk `i` of `generation`; refused when it would not
/// be a valid key.
fn chunk_key(key: &str, generation: &str, i: usize) -> Result<String> {
    let k = format!("{key}.{generation}.{i}");
    if valid_key(&k) {
        Ok(k)
    } else {
        Err(Error::store(
            "the store key is too long to split its value across keyring entries",
        ))
    }
}

/// A random generation, different from `old`'s.
fn new_generation(old: Option<&Head>) -> String {
    loop {
        let g = format!("{:016x}", rand::random::<u64>());
        if old.is_none_or(|h| h.generation != g) {
            return g;
        }
    }
}

/// Reads the value under `key`: a head and its chunks, or a legacy raw
/// entry as it is.
pub(crate) fn load(entries: &dyn RawEntries, key: &str) -> Result<Option<Vec<u8>>> {
    let Some(mut raw) = entries.get(key)? else {
        return Ok(None);
    };
    // A concurrent save may replace the head and delete the chunks this read
    // was about to fetch; then the read starts again from the new head.
    let mut attempts = 0;
    loop {
        let Some(head) = Head::parse(&raw)? else {
            return Ok(Some(raw));
        };
        let err = match read_value(entries, key, &head) {
            Ok(v) => return Ok(Some(v)),
            Err(e) => e,
        };
        attempts += 1;
        if attempts == 3 {
            return Err(err);
        }
        match entries.get(key)? {
            None => return Ok(None),
            Some(again) if again != raw => raw = again,
            Some(_) => return Err(err),
        }
    }
}

fn read_value(entries: &dyn RawEntries, key: &str, head: &Head) -> Result<Vec<u8>> {
    let value = if head.chunks == 0 {
        head.inline.clone()
    } else {
        let mut value = Vec::with_capacity(head.len);
        for i in 0..head.chunks {
            let chunk = entries
                .get(&chunk_key(key, &head.generation, i)?)?
                .ok_or_else(|| Error::store("a chunk of a keyring value is missing"))?;
            if chunk.is_empty() || chunk.len() > ENTRY_LIMIT || value.len() + chunk.len() > head.len
            {
                return Err(Error::store("a chunk of a keyring value has a wrong size"));
            }
            value.extend_from_slice(&chunk);
        }
        value
    };
    if value.len() != head.len {
        return Err(Error::store("a keyring value has a wrong length"));
    }
    if sha256(&value) != head.hash {
        return Err(Error::store("a keyring value does not match its checksum"));
    }
    Ok(value)
}

/// Stores `value` under `key`: new chunks, then the head, then the old
/// chunks go.
pub(crate) fn save(entries: &dyn RawEntries, key: &str, value: &[u8]) -> Result<()> {
    if value.len() > MAX_VALUE {
        return Err(Error::store("the value is larger than 1 MiB"));
    }
    let old = entries.get(key)?;
    // A damaged old head is overwritten; its chunks (if any) cannot be found.
    let old = old.and_then(|raw| Head::parse(&raw).ok().flatten());
    let generation = new_generation(old.as_ref());
    let inline = value.len() <= INLINE_MAX;
    let chunks = if inline {
        0
    } else {
        value.len().div_ceil(ENTRY_LIMIT)
    };
    if chunks > 0 {
        // The longest chunk key; fails before anything is written.
        chunk_key(key, &generation, chunks - 1)?;
    }
    let head = Head {
        generation,
        chunks,
        len: value.len(),
        hash: sha256(value),
        inline: if inline { value.to_vec() } else { Vec::new() },
    }
    .encode()?;
    let new = Head::parse(&head)?.ok_or_else(corrupt_head)?;

    if !inline {
        for (i, chunk) in value.chunks(ENTRY_LIMIT).enumerate() {
            if let Err(e) = entries.set(&chunk_key(key, &new.generation, i)?, chunk) {
                delete_chunks(entries, key, &new.generation, i + 1);
                return Err(e);
            }
        }
    }
    if let Err(e) = entries.set(key, &head) {
        // A keyring may report a failure for a write that landed; the new
        // chunks stay then, or the value the head names would be lost.
        match entries.get(key) {
            Ok(Some(now)) if now == head => {}
            Ok(_) => {
                delete_chunks(entries, key, &new.generation, new.chunks);
                return Err(e);
            }
            Err(_) => return Err(e),
        }
    }
    if let Some(old) = old {
        delete_chunks(entries, key, &old.generation, old.chunks);
    }
    Ok(())
}

/// Removes the head under `key`, then its chunks.
pub(crate) fn delete(entries: &dyn RawEntries, key: &str) -> Result<()> {
    let Some(raw) = entries.get(key)? else {
        return Ok(());
    };
    entries.delete(key)?;
    if let Ok(Some(head)) = Head::parse(&raw) {
        delete_chunks(entries, key, &head.generation, head.chunks);
    }
    Ok(())
}

/// Best effort: a chunk no head names is only wasted space.
fn delete_chunks(entries: &dyn RawEntries, key: &str, generation: &str, chunks: usize) {
    for i in 0..chunks {
        if let Ok(k) = chunk_key(key, generation, i) {
            let _ = entries.delete(&k);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ErrorCode;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// A keyring in memory that refuses entries over [`ENTRY_LIMIT`] (as
    /// Windows does) and can fail or "crash" on a chosen write.
    #[derive(Default)]
    pub(crate) struct FakeKeyring {
        state: Mutex<FakeState>,
    }

    #[derive(Default)]
    struct FakeState {
        entries: BTreeMap<String, Vec<u8>>,
        /// Writes (set and delete) so far.
        writes: usize,
        /// The write with this number fails.
        fail_write: Option<usize>,
        /// This write and every later one fail, as if the process died.
        crash_at_write: Option<usize>,
        /// This set lands but reports a failure.
        lying_write: Option<usize>,
    }

    impl FakeKeyring {
        fn state(&self) -> std::sync::MutexGuard<'_, FakeState> {
            self.state.lock().unwrap_or_else(|e| e.into_inner())
        }
        fn entries(&self) -> BTreeMap<String, Vec<u8>> {
            self.state().entries.clone()
        }
        fn put(&self, key: &str, value: &[u8]) {
            self.state().entries.insert(key.to_owned(), value.to_vec());
        }
        fn remove(&self, key: &str) {
            self.state().entries.remove(key);
        }
        /// Fails the `n`th write from now (0 = the next one).
        fn fail_write_in(&self, n: usize) {
            let mut s = self.state();
            s.fail_write = Some(s.writes + n);
        }
        fn crash_at_write_in(&self, n: usize) {
            let mut s = self.state();
            s.crash_at_write = Some(s.writes + n);
        }
        fn lie_at_write_in(&self, n: usize) {
            let mut s = self.state();
            s.lying_write = Some(s.writes + n);
        }
        fn heal(&self) {
            let mut s = self.state();
            s.fail_write = None;
            s.crash_at_write = None;
            s.lying_write = None;
        }
        fn write(&self, key: &str, value: Option<&[u8]>) -> Result<()> {
            let mut s = self.state();
            let n = s.writes;
            s.writes += 1;
            if s.fail_write == Some(n) || s.crash_at_write.is_some_and(|c| n >= c) {
                return Err(Error::store("injected keyring failure"));
            }
            if !valid_key(key) {
                return Err(Error::store("fake keyring: invalid key"));
            }
            match value {
                Some(v) if v.len() > ENTRY_LIMIT => {
                    Err(Error::store("fake keyring: entry over 2560 bytes"))
                }
                Some(v) => {
                    s.entries.insert(key.to_owned(), v.to_vec());
                    if s.lying_write == Some(n) {
                        return Err(Error::store("injected keyring failure"));
                    }
                    Ok(())
                }
                None => {
                    s.entries.remove(key);
                    Ok(())
                }
            }
        }
    }

    impl RawEntries for FakeKeyring {
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
            Ok(self.state().entries.get(key).cloned())
        }
        fn set(&self, key: &str, value: &[u8]) -> Result<()> {
            self.write(key, Some(value))
        }
        fn delete(&self, key: &str) -> Result<()> {
            self.write(key, None)
        }
    }

    /// Bytes that differ per position and per `seed`.
    fn value(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    fn ok<T>(r: Result<T>) -> T {
        r.unwrap_or_else(|e| panic!("{e}"))
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

    const KEY: &str = "session-0123456789abcdef";

    fn legacy_json() -> Vec<u8> {
        br#"{"schema":1,"access_token":"secret-token"}"#.to_vec()
    }

    #[test]
    fn the_fake_keyring_refuses_an_entry_over_the_limit() {
        let k = FakeKeyring::default();
        assert!(k.set("a", &value(ENTRY_LIMIT, 0)).is_ok());
        storage_error(k.set("a", &value(ENTRY_LIMIT + 1, 0)));
    }

    #[test]
    fn values_of_10_kb_and_100_kb_round_trip_within_the_entry_limit() {
        let k = FakeKeyring::default();
        for len in [10 * 1024, 100 * 1024, MAX_VALUE] {
            let v = value(len, 7);
            ok(save(&k, KEY, &v));
            assert_eq!(ok(load(&k, KEY)), Some(v));
            assert!(k.entries().values().all(|e| e.len() <= ENTRY_LIMIT));
            assert_eq!(k.entries().len(), 1 + len.div_ceil(ENTRY_LIMIT));
        }
    }

    #[test]
    fn values_around_the_inline_and_chunk_boundaries_round_trip() {
        let k = FakeKeyring::default();
        for len in [
            0,
            1,
            INLINE_MAX,
            INLINE_MAX + 1,
            ENTRY_LIMIT,
            ENTRY_LIMIT + 1,
            2 * ENTRY_LIMIT,
        ] {
            let v = value(len, 1);
            ok(save(&k, KEY, &v));
            assert_eq!(ok(load(&k, KEY)), Some(v), "length {len}");
            let chunks = if len <= INLINE_MAX {
                0
            } else {
                len.div_ceil(ENTRY_LIMIT)
            };
            assert_eq!(k.entries().len(), 1 + chunks, "length {len}");
        }
        ok(save(&k, KEY, &value(INLINE_MAX, 2)));
        let head = k.entries().get(KEY).map(Vec::len);
        assert_eq!(
            head,
            Some(ENTRY_LIMIT),
            "a full inline head is at the limit"
        );
    }

    #[test]
    fn a_value_starting_like_a_head_round_trips() {
        let k = FakeKeyring::default();
        let mut v = MAGIC.to_vec();
        v.extend_from_slice(b"not a head");
        ok(save(&k, KEY, &v));
        assert_eq!(ok(load(&k, KEY)), Some(v));
    }

    #[test]
    fn a_failed_save_leaves_the_previous_value_readable_and_no_new_chunks() {
        let old = value(7000, 1);
        let new = value(12_000, 2);
        // 5 chunk writes and the head write; a failure in the deletion of the
        // old chunks afterwards is ignored.
        for n in 0..6 {
            let k = FakeKeyring::default();
            ok(save(&k, KEY, &old));
            let before = k.entries();
            k.fail_write_in(n);
            storage_error(save(&k, KEY, &new));
            assert_eq!(ok(load(&k, KEY)), Some(old.clone()), "failing write {n}");
            assert_eq!(k.entries(), before, "failing write {n}: no leftovers");
        }
    }

    #[test]
    fn a_crash_at_any_step_of_a_save_leaves_the_old_or_the_new_value() {
        let old = value(7000, 1);
        let new = value(12_000, 2);
        // 5 new chunks, the head, 3 old chunks deleted: 9 writes.
        for n in 0..=9 {
            let k = FakeKeyring::default();
            ok(save(&k, KEY, &old));
            k.crash_at_write_in(n);
            let saved = save(&k, KEY, &new).is_ok();
            k.heal();
            let now = ok(load(&k, KEY));
            if n <= 5 {
                assert_eq!(now, Some(old.clone()), "crash at write {n}");
            } else {
                assert!(saved, "the head was written before write {n}");
                assert_eq!(now, Some(new.clone()), "crash at write {n}");
            }
        }
    }

    #[test]
    fn a_head_write_reported_as_failed_that_landed_keeps_the_new_value() {
        let k = FakeKeyring::default();
        ok(save(&k, KEY, &value(3000, 1)));
        let new = value(6000, 2);
        // 3 chunk writes, then the head.
        k.lie_at_write_in(3);
        ok(save(&k, KEY, &new));
        assert_eq!(ok(load(&k, KEY)), Some(new));
        assert_eq!(k.entries().len(), 1 + 3, "the old chunks are gone");
    }

    #[test]
    fn deleting_removes_the_head_and_all_chunks() {
        let k = FakeKeyring::default();
        ok(save(&k, KEY, &value(20_000, 3)));
        ok(delete(&k, KEY));
        assert_eq!(ok(load(&k, KEY)), None);
        assert!(k.entries().is_empty(), "{:?}", k.entries().keys());
        ok(delete(&k, KEY));
    }

    #[test]
    fn two_keys_do_not_interfere() {
        let k = FakeKeyring::default();
        let a = value(9000, 1);
        let b = value(9000, 2);
        ok(save(&k, "acct-a", &a));
        ok(save(&k, "acct-b", &b));
        ok(save(&k, "acct-a", &value(5000, 3)));
        assert_eq!(ok(load(&k, "acct-b")), Some(b.clone()));
        ok(delete(&k, "acct-a"));
        assert_eq!(ok(load(&k, "acct-a")), None);
        assert_eq!(ok(load(&k, "acct-b")), Some(b));
        assert_eq!(k.entries().len(), 1 + 4);
    }

    #[test]
    fn overwriting_large_with_small_and_small_with_large_leaves_no_stale_chunks() {
        let k = FakeKeyring::default();
        let large = value(30_000, 1);
        let small = value(100, 2);
        ok(save(&k, KEY, &large));
        ok(save(&k, KEY, &small));
        assert_eq!(ok(load(&k, KEY)), Some(small));
        assert_eq!(k.entries().len(), 1, "{:?}", k.entries().keys());
        ok(save(&k, KEY, &large));
        assert_eq!(ok(load(&k, KEY)), Some(large.clone()));
        ok(save(&k, KEY, &value(30_000, 9)));
        assert_eq!(k.entries().len(), 1 + 30_000usize.div_ceil(ENTRY_LIMIT));
    }

    #[test]
    fn a_corrupt_head_is_a_storage_error() {
        let k = FakeKeyring::default();
        ok(save(&k, KEY, &value(6000, 1)));
        let head = k.entries().get(KEY).cloned().unwrap_or_default();
        let mut bad_version = head.clone();
        bad_version[MAGIC.len()] = 9;
        let mut bad_count = head.clone();
        bad_count[MAGIC.len() + 1 + GENERATION_LEN + 3] = 200;
        let cases = [
            head[..MAGIC.len() + 5].to_vec(),
            bad_version,
            bad_count,
            [&head[..], b"x"].concat(),
            MAGIC.to_vec(),
        ];
        for bad in cases {
            k.put(KEY, &bad);
            storage_error(load(&k, KEY));
        }
        // A corrupt head does not stop a new value from being saved.
        ok(save(&k, KEY, b"fresh"));
        assert_eq!(ok(load(&k, KEY)).as_deref(), Some(&b"fresh"[..]));
    }

    #[test]
    fn a_missing_or_tampered_chunk_is_a_storage_error() {
        let k = FakeKeyring::default();
        ok(save(&k, KEY, &value(6000, 1)));
        let chunk = |i: usize| {
            k.entries()
                .keys()
                .find(|c| c.ends_with(&format!(".{i}")) && c.as_str() != KEY)
                .cloned()
                .unwrap_or_default()
        };
        let (c0, c1) = (chunk(0), chunk(1));
        let good0 = k.entries().get(&c0).cloned().unwrap_or_default();

        k.put(&c0, &value(good0.len(), 99));
        let e = storage_error(load(&k, KEY));
        assert!(e.to_string().contains("checksum"), "{e}");

        k.put(&c0, &good0[..100]);
        storage_error(load(&k, KEY));

        k.put(&c0, &good0);
        k.remove(&c1);
        let e = storage_error(load(&k, KEY));
        assert!(e.to_string().contains("missing"), "{e}");
    }

    #[test]
    fn a_legacy_raw_value_is_returned_unchanged() {
        let k = FakeKeyring::default();
        k.put(KEY, &legacy_json());
        assert_eq!(ok(load(&k, KEY)), Some(legacy_json()));
        assert_eq!(k.entries().len(), 1, "loading does not rewrite");
    }

    #[test]
    fn a_legacy_value_is_saved_in_the_new_layout_without_leftovers() {
        let k = FakeKeyring::default();
        k.put(KEY, &legacy_json());
        let big = value(8000, 4);
        ok(save(&k, KEY, &big));
        assert_eq!(ok(load(&k, KEY)), Some(big));
        let head = k.entries().get(KEY).cloned().unwrap_or_default();
        assert!(head.starts_with(MAGIC), "the key now holds a head");
        assert_eq!(k.entries().len(), 1 + 4);

        let k = FakeKeyring::default();
        k.put(KEY, &legacy_json());
        ok(save(&k, KEY, b"{\"schema\":2}"));
        assert_eq!(k.entries().len(), 1);
        assert!(k.entries().get(KEY).is_some_and(|h| h.starts_with(MAGIC)));
        ok(delete(&k, KEY));
        assert!(k.entries().is_empty());
    }

    #[test]
    fn a_key_too_long_for_its_chunk_keys_is_refused_before_writing() {
        let k = FakeKeyring::default();
        let key = "k".repeat(70);
        ok(save(&k, &key, b"small values fit inline"));
        let e = storage_error(save(&k, &key, &value(5000, 1)));
        assert!(e.to_string().contains("too long"), "{e}");
        assert_eq!(
            ok(load(&k, &key)).as_deref(),
            Some(&b"small values fit inline"[..])
        );
        assert_eq!(k.entries().len(), 1);
    }

    #[test]
    fn a_value_over_one_mib_is_refused_and_keeps_the_old_value() {
        let k = FakeKeyring::default();
        ok(save(&k, KEY, b"old"));
        storage_error(save(&k, KEY, &vec![0; MAX_VALUE + 1]));
        assert_eq!(ok(load(&k, KEY)).as_deref(), Some(&b"old"[..]));
    }

    #[test]
    fn errors_never_show_the_value() {
        let k = FakeKeyring::default();
        let secret = b"secret-token-".repeat(500);
        ok(save(&k, KEY, &secret));
        let c0 = k
            .entries()
            .keys()
            .find(|c| c.as_str() != KEY)
            .cloned()
            .unwrap_or_default();
        k.put(&c0, b"secret-token-tampered");
        let e = storage_error(load(&k, KEY));
        let text = format!("{e} {e:?}");
        assert!(!text.contains("secret-token"), "{text}");
    }
}
