//! Self-test of the harness: the provider, the browser and the helpers work for
//! real, with hand-built OAuth requests (no SDK code involved).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use integration_tests::{
    Browser, CLIENT_ID, CUSTOM_SCHEME_REDIRECT_URI, CallbackListener, Pkce, Provider,
    ProviderOptions, http_client, random_token,
};
use serde_json::Value;
use url::Url;

const WAIT: Duration = Duration::from_secs(20);

/// A hand-built authorization URL (code flow, PKCE S256, state, nonce).
fn authorization_url(provider: &Provider, redirect_uri: &str, pkce: &Pkce, state: &str) -> String {
    let mut url = Url::parse(&provider.authorization_endpoint()).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", CLIENT_ID)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect_uri)
        // The last scope is unknown to the provider: it is ignored, not rejected.
        .append_pair(
            "scope",
            "openid profile email offline_access urn:zitadel:iam:org:project:id:zitadel:aud",
        )
        .append_pair("state", state)
        .append_pair("nonce", &random_token(16))
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", pkce.method());
    url.to_string()
}

fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn post_form(url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = http_client().post(url).form(form).send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap();
    (status, body)
}

async fn exchange_code(provider: &Provider, code: &str, redirect_uri: &str, pkce: &Pkce) -> Value {
    let (status, body) = post_form(
        &provider.token_endpoint(),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", CLIENT_ID),
            ("code_verifier", &pkce.verifier),
        ],
    )
    .await;
    assert_eq!(status, 200, "token response: {body}");
    body
}

