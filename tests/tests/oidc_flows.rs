//! sdk-core against a real, certified OpenID provider (`oidc-provider`) in a
//! real browser (headless Chromium): every flow of the protocol core.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use integration_tests::{
    Browser, CLIENT_ID, CUSTOM_SCHEME_REDIRECT_URI, Provider, ProviderOptions,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use zitadel_sdk::store::FileStore;
use zitadel_sdk::{
    BrowserLauncher, CancellationToken, Client, ErrorCode, Event, EventListener, LoginOptions, Url,
};

const SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

fn client(provider: &Provider, store: &tempfile::TempDir) -> Client {
    Client::builder(provider.issuer(), CLIENT_ID)
        .redirect_uri("http://127.0.0.1/callback")
        .scopes(SCOPES.iter().copied())
        .store(Arc::new(FileStore::new(store.path()).unwrap()))
        .build()
        .unwrap()
}

/// A launcher that hands the URL to the test, which drives Chromium to it.
struct ChannelBrowser(mpsc::UnboundedSender<Url>);

#[zitadel_sdk::async_trait]

impl BrowserLauncher for ChannelBrowser {
    async fn open(&self, url: &Url, _redirect_uri: &Url) -> zitadel_sdk::Result<Option<Url>> {
        self.0.send(url.clone()).ok();
        Ok(None)
    }
}

/// Logs `login_name` in through the loopback receiver and the browser.
async fn loopback_login(
    client: &Client,
    browser: &Browser,
    login_name: &str,
) -> zitadel_sdk::SessionInfo {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let c = client.clone();
    let task = tokio::spawn(async move {
        c.login_with_loopback(
            &ChannelBrowser(tx),
            &LoginOptions::default(),
            Duration::from_secs(60),
            &CancellationToken::new(),
        )
        .await
    });
    let url = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let landed = browser
        .login(url.as_str(), login_name, "any-password")
        .await
        .unwrap();
    assert!(
        landed.query().unwrap_or_default().contains("code="),
        "landed on {landed}"
    );
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap()
}

fn stored_refresh_token(store: &tempfile::TempDir) -> String {
    for entry in std::fs::read_dir(store.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("session-")
        {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            return v["refresh_token"].as_str().unwrap().to_owned();
        }
    }
    panic!("no stored session");
}

