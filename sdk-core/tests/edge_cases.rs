//! HTTP-level edge cases against a scripted mock server (wiremock on
//! 127.0.0.1): what a real provider rarely does, but a client must survive.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{Idp, REDIRECT, now};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use zitadel_sdk::store::{FileStore, MemoryStore};
use zitadel_sdk::{CancellationToken, Client, ErrorCode, LoginOptions, TokenStore};

#[tokio::test]
async fn a_login_sends_accept_language_and_succeeds() {
    let idp = Idp::start().await;
    let client = idp.client(Arc::new(MemoryStore::new()));
    let s = idp.login(&client, "u1").await;
    assert_eq!(s.subject, "u1");
    let reqs = idp.server.received_requests().await.unwrap();
    let discovery = reqs
        .iter()
        .find(|r| r.url.path().contains("well-known"))
        .unwrap();
    assert_eq!(
        discovery.headers.get("accept-language").unwrap(),
        "de-CH, en;q=0.9"
    );
}

#[tokio::test]
async fn redirects_from_oauth_endpoints_are_not_followed() {
    let server = MockServer::start().await;
    Mock::given(path("/.well-known/openid-configuration"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/elsewhere", server.uri())),
        )
        .mount(&server)
        .await;
    let client = Client::builder(server.uri(), "app")
        .redirect_uri(REDIRECT)
        .build()
        .unwrap();
    let err = client
        .start_login(&LoginOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ServerRejected);
    let reqs = server.received_requests().await.unwrap();
    assert!(reqs.iter().all(|r| r.url.path() != "/elsewhere"));
}

#[tokio::test]
async fn an_id_token_with_another_nonce_is_rejected_and_nothing_is_stored() {
    let idp = Idp::start().await;
    let client = idp.client(Arc::new(MemoryStore::new()));
    let (cb, _nonce) = idp.begin(&client).await;
    idp.token_once(json!({
        "access_token": "at", "token_type": "Bearer", "id_token": idp.id_token("u1", Some("forged"))
    }))
    .await;
    let err = client.complete_login(&cb).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidServerResponse);
    assert!(err.message().contains("nonce"));
    assert!(client.session().await.unwrap().is_none());
}

#[tokio::test]
async fn a_token_type_other_than_bearer_is_rejected() {
    let idp = Idp::start().await;
    let client = idp.client(Arc::new(MemoryStore::new()));
    let (cb, nonce) = idp.begin(&client).await;
    idp.token_once(json!({
        "access_token": "at", "token_type": "mac", "id_token": idp.id_token("u1", Some(&nonce))
    }))
    .await;
    assert_eq!(
        client.complete_login(&cb).await.unwrap_err().code(),
        ErrorCode::InvalidServerResponse
    );
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_session_and_says_retry_later() {
    let idp = Idp::start().await;
    let client = idp.client(Arc::new(MemoryStore::new()));
    idp.login(&client, "u1").await;
    idp.refresh_answers(ResponseTemplate::new(503)).await;
    let err = client.refresh().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::RetryLater);
    assert_eq!(client.session().await.unwrap().unwrap().subject, "u1");
}

#[tokio::test]
async fn a_refreshed_id_token_for_another_subject_is_rejected() {
    let idp = Idp::start().await;
    let client = idp.client(Arc::new(MemoryStore::new()));
    idp.login(&client, "u1").await;
    idp.refresh_answers(ResponseTemplate::new(200).set_body_json(json!({
        "access_token": "at-2", "token_type": "Bearer", "expires_in": 3600,
        "refresh_token": "rt-2", "id_token": idp.id_token("someone-else", None)
    })))
    .await;
    let err = client.refresh().await.unwrap_err();
    assert!(err.message().contains("another subject"), "{err}");
    assert_eq!(
        client.session().await.unwrap().unwrap().subject,
        "u1",
        "the session is kept"
    );
    // The rotated refresh token was kept (the old one is spent at the server):
    // the next refresh presents rt-2.
    let _ = client.refresh().await;
    let bodies: Vec<String> = idp
        .token_request_bodies()
        .await
        .into_iter()
        .filter(|b| b.contains("grant_type=refresh_token"))
        .collect();
    assert_eq!(bodies.len(), 2);
    assert!(
        bodies[0].contains("refresh_token=rt-1") && bodies[1].contains("refresh_token=rt-2"),
        "{bodies:?}"
    );
}

