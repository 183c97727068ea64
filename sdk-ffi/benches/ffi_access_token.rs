//! The Rust side of the FFI benchmark of issue 9 §5: one `access_token()`
//! call with a valid cached token, timed call by call, to compare with the
//! same call from C (`bench/ffi-c`) and Kotlin (`bench/ffi-kotlin`).
//!
//! The session is written into a file store the way the SDK writes it (a
//! schema-2 session under the key the client itself asks for), so no server
//! is needed; C and Kotlin open the same directory with the same issuer and
//! client id. Every measurement warms the client up first (the session is
//! then cached in memory: no store read, no request).
//!
//! Measurements (one sample per call, in nanoseconds):
//! - `rust-core-task`: `zitadel_sdk::Client::access_token().await` in a loop
//!   inside one task (current-thread runtime): the call an async Rust app makes;
//! - `rust-core-block-on`: `block_on(client.access_token())` per call
//!   (current-thread runtime): a blocking Rust caller, as in
//!   `sdk-core/benches/access_token.rs`;
//! - `rust-ffi-await`: `zitadel_sdk_ffi::ZitadelClient::access_token().await`,
//!   the exported method Kotlin and Swift call, awaited in one task: a token
//!   in memory is returned on the caller's thread (`cached_access_token`),
//!   plus the `String` copy; not the foreign side;
//! - `rust-ffi-session-await`: the exported `session().await` (the session
//!   is in memory): an export that hops onto the SDK's own runtime and back,
//!   what every call doing real work (a refresh, a store read) pays.
//!
//! Run by `bench/ffi-speed.sh`, configured by the environment:
//! `ZID_BENCH_STORE` (the store directory; default a new temporary one),
//! `ZID_BENCH_PREPARE_ONLY=1` (write the session and exit),
//! `ZID_BENCH_OUT` (a directory for the samples, `NAME.ROUND.txt`, one per
//! line), `ZID_BENCH_ROUND` (default 1), `ZID_BENCH_N` (10000),
//! `ZID_BENCH_WARMUP` (2000). Alone: `cargo bench -p zitadel-sdk-ffi --bench
//! ffi_access_token` prints the medians.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use zitadel_sdk::TokenStore;
use zitadel_sdk::store::FileStore;

/// The configuration all three languages use (the session key derives from it).
const ISSUER: &str = "https://idp.example";
const CLIENT_ID: &str = "native-app";

/// A store that remembers the keys the client reads, to learn the session key.
#[derive(Debug, Default)]
struct KeyRecorder(Mutex<Vec<String>>);

impl TokenStore for KeyRecorder {
    fn load(&self, key: &str) -> zitadel_sdk::Result<Option<Vec<u8>>> {
        self.0.lock().unwrap().push(key.to_owned());
        Ok(None)
    }
    fn save(&self, _key: &str, _value: &[u8]) -> zitadel_sdk::Result<()> {
        Ok(())
    }
    fn delete(&self, _key: &str) -> zitadel_sdk::Result<()> {
        Ok(())
    }
}

fn core_client(store: Arc<dyn TokenStore>) -> zitadel_sdk::Client {
    zitadel_sdk::Client::builder(ISSUER, CLIENT_ID)
        .store(store)
        .build()
        .unwrap()
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Writes a signed-in session, valid for a day, into the file store at `dir`.
fn prepare(dir: &Path) {
    let rt = current_thread();
    let recorder = Arc::new(KeyRecorder::default());
    let probe = core_client(recorder.clone());
    assert!(
        rt.block_on(probe.access_token()).is_err(),
        "not signed in yet"
    );
    let key = recorder
        .0
        .lock()
        .unwrap()
        .iter()
        .find(|k| k.starts_with("session-"))
        .cloned()
        .expect("the client reads its session key");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let exp = now + 86_400;
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": "bench-user", "aud": CLIENT_ID,
        "exp": exp, "iat": now, "auth_time": now,
        "name": "Test User bench-user", "email": "bench-user@example.com",
        "email_verified": true, "preferred_username": "bench-user"
    });
    // The stored claims are read back from the ID token's payload; its
    // signature was checked at login and is not checked again.
    let b64 = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let id_token = format!(
        "{}.{}.{}",
        b64(&serde_json::json!({"alg": "RS256", "kid": "bench"})),
        b64(&claims),
        "s".repeat(342)
    );
    let session = serde_json::json!({
        "schema": 2,
        "issuer": ISSUER,
        "client_id": CLIENT_ID,
        "account": "default",
        "access_token": "a".repeat(43),
        "refresh_token": "r".repeat(43),
        "id_token": id_token,
        "expires_at": exp,
        "scopes": ["openid", "profile", "email", "offline_access"],
        "nonce": "n".repeat(43),
        "updated_at": now
    });
    FileStore::new(dir)
        .unwrap()
        .save(&key, &serde_json::to_vec(&session).unwrap())
        .unwrap();
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Times `n` calls of `call` one by one after `warmup` untimed ones.
async fn sample_async<F, Fut>(warmup: usize, n: usize, mut call: F) -> Vec<u64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    for _ in 0..warmup {
        black_box(call().await);
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        black_box(call().await);
        samples.push(t.elapsed().as_nanos() as u64);
    }
    samples
}

