//! Sessions are never lost: a cancelled refresh, another client that rotated
//! the refresh token first, a store that fails to save, a damaged store on
//! logout, a login in flight for too long. Against a scripted mock provider
//! (wiremock on 127.0.0.1).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{FlakyStore, Idp, REDIRECT};
use serde_json::json;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, ResponseTemplate};
use zitadel_sdk::store::MemoryStore;
use zitadel_sdk::{Client, Clock, ErrorCode, Event, EventListener, LoginOptions, TokenStore};

/// A refresh answer rotating to `n`: `at-n`, `rt-n`, and a fresh ID token for `u1`.
fn rotated(idp: &Idp, n: u32) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": format!("at-{n}"), "token_type": "Bearer", "expires_in": 3600,
        "refresh_token": format!("rt-{n}"), "id_token": idp.id_token("u1", None)
    }))
}

/// Answers a refresh that presents `rt` with `response`.
async fn on_refresh_with(idp: &Idp, rt: &str, response: ResponseTemplate, priority: u8) {
    Mock::given(method("POST"))
        .and(path("/oauth/v2/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains(format!("refresh_token={rt}&")))
        .respond_with(response)
        .with_priority(priority)
        .mount(&idp.server)
        .await;
}

fn invalid_grant() -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"}))
}

async fn refresh_bodies(idp: &Idp) -> Vec<String> {
    idp.token_request_bodies()
        .await
        .into_iter()
        .filter(|b| b.contains("grant_type=refresh_token"))
        .collect()
}

#[derive(Default)]
struct Events(Mutex<Vec<Event>>);
impl EventListener for Events {
    fn on_event(&self, event: &Event) {
        self.0.lock().unwrap().push(event.clone());
    }
}
impl Events {
    fn expired(&self) -> bool {
        self.0
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Event::SessionExpired { .. }))
    }
}

#[tokio::test]
async fn a_refresh_whose_caller_is_cancelled_still_stores_the_rotated_token() {
    // Given a signed-in client and a server that rotates rt-1 slowly and refuses it afterwards
    let idp = Idp::start().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let client = idp.client(store.clone());
    idp.login(&client, "u1").await;
    on_refresh_with(
        &idp,
        "rt-1",
        rotated(&idp, 2).set_delay(Duration::from_millis(400)),
        1,
    )
    .await;
    on_refresh_with(&idp, "rt-1", invalid_grant(), 2).await;
    on_refresh_with(&idp, "rt-2", rotated(&idp, 3), 1).await;

    // When the caller gives up while the server is already rotating the token
    let cancelled = tokio::time::timeout(Duration::from_millis(100), client.refresh()).await;
    assert!(cancelled.is_err(), "the caller was cancelled");
    tokio::time::sleep(Duration::from_millis(800)).await;

    // Then the rotated token was stored anyway: a new process refreshes with rt-2
    let fresh = idp.client(store.clone());
    let s = fresh.refresh().await.unwrap();
    assert_eq!(s.subject, "u1");
    // And the cancelled client goes on without invalid_grant, from the stored session
    assert_eq!(client.access_token().await.unwrap().expose(), "at-2");
    let bodies = refresh_bodies(&idp).await;
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(bodies[1].contains("refresh_token=rt-2"), "{bodies:?}");
}

#[tokio::test]
async fn waiting_callers_share_one_refresh_result_even_when_it_fails() {
    let idp = Idp::start().await;
    let client = idp.client(Arc::new(MemoryStore::new()));
    idp.login(&client, "u1").await;
    on_refresh_with(
        &idp,
        "rt-1",
        ResponseTemplate::new(503).set_delay(Duration::from_millis(200)),
        1,
    )
    .await;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let c = client.clone();
        calls.spawn(async move { c.refresh().await.map(|_| ()) });
    }
    let results = calls.join_all().await;
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().err().map(|e| e.code()) == Some(ErrorCode::RetryLater)),
        "{results:?}"
    );
    assert_eq!(
        refresh_bodies(&idp).await.len(),
        1,
        "one request for all callers"
    );
    assert!(
        client.session().await.unwrap().is_some(),
        "the session is kept"
    );
}

