//! In-process benchmark of issue 2 §6: `Client::access_token()` with a valid
//! token in a `FileStore` and in a `MemoryStore`.
//!
//! - `warm`: the same client asked again (the session is cached in memory);
//! - `cold`: a new `Client` per call, reading and decoding the stored session,
//!   which is what one `zid token` process does besides start-up;
//! - `build`: `ClientBuilder::build()` alone (HTTP client and TLS set-up).
//!
//! The stored state is written the way the SDK writes it (a schema-2 session
//! under the key the client itself asks for). ID token validation is not
//! benchmarked: it is crate-private and only reachable through a login or a
//! refresh over HTTP.
//!
//! Run: `cargo bench -p zitadel-sdk-core --bench access_token`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::hint::black_box;
use std::sync::{Arc, Mutex};

use criterion::{Criterion, criterion_group, criterion_main};
use zitadel_sdk::store::{FileStore, MemoryStore};
use zitadel_sdk::{Client, TokenStore};

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

fn client(store: Arc<dyn TokenStore>) -> Client {
    Client::builder(ISSUER, CLIENT_ID)
        .redirect_uri("http://127.0.0.1/callback")
        .store(store)
        .build()
        .unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Writes a signed-in session valid for an hour into `store`, as the SDK would.
fn sign_in(rt: &tokio::runtime::Runtime, store: &dyn TokenStore) {
    let recorder = Arc::new(KeyRecorder::default());
    let probe = client(recorder.clone());
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
    let now = now();
    // Schema 2: the claims are read back from the ID token's payload (its
    // signature was checked at login and is not checked again).
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": "bench-user", "aud": CLIENT_ID,
        "exp": now + 3600, "iat": now, "auth_time": now,
        "name": "Test User bench-user", "email": "bench-user@example.com",
        "email_verified": true, "preferred_username": "bench-user"
    });
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
        "expires_at": now + 3600,
        "scopes": ["openid", "profile", "email", "offline_access"],
        "nonce": "n".repeat(43),
        "updated_at": now
    });
    store
        .save(&key, &serde_json::to_vec(&session).unwrap())
        .unwrap();
}

fn bench_access_token(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stores: [(&str, Arc<dyn TokenStore>); 2] = [
        ("memory", Arc::new(MemoryStore::new())),
        ("file", Arc::new(FileStore::new(dir.path()).unwrap())),
    ];
    let mut group = c.benchmark_group("access_token");
    for (name, store) in &stores {
        sign_in(&rt, store.as_ref());
        let warm = client(store.clone());
        let token = rt.block_on(warm.access_token()).unwrap();
        assert_eq!(token.expose().len(), 43);
        group.bench_function(format!("warm/{name}"), |b| {
            b.iter(|| black_box(rt.block_on(warm.access_token()).unwrap()));
        });
        group.bench_function(format!("cold/{name}"), |b| {
            b.iter(|| {
                let fresh = client(store.clone());
                black_box(rt.block_on(fresh.access_token()).unwrap())
            });
        });
    }
    group.bench_function("build", |b| {
        b.iter(|| black_box(client(stores[0].1.clone())));
    });
    group.finish();
}

criterion_group!(benches, bench_access_token);
criterion_main!(benches);