fn sample_blocking(warmup: usize, n: usize, mut call: impl FnMut() -> usize) -> Vec<u64> {
    for _ in 0..warmup {
        black_box(call());
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        black_box(call());
        samples.push(t.elapsed().as_nanos() as u64);
    }
    samples
}

fn report(name: &str, mut samples: Vec<u64>, out: Option<&Path>, round: &str) {
    if let Some(dir) = out {
        let text: String = samples.iter().map(|s| format!("{s}\n")).collect();
        std::fs::write(dir.join(format!("{name}.{round}.txt")), text).unwrap();
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    println!(
        "{name}: median {:.2} µs (p10 {:.2}, p90 {:.2}) over {} calls",
        at(0.5),
        at(0.1),
        at(0.9),
        samples.len()
    );
}

fn main() {
    let temp;
    let dir = match std::env::var_os("ZID_BENCH_STORE") {
        Some(d) => PathBuf::from(d),
        None => {
            temp = std::env::temp_dir().join(format!("zid-ffi-bench-{}", std::process::id()));
            temp.clone()
        }
    };
    prepare(&dir);
    if std::env::var_os("ZID_BENCH_PREPARE_ONLY").is_some() {
        return;
    }
    let out = std::env::var_os("ZID_BENCH_OUT").map(PathBuf::from);
    let round = std::env::var("ZID_BENCH_ROUND").unwrap_or_else(|_| "1".into());
    let n = env_usize("ZID_BENCH_N", 10_000);
    let warmup = env_usize("ZID_BENCH_WARMUP", 2_000);

    let rt = current_thread();
    let store: Arc<dyn TokenStore> = Arc::new(FileStore::new(&dir).unwrap());
    let core = core_client(store);

    let samples = rt.block_on(sample_async(warmup, n, || async {
        core.access_token().await.unwrap().expose().len()
    }));
    report("rust-core-task", samples, out.as_deref(), &round);

    let samples = sample_blocking(warmup, n, || {
        rt.block_on(core.access_token()).unwrap().expose().len()
    });
    report("rust-core-block-on", samples, out.as_deref(), &round);

    let config = zitadel_sdk_ffi::ClientConfig {
        issuer: ISSUER.into(),
        client_id: CLIENT_ID.into(),
        redirect_uri: None,
        scopes: None,
        organization_id: None,
        organization_domain: None,
        ui_locales: Vec::new(),
        account: None,
        http_timeout_secs: None,
        refresh_margin_secs: None,
        login_client_token: None,
    };
    let store = zitadel_sdk_ffi::store::file_token_store(dir.display().to_string()).unwrap();
    let ffi = zitadel_sdk_ffi::ZitadelClient::new(config, Some(store)).unwrap();
    let samples = rt.block_on(sample_async(warmup, n, || async {
        ffi.access_token().await.unwrap().len()
    }));
    report("rust-ffi-await", samples, out.as_deref(), &round);

    let samples = rt.block_on(sample_async(warmup, n, || async {
        usize::from(ffi.session().await.unwrap().is_some())
    }));
    report("rust-ffi-session-await", samples, out.as_deref(), &round);

    if std::env::var_os("ZID_BENCH_STORE").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