async fn token_endpoint_status(
    provider: &Provider,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let resp = integration_tests::http_client()
        .post(provider.token_endpoint())
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

#[derive(Default)]
struct Events(Mutex<Vec<Event>>);
impl EventListener for Events {
    fn on_event(&self, e: &Event) {
        self.0.lock().unwrap().push(e.clone());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_browser_login_yields_a_validated_session_in_three_requests() {
    // Given a provider, a browser and a client with an empty store
    let provider = Provider::start_default().await.unwrap();
    let browser = Browser::start().await.unwrap();
    let store = tempfile::tempdir().unwrap();
    let client = client(&provider, &store);
    provider.clear_requests().unwrap();

    // When the user logs in through the system browser
    let session = loopback_login(&client, &browser, "alice").await;

    // Then the session names the user, with a refresh token, after exactly
    // discovery + JWKS + token on the wire
    assert_eq!(session.subject, "alice");
    assert!(session.has_refresh_token);
    let sdk_requests: Vec<_> = provider
        .requests()
        .into_iter()
        .filter(|r| {
            r.path.contains("well-known") || r.path.contains("jwks") || r.path.ends_with("/token")
        })
        .collect();
    assert_eq!(sdk_requests.len(), 3, "{sdk_requests:?}");

    // And a second client over the same store logs in with one request (discovery and JWKS cached)
    let second = client_with_same_store(&provider, &store);
    provider.clear_requests().unwrap();
    let again = loopback_login(&second, &browser, "alice").await;
    assert_eq!(again.subject, "alice");
    assert_eq!(
        provider.request_count("/.well-known/openid-configuration"),
        0
    );
    assert_eq!(provider.request_count("/jwks"), 0);
    assert_eq!(provider.request_count("/token"), 1);

    // And userinfo answers for the same subject
    let info = client.userinfo().await.unwrap();
    assert_eq!(info.sub, "alice");
    assert!(info.email.is_some(), "{info:?}");
    browser.close().await;
}

fn client_with_same_store(provider: &Provider, store: &tempfile::TempDir) -> Client {
    client(provider, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_scheme_login_completes_after_a_process_restart() {
    let provider = Provider::start_default().await.unwrap();
    let browser = Browser::start().await.unwrap();
    let store = tempfile::tempdir().unwrap();

    // Given a mobile-style login started by one process, which is then killed
    let url = {
        let first = Client::builder(provider.issuer(), CLIENT_ID)
            .redirect_uri(CUSTOM_SCHEME_REDIRECT_URI)
            .scopes(SCOPES.iter().copied())
            .store(Arc::new(FileStore::new(store.path()).unwrap()))
            .build()
            .unwrap();
        first.start_login(&LoginOptions::default()).await.unwrap()
    };

    // When the browser comes back to the custom scheme and a new process completes it
    let callback = browser
        .login_custom_scheme(url.as_str(), "carol", "pw")
        .await
        .unwrap();
    assert_eq!(callback.scheme(), "com.example.app");
    let restarted = Client::builder(provider.issuer(), CLIENT_ID)
        .redirect_uri(CUSTOM_SCHEME_REDIRECT_URI)
        .scopes(SCOPES.iter().copied())
        .store(Arc::new(FileStore::new(store.path()).unwrap()))
        .build()
        .unwrap();
    assert!(restarted.is_login_callback(callback.as_str()));
    let session = restarted.complete_login(callback.as_str()).await.unwrap();

    // Then the user is signed in, and the same callback cannot be replayed
    assert_eq!(session.subject, "carol");
    let replay = restarted
        .complete_login(callback.as_str())
        .await
        .unwrap_err();
    assert_eq!(replay.code(), ErrorCode::InvalidInput);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_approved_in_the_browser_signs_in() {
    let provider = Provider::start_default().await.unwrap();
    let browser = Browser::start().await.unwrap();
    let store = tempfile::tempdir().unwrap();
    let client = client(&provider, &store);

    let device = client.start_device_login().await.unwrap();
    assert!(!device.user_code.is_empty());
    let c = client.clone();
    let d = device.clone();
    let polling =
        tokio::spawn(async move { c.complete_device_login(&d, &CancellationToken::new()).await });
    browser
        .approve_device(
            device.verification_uri_complete.as_deref().unwrap(),
            "dave",
            "pw",
        )
        .await
        .unwrap();
    let session = tokio::time::timeout(Duration::from_secs(40), polling)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(session.subject, "dave");
    eprintln!(
        "device flow requests: device_authorization={} token polls={}",
        provider.request_count("/device/auth"),
        provider.request_count("/token")
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_can_be_cancelled() {
    let provider = Provider::start_default().await.unwrap();
    let store = tempfile::tempdir().unwrap();
    let client = client(&provider, &store);
    let device = client.start_device_login().await.unwrap();
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c2.cancel();
    });
    let err = client
        .complete_device_login(&device, &cancel)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_the_refresh_token_and_the_old_one_is_rejected() {
    let provider = Provider::start_default().await.unwrap();
    let browser = Browser::start().await.unwrap();
    let store = tempfile::tempdir().unwrap();
    let client = client(&provider, &store);
    loopback_login(&client, &browser, "erin").await;
    let before = stored_refresh_token(&store);

    let refreshed = client.refresh().await.unwrap();
    assert_eq!(refreshed.subject, "erin");
    let after = stored_refresh_token(&store);
    assert_ne!(before, after, "the rotated refresh token is stored");

    let (status, body) = token_endpoint_status(
        &provider,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &before),
            ("client_id", CLIENT_ID),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_access_token_calls_at_expiry_make_one_refresh() {
    // Access tokens live 10 s, inside the 30 s refresh margin: every token is "at expiry".
    let provider = Provider::start(ProviderOptions::with_access_token_ttl(10))
        .await
        .unwrap();
    let browser = Browser::start().await.unwrap();
    let store = tempfile::tempdir().unwrap();
    let client = client(&provider, &store);
    let session = loopback_login(&client, &browser, "frank").await;
    // Wait until the access token has expired (by the SDK's own clock)
    let expires_at = session.expires_at.expect("the provider sends expires_in");
    let unix_now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    let wait = (expires_at as f64 + 1.0 - unix_now()).max(0.0);
    assert!(
        wait < 15.0,
        "a short-lived token expires at {expires_at}, now {}",
        unix_now()
    );
    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    provider.clear_requests().unwrap();

    let calls: Vec<_> = (0..50)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.access_token().await })
        })
        .collect();
    let mut tokens = Vec::new();
    for c in calls {
        tokens.push(c.await.unwrap().unwrap().expose().to_owned());
    }
    assert_eq!(
        provider.request_count("/token"),
        1,
        "{:?}",
        provider.requests()
    );
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every caller gets the one refreshed token");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_both_tokens_and_wipes_the_session() {
    let provider = Provider::start_default().await.unwrap();
    let browser = Browser::start().await.unwrap();
    let store = tempfile::tempdir().unwrap();
    let client = client(&provider, &store);
    loopback_login(&client, &browser, "gina").await;
    let refresh = stored_refresh_token(&store);
    let access = client.access_token().await.unwrap().expose().to_owned();

    let result = client.logout().await.unwrap();
    assert!(result.revoked);
    assert!(client.session().await.unwrap().is_none());
    assert_eq!(
        client.access_token().await.unwrap_err().code(),
        ErrorCode::NotSignedIn
    );

    let (status, _) = token_endpoint_status(
        &provider,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", CLIENT_ID),
        ],
    )
    .await;
    assert_eq!(status, 400, "the refresh token is revoked");
    let userinfo = integration_tests::http_client()
        .get(provider.userinfo_endpoint())
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        userinfo.status().as_u16(),
        401,
        "the access token is revoked"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_session_url_ends_the_browser_session() {
    let provider = Provider::start_default().await.unwrap();
    let browser = Browser::start().await.unwrap();
    let store = tempfile::tempdir().unwrap();
    let client = client(&provider, &store);
    loopback_login(&client, &browser, "hank").await;

    let url = client
        .end_session_url(Some("http://127.0.0.1:9/callback"), Some("st-42"))
        .await
        .unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert!(q.contains_key("id_token_hint"));
    let landed = browser.end_session(url.as_str()).await.unwrap();
    assert_eq!(landed.path(), "/callback");
    assert!(landed.query().unwrap_or_default().contains("state=st-42"));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_refresh_token_expires_only_that_account() {
    let provider = Provider::start_default().await.unwrap();
    let browser = Browser::start().await.unwrap();
    let store = tempfile::tempdir().unwrap();
    let work = client(&provider, &store).for_account("work");
    let events = Arc::new(Events::default());
    work.add_listener(events.clone());
    loopback_login(&work, &browser, "ivy").await;
    let refresh = stored_refresh_token(&store);
    // A second account, signed in from another browser (its own grant at the provider)
    let home = work.for_account("home");
    let other_browser = Browser::start().await.unwrap();
    loopback_login(&home, &other_browser, "ivy").await;

    // The server revokes the work account's refresh token
    let revoked = integration_tests::http_client()
        .post(provider.revocation_endpoint())
        .form(&[("token", refresh.as_str()), ("client_id", CLIENT_ID)])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());

    let err = work.refresh().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::SessionExpired);
    assert!(work.session().await.unwrap().is_none());
    assert!(events.0.lock().unwrap().contains(&Event::SessionExpired {
        account: "work".into()
    }));
    // The other account is untouched and still refreshes
    assert_eq!(home.refresh().await.unwrap().subject, "ivy");
    browser.close().await;
    other_browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_key_rotation_validates_after_one_jwks_refetch() {
    let mut provider = Provider::start_default().await.unwrap();
    let browser = Browser::start().await.unwrap();
    let store = tempfile::tempdir().unwrap();
    let client = client(&provider, &store);
    loopback_login(&client, &browser, "jack").await;
    let old_kid = provider.kid().to_owned();

    // The provider restarts with a new signing key (same issuer and port)
    provider.restart_with_new_key().await.unwrap();
    assert_ne!(provider.kid(), old_kid);
    provider.clear_requests().unwrap();

    // A new login's ID token has an unknown kid: one JWKS refetch, no rediscovery
    let browser2 = Browser::start().await.unwrap();
    let session = loopback_login(&client, &browser2, "jack").await;
    assert_eq!(session.subject, "jack");
    assert_eq!(provider.request_count("/jwks"), 1);
    assert_eq!(
        provider.request_count("/.well-known/openid-configuration"),
        0
    );
    browser.close().await;
    browser2.close().await;
}