#[tokio::test]
async fn userinfo_for_another_subject_is_rejected() {
    let idp = Idp::start().await;
    let client = idp.client(Arc::new(MemoryStore::new()));
    idp.login(&client, "u1").await;
    Mock::given(method("GET"))
        .and(path("/oidc/v1/userinfo"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sub": "u2"})))
        .mount(&idp.server)
        .await;
    let err = client.userinfo().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidServerResponse);
}

#[tokio::test]
async fn an_oversized_response_is_refused() {
    let idp = Idp::start().await;
    let client = idp.client(Arc::new(MemoryStore::new()));
    idp.login(&client, "u1").await;
    Mock::given(method("GET"))
        .and(path("/oidc/v1/userinfo"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(2 << 20)))
        .mount(&idp.server)
        .await;
    assert_eq!(
        client.userinfo().await.unwrap_err().code(),
        ErrorCode::InvalidServerResponse
    );
}

#[tokio::test]
async fn a_corrupt_stored_session_is_a_typed_error_and_other_accounts_survive() {
    let idp = Idp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn TokenStore> = Arc::new(FileStore::new(dir.path()).unwrap());
    let a = idp.client(store.clone()).for_account("a");
    let b = a.for_account("b");
    idp.login(&a, "ua").await;
    idp.login(&b, "ub").await;
    // Damage account a's file on disk.
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("session-")
        })
        .collect();
    assert_eq!(files.len(), 2);
    let a_file = files
        .iter()
        .find(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("\"account\":\"a\"")
        })
        .unwrap();
    std::fs::write(a_file, b"{ not json").unwrap();

    // A fresh process sees a typed storage error for a, and b intact.
    let a2 = idp.client(store.clone()).for_account("a");
    let err = a2.access_token().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Storage);
    assert_eq!(
        std::fs::read(a_file).unwrap(),
        b"{ not json",
        "the damaged file is left for inspection"
    );
    let b2 = a2.for_account("b");
    assert_eq!(b2.session().await.unwrap().unwrap().subject, "ub");
}

#[tokio::test]
async fn device_flow_honours_slow_down_and_stops_on_access_denied() {
    let idp = Idp::start().await;
    let client = idp.client(Arc::new(MemoryStore::new()));
    Mock::given(method("POST"))
        .and(path("/oauth/v2/device_authorization"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "device_code": "dc", "user_code": "ABCD-EFGH",
            "verification_uri": format!("{}/device", idp.issuer()),
            "expires_in": 60, "interval": 1
        })))
        .mount(&idp.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/v2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "slow_down"})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&idp.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/v2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "access_denied"})))
        .with_priority(2)
        .mount(&idp.server)
        .await;
    let device = client.start_device_login().await.unwrap();
    let started = std::time::Instant::now();
    let err = client
        .complete_device_login(&device, &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied);
    // 1 s before the first poll, then 1 + 5 s after slow_down.
    assert!(
        started.elapsed() >= Duration::from_secs(7),
        "{:?}",
        started.elapsed()
    );
    let polls = idp.token_request_bodies().await.len();
    assert_eq!(polls, 2);
}

#[tokio::test]
async fn an_expired_device_code_ends_the_flow() {
    let idp = Idp::start().await;
    let client = idp.client(Arc::new(MemoryStore::new()));
    Mock::given(method("POST"))
        .and(path("/oauth/v2/device_authorization"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "device_code": "dc", "user_code": "ABCD", "verification_uri": "https://x.example/device",
            "expires_in": 30, "interval": 1
        })))
        .mount(&idp.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/v2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "expired_token"})))
        .mount(&idp.server)
        .await;
    let device = client.start_device_login().await.unwrap();
    let err = client
        .complete_device_login(&device, &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Expired);
}

#[tokio::test]
async fn a_device_clock_eight_minutes_behind_is_corrected_from_the_token_responses_date() {
    // The server's clock is eight minutes ahead of ours: its ID token's iat is
    // "in the future" for us, and only the Date header tells the truth. (The
    // correction is capped at ten minutes: see session_safety.rs.)
    let idp = Idp::start().await;
    let client = idp.client(Arc::new(MemoryStore::new()));
    let (cb, nonce) = idp.begin(&client).await;
    let ahead = 8 * 60;
    let mut claims = json!({
        "iss": idp.issuer(), "sub": "u1", "aud": "app",
        "exp": now() + ahead + 300, "iat": now() + ahead, "nonce": nonce,
    });
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some("k1".into());
    let id_token = jsonwebtoken::encode(&h, &claims, &idp.key).unwrap();
    let server_date =
        httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(ahead as u64));
    Mock::given(method("POST"))
        .and(path("/oauth/v2/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("date", server_date.as_str())
                .set_body_json(json!({
                    "access_token": "at", "token_type": "Bearer", "expires_in": 3600,
                    "id_token": id_token
                })),
        )
        .up_to_n_times(1)
        .mount(&idp.server)
        .await;
    let session = client.complete_login(&cb).await.unwrap();
    assert_eq!(session.subject, "u1");

    // Without the Date header the same token is refused (iat in the future).
    let client = idp.client(Arc::new(MemoryStore::new()));
    let (cb, nonce) = idp.begin(&client).await;
    claims["nonce"] = json!(nonce);
    idp.token_once(json!({
        "access_token": "at", "token_type": "Bearer",
        "id_token": jsonwebtoken::encode(&h, &claims, &idp.key).unwrap()
    }))
    .await;
    let err = client.complete_login(&cb).await.unwrap_err();
    assert!(err.message().contains("issue time"), "{err}");
}