/// The claims of a JWT, unverified (the SDK verifies; this only inspects).
fn jwt_claims(jwt: &str) -> Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_login_code_exchange_refresh_rotation_and_logout() {
    let provider = Provider::start_default().await.unwrap();
    let mut listener = CallbackListener::start().await.unwrap();
    let browser = Browser::start().await.unwrap();
    let redirect_uri = listener.redirect_uri();
    let pkce = Pkce::new();
    let state = random_token(16);

    let auth_url = authorization_url(&provider, &redirect_uri, &pkce, &state);
    let final_url = browser.login(&auth_url, "alice", "secret").await.unwrap();
    assert!(
        final_url.as_str().starts_with(&redirect_uri),
        "final URL {final_url}"
    );

    let callback = listener.next_request_to("/callback", WAIT).await.unwrap();
    assert_eq!(callback.method, "GET");
    let code = callback.query_param("code").expect("code in the callback");
    assert_eq!(
        callback.query_param("state").as_deref(),
        Some(state.as_str())
    );
    assert_eq!(
        callback.query_param("iss").as_deref(),
        Some(provider.issuer())
    );
    assert_eq!(
        query_param(&final_url, "code").as_deref(),
        Some(code.as_str())
    );

    let tokens = exchange_code(&provider, &code, &redirect_uri, &pkce).await;
    let id_token = tokens["id_token"].as_str().expect("id_token");
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh_token");
    assert!(tokens["access_token"].is_string());
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    let granted: Vec<&str> = tokens["scope"].as_str().unwrap().split(' ').collect();
    assert!(granted.contains(&"offline_access"), "scope {granted:?}");
    assert!(
        !granted.iter().any(|s| s.starts_with("urn:zitadel")),
        "scope {granted:?}"
    );
    let claims = jwt_claims(id_token);
    assert_eq!(claims["iss"], provider.issuer());
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], CLIENT_ID);

    // Userinfo with the access token.
    let userinfo: Value = http_client()
        .get(provider.userinfo_endpoint())
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["sub"], "alice");
    assert_eq!(userinfo["preferred_username"], "alice");
    assert_eq!(userinfo["email"], "alice@example.com");
    assert_eq!(userinfo["email_verified"], true);

    // Refresh tokens rotate on every use; the old one is then dead.
    let (status, refreshed) = post_form(
        &provider.token_endpoint(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let rotated = refreshed["refresh_token"]
        .as_str()
        .expect("rotated refresh token");
    assert_ne!(rotated, refresh_token);
    let (status, reused) = post_form(
        &provider.token_endpoint(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
        ],
    )
    .await;
    assert_eq!(status, 400, "{reused}");
    assert_eq!(reused["error"], "invalid_grant");

    // RP-initiated logout back to the loopback listener.
    let mut end_session = Url::parse(&provider.end_session_endpoint()).unwrap();
    end_session
        .query_pairs_mut()
        .append_pair("id_token_hint", id_token)
        .append_pair("post_logout_redirect_uri", &redirect_uri)
        .append_pair("state", "bye");
    let after_logout = browser.end_session(end_session.as_str()).await.unwrap();
    assert_eq!(query_param(&after_logout, "state").as_deref(), Some("bye"));
    let callback = listener.next_request_to("/callback", WAIT).await.unwrap();
    assert_eq!(callback.query_param("state").as_deref(), Some("bye"));

    // After logout, a new login shows the login page again (it is driven).
    let pkce = Pkce::new();
    let auth_url = authorization_url(&provider, &redirect_uri, &pkce, "again");
    browser.login(&auth_url, "bob", "pw").await.unwrap();
    let callback = listener.next_request_to("/callback", WAIT).await.unwrap();
    let code = callback.query_param("code").unwrap();
    let tokens = exchange_code(&provider, &code, &redirect_uri, &pkce).await;
    assert_eq!(
        jwt_claims(tokens["id_token"].as_str().unwrap())["sub"],
        "bob"
    );

    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_scheme_login_returns_the_redirect() {
    let provider = Provider::start_default().await.unwrap();
    let browser = Browser::start().await.unwrap();
    let pkce = Pkce::new();
    let state = random_token(16);
    let auth_url = authorization_url(&provider, CUSTOM_SCHEME_REDIRECT_URI, &pkce, &state);

    let redirect = browser
        .login_custom_scheme(&auth_url, "carol", "pw")
        .await
        .unwrap();
    assert!(
        redirect.as_str().starts_with("com.example.app:/callback?"),
        "{redirect}"
    );
    assert_eq!(
        query_param(&redirect, "state").as_deref(),
        Some(state.as_str())
    );
    assert_eq!(
        query_param(&redirect, "iss").as_deref(),
        Some(provider.issuer())
    );
    let code = query_param(&redirect, "code").expect("code");

    let tokens = exchange_code(&provider, &code, CUSTOM_SCHEME_REDIRECT_URI, &pkce).await;
    assert!(tokens["id_token"].is_string());
    assert!(tokens["refresh_token"].is_string());

    // Logout back to the custom scheme.
    let mut end_session = Url::parse(&provider.end_session_endpoint()).unwrap();
    end_session
        .query_pairs_mut()
        .append_pair("client_id", CLIENT_ID)
        .append_pair("post_logout_redirect_uri", CUSTOM_SCHEME_REDIRECT_URI)
        .append_pair("state", "bye");
    let after_logout = browser.end_session(end_session.as_str()).await.unwrap();
    assert_eq!(after_logout.as_str(), "com.example.app:/callback?state=bye");

    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_approved_in_the_browser_with_a_short_access_token_ttl() {
    let provider = Provider::start(ProviderOptions::with_access_token_ttl(7))
        .await
        .unwrap();
    let browser = Browser::start().await.unwrap();

    let (status, device) = post_form(
        &provider.device_authorization_endpoint(),
        &[
            ("client_id", CLIENT_ID),
            ("scope", "openid profile offline_access"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{device}");
    let device_code = device["device_code"].as_str().unwrap();
    let complete = device["verification_uri_complete"].as_str().unwrap();
    let interval = device["interval"].as_u64().unwrap_or(5);

    // Before approval: authorization_pending.
    let poll = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", device_code),
        ("client_id", CLIENT_ID),
    ];
    let (status, pending) = post_form(&provider.token_endpoint(), &poll).await;
    assert_eq!(status, 400);
    assert_eq!(pending["error"], "authorization_pending");

    browser
        .approve_device(complete, "dave", "pw")
        .await
        .unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let tokens = loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        let (status, body) = post_form(&provider.token_endpoint(), &poll).await;
        if status == 200 {
            break body;
        }
        assert!(
            matches!(
                body["error"].as_str(),
                Some("authorization_pending" | "slow_down")
            ),
            "{body}"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "device flow never completed"
        );
    };
    assert_eq!(
        jwt_claims(tokens["id_token"].as_str().unwrap())["sub"],
        "dave"
    );
    assert!(tokens["refresh_token"].is_string());
    assert_eq!(tokens["expires_in"], 7);

    browser.close().await;
}

async fn jwks_kids(provider: &Provider) -> Vec<String> {
    let jwks: Value = http_client()
        .get(provider.jwks_uri())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn restart_with_new_key_rotates_the_kid_and_keeps_the_issuer() {
    let mut provider = Provider::start(ProviderOptions::with_access_token_ttl(5))
        .await
        .unwrap();
    let issuer = provider.issuer().to_owned();
    let port = provider.port();
    let kid = provider.kid().to_owned();
    assert_eq!(jwks_kids(&provider).await, vec![kid.clone()]);

    // Same key on a plain restart.
    provider.restart().await.unwrap();
    assert_eq!(provider.kid(), kid);
    assert_eq!(jwks_kids(&provider).await, vec![kid.clone()]);

    provider.restart_with_new_key().await.unwrap();
    assert_eq!(provider.issuer(), issuer);
    assert_eq!(provider.port(), port);
    assert_ne!(provider.kid(), kid);
    assert_eq!(jwks_kids(&provider).await, vec![provider.kid().to_owned()]);

    let discovery: Value = http_client()
        .get(provider.discovery_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], issuer);
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"],
        true
    );
    assert_eq!(discovery["token_endpoint"], provider.token_endpoint());
    assert_eq!(
        discovery["device_authorization_endpoint"],
        provider.device_authorization_endpoint()
    );
    assert_eq!(
        discovery["end_session_endpoint"],
        provider.end_session_endpoint()
    );
    assert_eq!(
        discovery["revocation_endpoint"],
        provider.revocation_endpoint()
    );
    assert_eq!(
        discovery["introspection_endpoint"],
        provider.introspection_endpoint()
    );
    assert_eq!(discovery["userinfo_endpoint"], provider.userinfo_endpoint());
}

#[tokio::test]
async fn request_counting() {
    let provider = Provider::start_default().await.unwrap();
    assert_eq!(provider.request_count("/jwks"), 0);
    for _ in 0..3 {
        jwks_kids(&provider).await;
    }
    let response = http_client()
        .get(provider.endpoint("/does-not-exist?x=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(provider.request_count("/jwks"), 3);
    assert_eq!(provider.request_count("/does-not-exist"), 1);
    let requests = provider.requests();
    assert_eq!(requests.len(), 4);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].status, 200);
    assert_eq!(requests[3].status, 404);

    provider.clear_requests().unwrap();
    assert!(provider.requests().is_empty());
    jwks_kids(&provider).await;
    assert_eq!(provider.request_count("/jwks"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_reuse_and_provider_errors() {
    let provider = Provider::start_default().await.unwrap();
    let mut listener = CallbackListener::start().await.unwrap();
    let browser = Browser::start().await.unwrap();
    let redirect_uri = listener.redirect_uri();

    // Two logins in a row: the second finds a session and skips the login page.
    for state in ["first", "second"] {
        let pkce = Pkce::new();
        let auth_url = authorization_url(&provider, &redirect_uri, &pkce, state);
        browser.login(&auth_url, "erin", "pw").await.unwrap();
        let callback = listener.next_request_to("/callback", WAIT).await.unwrap();
        assert_eq!(callback.query_param("state").as_deref(), Some(state));
    }
    // Only the first login posted a login form; both posted a consent form.
    let interaction_posts = provider
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/interaction/"))
        .count();
    assert_eq!(interaction_posts, 3);

    // Without cookies, the login page shows again and another user logs in.
    browser.forget_sessions().await.unwrap();
    let pkce = Pkce::new();
    let auth_url = authorization_url(&provider, &redirect_uri, &pkce, "third");
    browser.login(&auth_url, "frank", "pw").await.unwrap();
    let callback = listener.next_request_to("/callback", WAIT).await.unwrap();
    let code = callback.query_param("code").unwrap();
    let tokens = exchange_code(&provider, &code, &redirect_uri, &pkce).await;
    assert_eq!(
        jwt_claims(tokens["id_token"].as_str().unwrap())["sub"],
        "frank"
    );

    // An unregistered redirect URI: the provider shows an error page, and the
    // harness says so at once instead of timing out.
    let pkce = Pkce::new();
    let bad = authorization_url(&provider, "http://127.0.0.1:9/elsewhere", &pkce, "x");
    let started = std::time::Instant::now();
    let error = browser.login(&bad, "erin", "pw").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "{error}");
    match error {
        integration_tests::HarnessError::UnexpectedPage { detail, .. } => {
            assert!(detail.contains("redirect_uri"), "{detail}");
        }
        other => panic!("expected an error page, got {other}"),
    }

    browser.close().await;
}

/// A loopback redirect target that answers `/callback` with a redirect to
/// `/done` (as an app's listener may do), and `/done` with 200.
async fn redirecting_listener() -> (u16, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]);
                let response = if head.starts_with("GET /callback") {
                    "HTTP/1.1 302 Found\r\nlocation: /done\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                } else {
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 4\r\nconnection: close\r\n\r\ndone"
                };
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (port, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_returns_the_callback_url_even_if_the_app_redirects_elsewhere() {
    let provider = Provider::start_default().await.unwrap();
    let browser = Browser::start().await.unwrap();
    let (port, task) = redirecting_listener().await;
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let pkce = Pkce::new();
    let auth_url = authorization_url(&provider, &redirect_uri, &pkce, "st");

    let landed = browser.login(&auth_url, "gina", "pw").await.unwrap();
    assert!(landed.as_str().starts_with(&redirect_uri), "{landed}");
    let code = query_param(&landed, "code").expect("code");
    let tokens = exchange_code(&provider, &code, &redirect_uri, &pkce).await;
    assert!(tokens["id_token"].is_string());

    browser.close().await;
    task.abort();
}