#[tokio::test]
async fn an_invalid_grant_after_another_client_rotated_first_adopts_the_stored_session() {
    // Given two clients (as two processes would) on one store, both holding rt-1
    let idp = Idp::start().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let a = idp.client(store.clone());
    idp.login(&a, "u1").await;
    let b = idp.client(store.clone());
    assert!(b.session().await.unwrap().is_some());
    let events = Arc::new(Events::default());
    b.add_listener(events.clone());
    // The first rt-1 is rotated (slowly), every later rt-1 is refused at once.
    Mock::given(method("POST"))
        .and(path("/oauth/v2/token"))
        .and(body_string_contains("refresh_token=rt-1&"))
        .respond_with(rotated(&idp, 2).set_delay(Duration::from_millis(120)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&idp.server)
        .await;
    on_refresh_with(&idp, "rt-1", invalid_grant(), 2).await;

    // When both refresh at once
    let (ra, rb) = tokio::join!(a.refresh(), b.refresh());

    // Then both keep working and the store holds the rotated session
    assert!(ra.is_ok(), "{ra:?}");
    assert!(rb.is_ok(), "{rb:?}");
    assert!(!events.expired(), "nobody was told the session expired");
    assert_eq!(a.access_token().await.unwrap().expose(), "at-2");
    assert_eq!(b.access_token().await.unwrap().expose(), "at-2");
    let third = idp.client(store.clone());
    assert_eq!(third.access_token().await.unwrap().expose(), "at-2");
}

#[tokio::test]
async fn a_failed_save_of_the_rotated_token_is_a_storage_error_and_the_session_goes_on() {
    // Given a signed-in client whose store starts failing
    let idp = Idp::start().await;
    let store = FlakyStore::new();
    let client = idp.client(store.clone());
    let events = Arc::new(Events::default());
    client.add_listener(events.clone());
    idp.login(&client, "u1").await;
    on_refresh_with(&idp, "rt-1", rotated(&idp, 2), 1).await;
    on_refresh_with(&idp, "rt-2", rotated(&idp, 3), 1).await;
    on_refresh_with(&idp, "rt-1", invalid_grant(), 2).await;
    store.set_failing(true);

    // When the refresh succeeds at the server but cannot be saved
    let e = client.refresh().await.unwrap_err();

    // Then the app is told with a Storage error, and the new token lives on in memory
    assert_eq!(e.code(), ErrorCode::Storage);
    assert_eq!(client.access_token().await.unwrap().expose(), "at-2");
    // And once the store works again, the session is saved and refreshes with rt-2
    store.set_failing(false);
    let s = client.refresh().await.unwrap();
    assert_eq!(s.subject, "u1");
    assert!(!events.expired());
    let bodies = refresh_bodies(&idp).await;
    assert!(bodies[1].contains("refresh_token=rt-2"), "{bodies:?}");
    let again = idp.client(store.clone());
    assert_eq!(again.access_token().await.unwrap().expose(), "at-3");
}

#[tokio::test]
async fn logout_wipes_a_corrupt_or_newer_schema_session_and_the_login_in_flight() {
    for damage in [
        &b"{ not json"[..],
        br#"{"schema": 99, "from": "a newer SDK"}"#,
    ] {
        // Given a stored session that this SDK cannot read, and a login in flight
        let idp = Idp::start().await;
        let store = FlakyStore::new();
        let client = idp.client(store.clone());
        idp.login(&client, "u1").await;
        let key = store.session_key();
        store.inner.save(&key, damage).unwrap();
        let fresh = idp.client(store.clone());
        fresh.start_login(&LoginOptions::default()).await.unwrap();
        assert_eq!(
            fresh.access_token().await.unwrap_err().code(),
            ErrorCode::Storage
        );

        // When the user signs out
        let out = fresh.logout().await.unwrap();

        // Then the damaged entry and the pending login are gone, and that is reported
        assert!(out.unreadable_session_removed);
        assert!(!out.revoked);
        assert_eq!(store.inner.load(&key).unwrap(), None);
        assert_eq!(
            fresh
                .complete_login("com.example.app:/callback?code=c&state=s")
                .await
                .unwrap_err()
                .code(),
            ErrorCode::InvalidInput,
            "no login in flight any more"
        );
        assert!(fresh.session().await.unwrap().is_none());
    }
}

/// A clock the test moves.
#[derive(Debug)]
struct TestClock(AtomicI64);
impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_login_started_more_than_15_minutes_ago_is_refused_as_expired() {
    let idp = Idp::start().await;
    let clock = Arc::new(TestClock(AtomicI64::new(common::now())));
    let client = Client::builder(idp.issuer(), "app")
        .redirect_uri(REDIRECT)
        .clock(clock.clone())
        .store(Arc::new(MemoryStore::new()))
        .build()
        .unwrap();
    let (cb, _) = idp.begin(&client).await;
    clock.0.fetch_add(15 * 60 + 1, Ordering::SeqCst);
    let e = client.complete_login(&cb).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Expired);
    let token_requests = idp.token_request_bodies().await.len();
    assert_eq!(token_requests, 0, "the code is never exchanged");
}

#[tokio::test]
async fn a_refresh_answer_with_a_date_far_ahead_moves_token_times_ten_minutes_at_most() {
    // The server's Date is two hours ahead (a hostile or broken server):
    // its ID token issued "now" in its time is in the future for us by more
    // than the ten minutes the SDK corrects for.
    let idp = Idp::start().await;
    let client = idp.client(Arc::new(MemoryStore::new()));
    idp.login(&client, "u1").await;
    let ahead: i64 = 2 * 3600;
    let claims = json!({"iss": idp.issuer(), "sub": "u1", "aud": "app",
                        "exp": common::now() + ahead + 300, "iat": common::now() + ahead});
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some("k1".into());
    let id_token = jsonwebtoken::encode(&h, &claims, &idp.key).unwrap();
    let date =
        httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(ahead as u64));
    on_refresh_with(
        &idp,
        "rt-1",
        ResponseTemplate::new(200)
            .insert_header("date", date.as_str())
            .set_body_json(json!({"access_token": "at-2", "token_type": "Bearer",
                                  "refresh_token": "rt-2", "id_token": id_token})),
        1,
    )
    .await;
    let e = client.refresh().await.unwrap_err();
    assert!(e.message().contains("issue time"), "{e}");
}

/// A token store whose reads block their thread, as a keyring waiting on
/// D-Bus or a prompt does.
#[derive(Debug)]
struct SlowStore;

impl TokenStore for SlowStore {
    fn load(&self, _key: &str) -> zitadel_sdk::Result<Option<Vec<u8>>> {
        std::thread::sleep(Duration::from_millis(300));
        Ok(None)
    }
    fn save(&self, _key: &str, _value: &[u8]) -> zitadel_sdk::Result<()> {
        Ok(())
    }
    fn delete(&self, _key: &str) -> zitadel_sdk::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_blocking_token_store_does_not_stall_the_async_runtime() {
    // Given a single-threaded runtime and a store whose read blocks 300 ms
    let client = Client::builder("https://idp.example", "app")
        .store(Arc::new(SlowStore))
        .build()
        .unwrap();
    let ticks = Arc::new(AtomicI64::new(0));
    let t = ticks.clone();
    let ticker = tokio::spawn(async move {
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            t.fetch_add(1, Ordering::Relaxed);
        }
    });
    // When the session is read from the store
    assert!(client.session().await.unwrap().is_none());
    // Then other tasks ran meanwhile: the read was off the runtime's thread
    assert!(
        ticks.load(Ordering::Relaxed) >= 5,
        "only {} ticks during a 300 ms store read",
        ticks.load(Ordering::Relaxed)
    );
    ticker.abort();
}

#[tokio::test]
async fn the_cached_access_token_is_only_a_usable_token_already_in_memory() {
    // Given a client signed in through a store that can be made to fail
    let idp = Idp::start().await;
    let store = FlakyStore::new();
    let clock = Arc::new(TestClock(AtomicI64::new(common::now())));
    let build = |store: Arc<FlakyStore>| {
        Client::builder(idp.issuer(), "app")
            .redirect_uri(REDIRECT)
            .clock(clock.clone())
            .store(store)
            .build()
            .unwrap()
    };
    let client = build(store.clone());
    assert!(client.cached_access_token().is_none(), "nothing read yet");
    idp.login(&client, "u1").await;

    // Then the token of the login is there without a request or store read
    assert_eq!(client.cached_access_token().unwrap().expose(), "at-1");
    // A second client on the same store has read nothing yet: none until it has
    let other = build(store.clone());
    assert!(other.cached_access_token().is_none());
    assert_eq!(other.access_token().await.unwrap().expose(), "at-1");
    assert_eq!(other.cached_access_token().unwrap().expose(), "at-1");

    // When a refresh succeeds at the server but cannot be saved, the
    // unsaved session is not offered until access_token() has saved it
    on_refresh_with(&idp, "rt-1", rotated(&idp, 2), 1).await;
    store.set_failing(true);
    assert_eq!(
        client.refresh().await.unwrap_err().code(),
        ErrorCode::Storage
    );
    assert!(client.cached_access_token().is_none(), "unsaved session");
    store.set_failing(false);
    assert_eq!(client.access_token().await.unwrap().expose(), "at-2");
    assert_eq!(client.cached_access_token().unwrap().expose(), "at-2");

    // When the token comes within the refresh margin, it is not offered
    clock.0.fetch_add(3600 - 10, Ordering::SeqCst);
    assert!(client.cached_access_token().is_none(), "due for a refresh");
    assert!(other.cached_access_token().is_none(), "due for a refresh");

    // After logout there is none
    client.logout().await.unwrap();
    let requests = idp.token_request_bodies().await.len();
    assert!(client.cached_access_token().is_none());
    assert_eq!(
        idp.token_request_bodies().await.len(),
        requests,
        "no request"
    );
}
