//! Hosted login pages, device flow, error bodies, request log.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::*;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use zitadel_emulator::EmulatorConfig;

async fn login_page(
    emu: &zitadel_emulator::RunningEmulator,
    client: &Client,
    extra: &[(&str, &str)],
) -> (String, url::Url) {
    let (_, challenge) = pkce();
    let (resp, url) = follow(emu, client, authorize_url(emu, &challenge, "openid", extra)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    (resp.text().await.unwrap(), url)
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_are_german_with_ui_locales_or_accept_language() {
    let emu = start().await;
    let (html, _) = login_page(&emu, &browser(), &[("ui_locales", "de-CH de")]).await;
    assert!(html.contains("lang=\"de\""));
    assert!(html.contains("Willkommen zurück!"));
    let client = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(
            [(
                reqwest::header::ACCEPT_LANGUAGE,
                "de-DE,de;q=0.9,en;q=0.5".parse().unwrap(),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .unwrap();
    let (html, _) = login_page(&emu, &client, &[]).await;
    assert!(html.contains("Loginname"));
    let (html, _) = login_page(&emu, &browser(), &[]).await;
    assert!(html.contains("lang=\"en\"") && html.contains("Welcome back!"));
    // ACME's name is shown
    assert!(html.contains("ACME"));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn user_input_is_escaped() {
    let emu = start().await;
    let client = browser();
    let (html, _) = login_page(
        &emu,
        &client,
        &[("login_hint", "<script>alert(1)</script>")],
    )
    .await;
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // An unknown login name is echoed escaped with an error
    let resp = post_form(
        &emu,
        &client,
        "/ui/v2/login/loginname",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("requestId", &hidden(&html, "requestId")),
            ("loginName", "\"><img src=x>"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let html = resp.text().await.unwrap();
    assert!(html.contains("User could not be found"));
    assert!(!html.contains("<img src=x>"));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn login_hint_opens_the_password_page_in_a_browser_without_cookies() {
    let emu = start().await;
    // A browser that has never seen the emulator (no zemu_ua cookie yet)
    let (html, url) = login_page(&emu, &browser(), &[("login_hint", "alice@acme.localhost")]).await;
    assert!(url.path().ends_with("/ui/v2/login/password"), "{url}");
    assert!(html.contains("alice@acme.localhost"), "{html}");
    assert!(html.contains("name=\"password\""), "{html}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forms_without_a_matching_csrf_token_are_rejected() {
    let emu = start().await;
    let client = browser();
    let (html, _) = login_page(&emu, &client, &[]).await;
    let request_id = hidden(&html, "requestId");
    // No token
    let resp = post_form(
        &emu,
        &client,
        "/ui/v2/login/loginname",
        &[("requestId", &request_id), ("loginName", "admin")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Another browser's token
    let (other_html, _) = login_page(&emu, &browser(), &[]).await;
    let resp = post_form(
        &emu,
        &client,
        "/ui/v2/login/loginname",
        &[
            ("csrf", &hidden(&other_html, "csrf")),
            ("requestId", &request_id),
            ("loginName", "admin"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // No cookie at all (a cross-site form post without the browser's cookie)
    let resp = post_form(
        &emu,
        &Client::new(),
        "/ui/v2/login/loginname",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("requestId", &request_id),
            ("loginName", "admin"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // The right token works
    let resp = post_form(
        &emu,
        &client,
        "/ui/v2/login/loginname",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("requestId", &request_id),
            ("loginName", "admin"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_shows_an_error_and_allows_a_retry() {
    let emu = start().await;
    let client = browser();
    let (html, _) = login_page(&emu, &client, &[]).await;
    let request_id = hidden(&html, "requestId");
    let resp = post_form(
        &emu,
        &client,
        "/ui/v2/login/loginname",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("requestId", &request_id),
            ("loginName", "alice@acme.localhost"),
        ],
    )
    .await;
    let html = client
        .get(location(&emu, &resp))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("alice@acme.localhost"));
    let form = |pw: &'static str| {
        vec![
            ("csrf", hidden(&html, "csrf")),
            ("requestId", request_id.clone()),
            ("sessionId", hidden(&html, "sessionId")),
            ("password", pw.to_owned()),
        ]
    };
    let resp = client
        .post(format!("{}/ui/v2/login/password", emu.issuer()))
        .form(&form("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("Password is invalid"));
    let resp = client
        .post(format!("{}/ui/v2/login/password", emu.issuer()))
        .form(&form("Password1!"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert!(query(&location(&emu, &resp), "code").is_some());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn device_flow_is_approved_on_the_device_page() {
    let emu = start().await;
    let http = Client::new();
    // Given a device authorization
    let resp = http
        .post(format!("{}/oauth/v2/device_authorization", emu.issuer()))
        .form(&[
            ("client_id", "native-app"),
            ("scope", "openid profile offline_access"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let auth: Value = resp.json().await.unwrap();
    let user_code = auth["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert!(
        user_code
            .chars()
            .all(|c| c == '-' || "BCDFGHJKLMNPQRSTVWXZ".contains(c))
    );
    assert_eq!(auth["verification_uri"], format!("{}/device", emu.issuer()));
    assert_eq!(auth["interval"], 5);
    let device_code = auth["device_code"].as_str().unwrap();
    let poll_form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", device_code),
        ("client_id", "native-app"),
    ];
    let poll = || token(&emu, &poll_form);
    // When the device polls before approval
    let first: Value = poll().await.json().await.unwrap();
    assert_eq!(first["error"], "authorization_pending");
    let second: Value = poll().await.json().await.unwrap();
    assert_eq!(second["error"], "slow_down");
    // And the user enters the code (lower case, without dash) and logs in
    let client = browser();
    let (resp, _) = follow(
        &emu,
        &client,
        url::Url::parse(auth["verification_uri_complete"].as_str().unwrap()).unwrap(),
    )
    .await;
    let html = resp.text().await.unwrap();
    let typed = user_code.replace('-', "").to_lowercase();
    let resp = post_form(
        &emu,
        &client,
        "/ui/v2/login/device",
        &[("csrf", &hidden(&html, "csrf")), ("userCode", &typed)],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let alice = emu.seed_info().users[2].clone();
    let consent_url = login_with_password(
        &emu,
        &client,
        location(&emu, &resp),
        &alice.login_name,
        &alice.password,
    )
    .await;
    let html = client
        .get(consent_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("native-app"));
    let resp = post_form(
        &emu,
        &client,
        "/ui/v2/login/device/consent",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("requestId", &hidden(&html, "requestId")),
            ("sessionId", &hidden(&html, "sessionId")),
            ("action", "allow"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("The device has been signed in")
    );
    // Then the next poll after the interval returns tokens, once
    tokio::time::sleep(Duration::from_millis(5100)).await;
    let resp = poll().await;
    assert_eq!(resp.status(), StatusCode::OK);
    let tokens: Value = resp.json().await.unwrap();
    assert!(tokens["id_token"].is_string() && tokens["refresh_token"].is_string());
    let info: Value = http
        .get(format!("{}/oidc/v1/userinfo", emu.issuer()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], alice.user_id);
    tokio::time::sleep(Duration::from_millis(5100)).await;
    assert_eq!(
        poll().await.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn device_denial_is_reported_as_access_denied_and_bad_codes_are_refused() {
    let emu = start().await;
    let auth: Value = Client::new()
        .post(format!("{}/oauth/v2/device_authorization", emu.issuer()))
        .form(&[("client_id", "native-app"), ("scope", "openid")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = browser();
    let (resp, _) = follow(
        &emu,
        &client,
        url::Url::parse(&format!("{}/device", emu.issuer())).unwrap(),
    )
    .await;
    let html = resp.text().await.unwrap();
    let resp = post_form(
        &emu,
        &client,
        "/ui/v2/login/device",
        &[("csrf", &hidden(&html, "csrf")), ("userCode", "BBBB-BBBB")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = post_form(
        &emu,
        &client,
        "/ui/v2/login/device",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("userCode", auth["user_code"].as_str().unwrap()),
        ],
    )
    .await;
    let admin = emu.seed_info().users[0].clone();
    let consent_url = login_with_password(
        &emu,
        &client,
        location(&emu, &resp),
        &admin.login_name,
        &admin.password,
    )
    .await;
    let html = client
        .get(consent_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    post_form(
        &emu,
        &client,
        "/ui/v2/login/device/consent",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("requestId", &hidden(&html, "requestId")),
            ("sessionId", &hidden(&html, "sessionId")),
            ("action", "deny"),
        ],
    )
    .await;
    let resp = token(
        &emu,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", auth["device_code"].as_str().unwrap()),
            ("client_id", "native-app"),
        ],
    )
    .await;
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "access_denied"
    );
    // A client without the device grant is refused
    let resp = Client::new()
        .post(format!("{}/oauth/v2/device_authorization", emu.issuer()))
        .basic_auth("api-app", Some("api-app-secret"))
        .form(&[("scope", "openid")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_page_ends_browser_sessions_and_redirects_to_the_registered_uri() {
    let emu = start().await;
    let client = browser();
    let tokens = login_and_exchange(&emu, &client, "openid").await;
    // Without id_token_hint the user picks on the logout page
    let mut url = url::Url::parse(&format!("{}/oidc/v1/end_session", emu.issuer())).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", "native-app")
        .append_pair("post_logout_redirect_uri", "com.example.app:/logout")
        .append_pair("state", "s9");
    let (resp, page_url) = follow(&emu, &client, url).await;
    assert!(page_url.path().ends_with("/ui/v2/login/logout"));
    let html = resp.text().await.unwrap();
    assert!(html.contains("admin@acme.localhost"));
    let resp = post_form(
        &emu,
        &client,
        "/ui/v2/login/logout",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("logoutRequest", &hidden(&html, "logoutRequest")),
            ("sessionId", ""),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()["location"],
        "com.example.app:/logout?state=s9"
    );
    let info = Client::new()
        .get(format!("{}/oidc/v1/userinfo", emu.issuer()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_and_methods_get_zitadel_error_bodies() {
    let emu = start().await;
    let http = Client::new();
    let resp = http
        .get(format!("{}/v2/nothing/here", emu.issuer()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], 5);
    assert_eq!(body["message"], "Not Found");
    let resp = http
        .delete(format!("{}/oauth/v2/keys", emu.issuer()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], 12);
    // Oversized bodies are refused, not crashed on. The server may close the
    // connection before the client has written the whole body, so a send
    // error is acceptable too; a fresh client then checks the server lives.
    let oversized = Client::new()
        .post(format!("{}/oauth/v2/token", emu.issuer()))
        .body(vec![b'a'; 512 * 1024])
        .send()
        .await;
    if let Ok(resp) = oversized {
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    // Garbage at the token endpoint is an OAuth error
    let resp = Client::new()
        .post(format!("{}/oauth/v2/token", emu.issuer()))
        .body("%%%")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn outbox_is_readable_and_filterable() {
    let emu = start().await;
    let body: Value = Client::new()
        .get(format!(
            "{}/_emulator/outbox?to=nobody@example.com",
            emu.issuer()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["messages"], serde_json::json!([]));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn request_log_has_one_json_line_per_request_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.jsonl");
    let emu = start_with(EmulatorConfig {
        request_log: Some(path.clone()),
        ..EmulatorConfig::ephemeral()
    })
    .await;
    let tokens = login_and_exchange(&emu, &browser(), "openid offline_access").await;
    token(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", "native-app"),
        ],
    )
    .await;
    emu.shutdown().await;
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("Password1!"), "password leaked");
    assert!(
        !text.contains(tokens["refresh_token"].as_str().unwrap()),
        "refresh token leaked"
    );
    assert!(
        !text.contains(tokens["access_token"].as_str().unwrap()),
        "access token leaked"
    );
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 6);
    for l in &lines {
        for key in ["method", "path", "status", "request_body", "response_body"] {
            assert!(l.get(key).is_some(), "{key} missing in {l}");
        }
    }
    let token_line = lines
        .iter()
        .find(|l| l["path"] == "/oauth/v2/token" && l["status"] == 200)
        .unwrap();
    assert_eq!(token_line["request_body"]["code_verifier"], "[redacted]");
    assert_eq!(
        token_line["request_body"]["grant_type"],
        "authorization_code"
    );
    assert_eq!(token_line["response_body"]["access_token"], "[redacted]");
    assert_eq!(token_line["response_body"]["token_type"], "Bearer");
    let pw_line = lines
        .iter()
        .find(|l| l["path"] == "/ui/v2/login/password" && l["method"] == "POST")
        .unwrap();
    assert_eq!(pw_line["request_body"]["password"], "[redacted]");
}

#[tokio::test(flavor = "multi_thread")]
async fn startup_json_has_the_documented_keys() {
    let emu = start().await;
    let v: Value = serde_json::from_str(&emu.startup_json()).unwrap();
    assert_eq!(v["issuer"], emu.issuer());
    assert_eq!(v["client_id"], "native-app");
    assert!(v["login_client_token"].as_str().unwrap().len() > 20);
    assert_eq!(v["org_id"], emu.seed_info().org_id);
    let users = v["users"].as_array().unwrap();
    assert_eq!(users[0]["login_name"], "admin@acme.localhost");
    assert_eq!(users[0]["roles"], serde_json::json!(["IAM_OWNER"]));
    assert_eq!(users[1]["roles"], serde_json::json!(["ORG_OWNER"]));
    assert_eq!(users[2]["roles"], serde_json::json!([]));
    assert_eq!(v.as_object().unwrap().len(), 5);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn registration_with_prompt_create_verifies_the_email_code_and_logs_in() {
    let emu = start().await;
    let client = browser();
    let (verifier, challenge) = pkce();
    // Given an authorize request with prompt=create
    let (resp, url) = follow(
        &emu,
        &client,
        authorize_url(&emu, &challenge, "openid email", &[("prompt", "create")]),
    )
    .await;
    assert!(url.path().ends_with("/ui/v2/login/register"), "{url}");
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"password-rules\""));
    assert!(html.contains("terms-of-service"));
    let csrf = hidden(&html, "csrf");
    let rid = hidden(&html, "requestId");
    let form = |pw2: &'static str, terms: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("requestId", rid.clone()),
            ("givenName", "<b>Zoe</b>".to_owned()),
            ("familyName", "Zed".to_owned()),
            ("email", "zoe@example.com".to_owned()),
            ("password", "Sup3r-secret".to_owned()),
            ("passwordConfirm", pw2.to_owned()),
            ("acceptTerms", terms.to_owned()),
        ]
    };
    let register = |f: Vec<(&'static str, String)>| {
        client
            .post(format!("{}/ui/v2/login/register", emu.issuer()))
            .form(&f)
            .send()
    };
    // Mismatched passwords and missing terms are refused, input kept escaped
    let resp = register(form("other", "true")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let page = resp.text().await.unwrap();
    assert!(page.contains("The passwords do not match."));
    assert!(page.contains("&lt;b&gt;Zoe&lt;/b&gt;") && !page.contains("<b>Zoe</b>"));
    // The accepted terms stay ticked on the page with the error
    assert!(page.contains("name=\"acceptTerms\" value=\"true\" required checked>"));
    let resp = register(form("Sup3r-secret", "")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let page = resp.text().await.unwrap();
    assert!(page.contains("Please accept the terms of service"));
    assert!(page.contains("name=\"acceptTerms\" value=\"true\" required>"));
    // When the form is complete
    let resp = register(form("Sup3r-secret", "true")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let verify_url = location(&emu, &resp);
    let html = client
        .get(verify_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("zoe@example.com"));
    let vform = |code: &str, action: &str| {
        vec![
            ("csrf", hidden(&html, "csrf")),
            ("requestId", hidden(&html, "requestId")),
            ("sessionId", hidden(&html, "sessionId")),
            ("code", code.to_owned()),
            ("action", action.to_owned()),
        ]
    };
    let post_verify = |f: Vec<(&'static str, String)>| {
        client
            .post(format!("{}/ui/v2/login/verify", emu.issuer()))
            .form(&f)
            .send()
    };
    // Then a code went to the outbox; a wrong code is refused, a resend sends another
    let outbox = |emu_issuer: String| async move {
        Client::new()
            .get(format!("{emu_issuer}/_emulator/outbox?to=zoe@example.com"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    assert_eq!(
        outbox(emu.issuer().to_owned()).await["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let resp = post_verify(vform("XXXXXX", "")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = post_verify(vform("", "resend")).await.unwrap();
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("A new code has been sent.")
    );
    let messages = outbox(emu.issuer().to_owned()).await;
    let messages = messages["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    let code = messages[1]["code"].as_str().unwrap().to_owned();
    // And the right code finishes the login
    let resp = post_verify(vform(&code, "")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let callback = location(&emu, &resp);
    let tokens = exchange(&emu, &query(&callback, "code").unwrap(), &verifier).await;
    let info: Value = Client::new()
        .get(format!("{}/oidc/v1/userinfo", emu.issuer()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["email"], "zoe@example.com");
    assert_eq!(info["email_verified"], true);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn password_reset_by_email_code_in_the_hosted_login() {
    let emu = start().await;
    let client = browser();
    let (verifier, challenge) = pkce();
    let (resp, _) = follow(
        &emu,
        &client,
        authorize_url(&emu, &challenge, "openid", &[]),
    )
    .await;
    let html = resp.text().await.unwrap();
    let rid = hidden(&html, "requestId");
    let resp = post_form(
        &emu,
        &client,
        "/ui/v2/login/loginname",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("requestId", &rid),
            ("loginName", "alice@acme.localhost"),
        ],
    )
    .await;
    let html = client
        .get(location(&emu, &resp))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("/ui/v2/login/password/reset"));
    // Given the reset requested from the password page
    let resp = post_form(
        &emu,
        &client,
        "/ui/v2/login/password/reset",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("requestId", &rid),
            ("sessionId", &hidden(&html, "sessionId")),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let page = client
        .get(location(&emu, &resp))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let outbox: Value = Client::new()
        .get(format!(
            "{}/_emulator/outbox?to=alice@acme.localhost",
            emu.issuer()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = outbox["messages"][0]["code"].as_str().unwrap().to_owned();
    let form = |code: &str, pw: &str| {
        vec![
            ("csrf", hidden(&page, "csrf")),
            ("requestId", rid.clone()),
            ("sessionId", hidden(&page, "sessionId")),
            ("code", code.to_owned()),
            ("password", pw.to_owned()),
            ("passwordConfirm", pw.to_owned()),
        ]
    };
    // A wrong code and a weak password are refused
    let resp = client
        .post(format!("{}/ui/v2/login/password/set", emu.issuer()))
        .form(&form("WRONG1", "N3w-secret!"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = client
        .post(format!("{}/ui/v2/login/password/set", emu.issuer()))
        .form(&form(&code, "weak"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // When the code and a good password are given, the login finishes
    let resp = client
        .post(format!("{}/ui/v2/login/password/set", emu.issuer()))
        .form(&form(&code, "N3w-secret!"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    exchange(
        &emu,
        &query(&location(&emu, &resp), "code").unwrap(),
        &verifier,
    )
    .await;
    // And the new password works in a fresh browser
    let (v2, c2) = pkce();
    let cb = login_with_password(
        &emu,
        &browser(),
        authorize_url(&emu, &c2, "openid", &[]),
        "alice@acme.localhost",
        "N3w-secret!",
    )
    .await;
    exchange(&emu, &query(&cb, "code").unwrap(), &v2).await;
    emu.shutdown().await;
}

/// Signs in with the test IdP as external user `sub` (profile `profile`:
/// username, email, given name, family name) from a new authorize request;
/// follows the redirects and returns the last response, its URL and the
/// PKCE verifier.
async fn test_idp_login(
    emu: &zitadel_emulator::RunningEmulator,
    client: &Client,
    sub: &str,
    profile: [&str; 4],
) -> (reqwest::Response, url::Url, String) {
    let (verifier, challenge) = pkce();
    let (resp, _) = follow(
        emu,
        client,
        authorize_url(emu, &challenge, "openid email profile", &[]),
    )
    .await;
    let html = resp.text().await.unwrap();
    assert!(html.contains("Sign in with Test IdP"));
    // The IdP button starts an intent and leads to the test IdP's page
    let resp = post_form(
        emu,
        client,
        "/ui/v2/login/idp/start",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("requestId", &hidden(&html, "requestId")),
            ("idpId", &hidden(&html, "idpId")),
        ],
    )
    .await;
    let (resp, _) = follow(emu, client, location(emu, &resp)).await;
    let page = resp.text().await.unwrap();
    let resp = post_form(
        emu,
        client,
        "/_emulator/test-idp/authorize",
        &[
            ("state", &hidden(&page, "state")),
            ("sub", sub),
            ("username", profile[0]),
            ("email", profile[1]),
            ("givenName", profile[2]),
            ("familyName", profile[3]),
            ("action", "login"),
        ],
    )
    .await;
    // /idps/callback → the login's success page
    let (resp, url) = follow(emu, client, location(emu, &resp)).await;
    (resp, url, verifier)
}

/// The userinfo of the tokens issued for the code in `callback`, and the
/// ID token's claims.
async fn userinfo_and_claims(
    emu: &zitadel_emulator::RunningEmulator,
    callback: &url::Url,
    verifier: &str,
) -> (Value, Value) {
    let tokens = exchange(emu, &query(callback, "code").unwrap(), verifier).await;
    let info: Value = Client::new()
        .get(format!("{}/oidc/v1/userinfo", emu.issuer()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            tokens["id_token"]
                .as_str()
                .unwrap()
                .split('.')
                .nth(1)
                .unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    (info, claims)
}

fn choice_form(html: &str, fields: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = ["csrf", "requestId", "intentId", "intentToken"]
        .iter()
        .map(|k| ((*k).to_owned(), hidden(html, k)))
        .collect();
    form.extend(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    form
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_idp_user_registers_with_the_prefilled_form_then_is_recognised() {
    let emu = start().await;
    let profile = ["ext.seven", "seven@idp.example", "Sev", "En"];
    let client = browser();
    let (resp, url, verifier) = test_idp_login(&emu, &client, "ext-7", profile).await;
    // The choice page: registration prefilled from the IdP, and linking
    assert_eq!(resp.status(), StatusCode::OK, "ended at {url}");
    assert!(url.path().ends_with("/ui/v2/login/idp/success"), "{url}");
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"idp-register\""), "{html}");
    assert!(html.contains("id=\"idp-link\""), "{html}");
    assert!(html.contains("value=\"seven@idp.example\""), "{html}");
    assert!(html.contains("value=\"ext.seven\""), "{html}");
    assert!(html.contains("value=\"Sev\""), "{html}");
    // Without accepting the terms nothing is created
    let fields = [
        ("givenName", "Seven"),
        ("familyName", "En"),
        ("email", "seven@idp.example"),
        ("username", "seven.edited"),
    ];
    let resp = client
        .post(format!("{}/ui/v2/login/idp/register", emu.issuer()))
        .form(&choice_form(&html, &fields))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Without the CSRF token neither
    let mut no_csrf = choice_form(&html, &fields);
    no_csrf.retain(|(k, _)| k != "csrf");
    let resp = client
        .post(format!("{}/ui/v2/login/idp/register", emu.issuer()))
        .form(&no_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // With the (edited) values and the terms the user is created and linked
    let mut accepted = fields.to_vec();
    accepted.push(("acceptTerms", "true"));
    let resp = client
        .post(format!("{}/ui/v2/login/idp/register", emu.issuer()))
        .form(&choice_form(&html, &accepted))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let (info, claims) = userinfo_and_claims(&emu, &location(&emu, &resp), &verifier).await;
    assert_eq!(info["email"], "seven@idp.example");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["given_name"], "Seven");
    assert_eq!(info["preferred_username"], "seven.edited@acme.localhost");
    assert_eq!(claims["amr"], serde_json::json!(["fed"]));
    let sub = claims["sub"].as_str().unwrap().to_owned();
    // The finished login cannot register a second user
    let resp = client
        .post(format!("{}/ui/v2/login/idp/register", emu.issuer()))
        .form(&choice_form(&html, &accepted))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // The next external login is recognised at once
    let client = browser();
    let (resp, url, verifier) = test_idp_login(&emu, &client, "ext-7", profile).await;
    assert_eq!(resp.status(), StatusCode::FOUND, "ended at {url}");
    let (_, claims) = userinfo_and_claims(&emu, &location(&emu, &resp), &verifier).await;
    assert_eq!(claims["sub"], sub.as_str());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_idp_user_is_linked_to_an_existing_account_after_its_password() {
    let emu = start().await;
    let alice = emu.seed_info().users[2].clone();
    let profile = ["al.ext", "alice@idp.example", "Al", "Ext"];
    let client = browser();
    let (resp, _, verifier) = test_idp_login(&emu, &client, "ext-alice", profile).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    // A wrong password and an unknown login name fail alike
    for (login, password) in [
        (alice.login_name.as_str(), "wrong"),
        ("nobody@acme.localhost", alice.password.as_str()),
    ] {
        let resp = client
            .post(format!("{}/ui/v2/login/idp/link", emu.issuer()))
            .form(&choice_form(
                &html,
                &[("loginName", login), ("password", password)],
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("Login name or password is invalid")
        );
    }
    let resp = client
        .post(format!("{}/ui/v2/login/idp/link", emu.issuer()))
        .form(&choice_form(
            &html,
            &[
                ("loginName", alice.login_name.as_str()),
                ("password", alice.password.as_str()),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let (_, claims) = userinfo_and_claims(&emu, &location(&emu, &resp), &verifier).await;
    assert_eq!(claims["sub"], alice.user_id.as_str());
    assert!(
        claims["amr"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("fed")),
        "{claims}"
    );
    // The link is listed and the next external login goes straight to alice
    let token = self_token(&emu, &alice.login_name, &alice.password).await;
    let links: Value = Client::new()
        .post(format!(
            "{}/v2/users/{}/links/_search",
            emu.issuer(),
            alice.user_id
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(links["result"][0]["userId"], "ext-alice", "{links}");
    let client = browser();
    let (resp, url, verifier) = test_idp_login(&emu, &client, "ext-alice", profile).await;
    assert_eq!(resp.status(), StatusCode::FOUND, "ended at {url}");
    let (_, claims) = userinfo_and_claims(&emu, &location(&emu, &resp), &verifier).await;
    assert_eq!(claims["sub"], alice.user_id.as_str());
    emu.shutdown().await;
}

/// A session token of `login` (password checked), for self-service API calls.
async fn self_token(
    emu: &zitadel_emulator::RunningEmulator,
    login: &str,
    password: &str,
) -> String {
    let s: Value = Client::new()
        .post(format!("{}/v2/sessions", emu.issuer()))
        .bearer_auth(&emu.seed_info().login_client_token)
        .json(&serde_json::json!({"checks": {"user": {"loginName": login}, "password": {"password": password}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    s["sessionToken"].as_str().unwrap().to_owned()
}

/// Turns on codes by email as alice's second factor (with her `token`).
async fn add_otp_email(emu: &zitadel_emulator::RunningEmulator, token: &str) {
    let path = format!("/v2/users/{}/otp_email", emu.seed_info().users[2].user_id);
    let (status, _) = call_json(emu, Method::POST, &path, token, json!({})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recovery_code_replaces_the_second_factor_once_and_a_wrong_one_is_refused() {
    let emu = start().await;
    let alice = emu.seed_info().users[2].clone();
    let token = self_token(&emu, &alice.login_name, &alice.password).await;
    add_otp_email(&emu, &token).await;
    // Without recovery codes the second-factor page does not offer them.
    let client = browser();
    let (_, challenge) = pkce();
    let html = alice_at_page(&emu, &client, &challenge, "/ui/v2/login/otp/email").await;
    assert!(!html.contains("recovery-link"));
    let codes: Value = Client::new()
        .post(format!(
            "{}/v2/users/{}/recovery_codes",
            emu.issuer(),
            alice.user_id
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({"count": 2}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = codes["recoveryCodes"][0].as_str().unwrap().to_owned();

    let client = browser();
    let (verifier, challenge) = pkce();
    let html = alice_at_page(&emu, &client, &challenge, "/ui/v2/login/otp/email").await;
    assert!(html.contains("Use a recovery code"), "{html}");
    let href = html
        .split("id=\"recovery-link\" href=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    let page = client
        .get(format!("{}{href}", emu.issuer()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let form = |code: &str| {
        vec![
            ("csrf", hidden(&page, "csrf")),
            ("requestId", hidden(&page, "requestId")),
            ("sessionId", hidden(&page, "sessionId")),
            ("code", code.to_owned()),
        ]
    };
    let wrong = client
        .post(format!("{}/ui/v2/login/recovery", emu.issuer()))
        .form(&form("not-a-code"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(wrong.text().await.unwrap().contains("Code is invalid"));
    let no_csrf = client
        .post(format!("{}/ui/v2/login/recovery", emu.issuer()))
        .form(&[
            ("requestId", hidden(&page, "requestId")),
            ("code", code.clone()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    let ok = client
        .post(format!("{}/ui/v2/login/recovery", emu.issuer()))
        .form(&form(&code))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::FOUND);
    let tokens = exchange(
        &emu,
        &query(&location(&emu, &ok), "code").unwrap(),
        &verifier,
    )
    .await;
    assert!(tokens["id_token"].is_string());

    // The same code does not work a second time.
    let client = browser();
    let (_, challenge) = pkce();
    let html = alice_at_page(&emu, &client, &challenge, "/ui/v2/login/otp/email").await;
    let href = html
        .split("id=\"recovery-link\" href=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    let page = client
        .get(format!("{}{href}", emu.issuer()))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Wiederherstellungscode"));
    let again = client
        .post(format!("{}/ui/v2/login/recovery", emu.issuer()))
        .form(
            &form(&code)
                .into_iter()
                .map(|(k, v)| {
                    let v = match k {
                        "csrf" => hidden(&page, "csrf"),
                        "requestId" => hidden(&page, "requestId"),
                        "sessionId" => hidden(&page, "sessionId"),
                        _ => v,
                    };
                    (k, v)
                })
                .collect::<Vec<_>>(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "single use");
    emu.shutdown().await;
}

/// Sets the login policy of the default org (as its manager).
async fn set_login_policy(emu: &zitadel_emulator::RunningEmulator, policy: Value) {
    let manager = emu.seed_info().users[1].clone();
    let token = self_token(emu, &manager.login_name, &manager.password).await;
    let resp = Client::new()
        .post(format!("{}/management/v1/policies/login", emu.issuer()))
        .bearer_auth(&token)
        .json(&policy)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// Posts `login_name` on the login-name page of a new login.
async fn submit_login_name(
    emu: &zitadel_emulator::RunningEmulator,
    client: &Client,
    login_name: &str,
) -> reqwest::Response {
    let (html, _) = login_page(emu, client, &[]).await;
    post_form(
        emu,
        client,
        "/ui/v2/login/loginname",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("requestId", &hidden(&html, "requestId")),
            ("loginName", login_name),
        ],
    )
    .await
}

/// Posts `password` on the password page at `url`; returns status and page.
async fn submit_password(
    emu: &zitadel_emulator::RunningEmulator,
    client: &Client,
    url: url::Url,
    password: &str,
) -> (StatusCode, String, String) {
    let html = client.get(url).send().await.unwrap().text().await.unwrap();
    let resp = post_form(
        emu,
        client,
        "/ui/v2/login/password",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("requestId", &hidden(&html, "requestId")),
            ("sessionId", &hidden(&html, "sessionId")),
            ("password", password),
        ],
    )
    .await;
    let status = resp.status();
    (status, html, resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_login_names_fail_on_the_password_page_like_a_wrong_password_when_ignored() {
    let emu = start().await;
    let alice = emu.seed_info().users[2].clone();
    // By default an unknown login name is reported at once
    let resp = submit_login_name(&emu, &browser(), "nobody@acme.localhost").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("User could not be found")
    );

    set_login_policy(
        &emu,
        serde_json::json!({"allowUsernamePassword": true, "ignoreUnknownUsernames": true}),
    )
    .await;
    let client = browser();
    let resp = submit_login_name(&emu, &client, "nobody@acme.localhost").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let unknown_url = location(&emu, &resp);
    assert!(unknown_url.path().ends_with("/ui/v2/login/password"));
    let (unknown_status, page, unknown_body) =
        submit_password(&emu, &client, unknown_url, "Password1!").await;
    assert!(page.contains("nobody@acme.localhost"), "{page}");

    let client = browser();
    let resp = submit_login_name(&emu, &client, &alice.login_name).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (known_status, _, known_body) =
        submit_password(&emu, &client, location(&emu, &resp), "wrong-password").await;
    assert_eq!(unknown_status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown_status, known_status);
    let alert = |body: &str| {
        body.split("role=\"alert\">")
            .nth(1)
            .and_then(|r| r.split('<').next())
            .unwrap()
            .to_owned()
    };
    assert_eq!(alert(&unknown_body), "Password is invalid");
    assert_eq!(alert(&unknown_body), alert(&known_body));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mfa_setup_is_offered_with_a_skip_that_lasts_for_the_skip_lifetime() {
    let emu = start().await;
    let alice = emu.seed_info().users[2].clone();
    set_login_policy(
        &emu,
        serde_json::json!({"allowUsernamePassword": true, "mfaInitSkipLifetime": "3600s"}),
    )
    .await;
    let manager = emu.seed_info().users[1].clone();
    let manager_token = self_token(&emu, &manager.login_name, &manager.password).await;
    let policy: Value = Client::new()
        .get(format!("{}/management/v1/policies/login", emu.issuer()))
        .bearer_auth(&manager_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(policy["policy"]["mfaInitSkipLifetime"], "3600s", "{policy}");
    // The first login offers the set-up, with a skip button
    let client = browser();
    let (verifier, challenge) = pkce();
    let next = login_with_password(
        &emu,
        &client,
        authorize_url(&emu, &challenge, "openid", &[]),
        &alice.login_name,
        &alice.password,
    )
    .await;
    assert!(next.path().ends_with("/ui/v2/login/mfa/set"), "{next}");
    let html = client.get(next).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"mfa-skip\""), "{html}");
    let resp = submit_page(
        &emu,
        &client,
        "/ui/v2/login/mfa/set",
        &html,
        &[("action", "skip")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let tokens = exchange(
        &emu,
        &query(&location(&emu, &resp), "code").unwrap(),
        &verifier,
    )
    .await;
    assert!(tokens["id_token"].is_string());
    // The skip is remembered: the next login goes straight to the client
    let client = browser();
    let (_, challenge) = pkce();
    let next = login_with_password(
        &emu,
        &client,
        authorize_url(&emu, &challenge, "openid", &[]),
        &alice.login_name,
        &alice.password,
    )
    .await;
    assert!(query(&next, "code").is_some(), "{next}");
    // When MFA is forced there is no skip, and a forged skip is refused
    let manager = emu.seed_info().users[1].clone();
    let token = self_token(&emu, &manager.login_name, &manager.password).await;
    let resp = Client::new()
        .put(format!("{}/management/v1/policies/login", emu.issuer()))
        .bearer_auth(&token)
        .json(
            &serde_json::json!({"allowUsernamePassword": true, "forceMfa": true,
                                   "mfaInitSkipLifetime": "3600s"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let client = browser();
    let (_, challenge) = pkce();
    let next = login_with_password(
        &emu,
        &client,
        authorize_url(&emu, &challenge, "openid", &[]),
        &alice.login_name,
        &alice.password,
    )
    .await;
    assert!(next.path().ends_with("/ui/v2/login/mfa/set"), "{next}");
    let html = client.get(next).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("mfa-skip"), "{html}");
    let resp = submit_page(
        &emu,
        &client,
        "/ui/v2/login/mfa/set",
        &html,
        &[("action", "skip")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    emu.shutdown().await;
}

// ------------------------------------------------------------ one lockout
//
// The hosted login and the session API check passwords and codes through
// the same factor check, so they share the failed-attempt counters.

/// Sets the default org's lockout policy (as its manager).
async fn set_lockout_policy(emu: &zitadel_emulator::RunningEmulator, policy: Value) {
    let manager = emu.seed_info().users[1].clone();
    let token = self_token(emu, &manager.login_name, &manager.password).await;
    let path = "/management/v1/policies/lockout";
    let (status, _) = call_json(emu, Method::POST, path, &token, policy).await;
    assert_eq!(status, StatusCode::OK);
}

/// A new API session of alice with `checks` (and `challenges`).
async fn alice_session(emu: &zitadel_emulator::RunningEmulator, body: Value) -> Value {
    let lc = &emu.seed_info().login_client_token;
    let (status, session) = call_json(emu, Method::POST, "/v2/sessions", lc, body).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    session
}

/// Alice's ready TOTP secret and an API session of hers (user and
/// password checked) for further checks.
struct TotpAlice {
    secret: String,
    session_id: String,
}

async fn alice_with_totp(emu: &zitadel_emulator::RunningEmulator) -> TotpAlice {
    let alice = emu.seed_info().users[2].clone();
    let token = self_token(emu, &alice.login_name, &alice.password).await;
    let totp = format!("/v2/users/{}/totp", alice.user_id);
    let (_, reg) = call_json(emu, Method::POST, &totp, &token, json!({})).await;
    let secret = reg["secret"].as_str().unwrap().to_owned();
    let verify = json!({"code": totp_now(&secret)});
    let (status, _) = call_json(emu, Method::POST, &format!("{totp}/verify"), &token, verify).await;
    assert_eq!(status, StatusCode::OK);
    let session = alice_session(
        emu,
        json!({"checks": {"user": {"loginName": alice.login_name},
            "password": {"password": alice.password}}}),
    )
    .await;
    TotpAlice {
        secret,
        session_id: session["sessionId"].as_str().unwrap().to_owned(),
    }
}

/// A code that is not the current one.
fn wrong_code(right: &str) -> &'static str {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

/// SetSession; returns the gRPC code (0 for success) and the failed
/// attempts of the error's `CredentialsCheckError`.
async fn set_session(
    emu: &zitadel_emulator::RunningEmulator,
    session_id: &str,
    body: Value,
) -> (u64, Value) {
    let lc = &emu.seed_info().login_client_token;
    let path = format!("/v2/sessions/{session_id}");
    let (_, body) = call_json(emu, Method::PATCH, &path, lc, body).await;
    (
        body["code"].as_u64().unwrap_or(0),
        body["details"][0]["failedAttempts"].clone(),
    )
}

/// Posts a code on a second-factor page; returns the status and the page.
async fn submit_code(
    emu: &zitadel_emulator::RunningEmulator,
    client: &Client,
    path: &str,
    page: &str,
    code: &str,
) -> (StatusCode, String) {
    let resp = submit_page(emu, client, path, page, &[("code", code)]).await;
    let status = resp.status();
    (status, resp.text().await.unwrap())
}

const TOTP_PAGE: &str = "/ui/v2/login/otp/time-based";
const EMAIL_CODE_PAGE: &str = "/ui/v2/login/otp/email";

#[tokio::test(flavor = "multi_thread")]
async fn wrong_totp_codes_on_the_login_page_and_in_the_session_api_lock_at_max_otp_attempts() {
    let emu = start().await;
    set_lockout_policy(&emu, json!({"maxOtpAttempts": "3"})).await;
    let alice = alice_with_totp(&emu).await;
    let wrong = wrong_code(&totp_now(&alice.secret));
    let client = browser();
    let page = alice_at_page(&emu, &client, &pkce().1, TOTP_PAGE).await;
    let (status, html) = submit_code(&emu, &client, TOTP_PAGE, &page, wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Code is invalid"), "{html}");

    let totp = json!({"checks": {"totp": {"code": wrong}}});
    let (code, failed) = set_session(&emu, &alice.session_id, totp.clone()).await;
    assert_eq!((code, failed), (3, json!(2)), "the page's failure counted");
    let (code, failed) = set_session(&emu, &alice.session_id, totp).await;
    assert_eq!((code, failed), (9, json!(3)), "locked at the limit");

    // The login page now refuses even the right code.
    let right = totp_now(&alice.secret);
    let (status, html) = submit_code(&emu, &client, TOTP_PAGE, &page, &right).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("User is locked"), "{html}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_right_totp_code_on_the_login_page_resets_the_counter_the_session_api_raised() {
    let emu = start().await;
    set_lockout_policy(&emu, json!({"maxOtpAttempts": "2"})).await;
    let alice = alice_with_totp(&emu).await;
    let wrong = json!({"checks": {"totp": {"code": wrong_code(&totp_now(&alice.secret))}}});
    let (code, failed) = set_session(&emu, &alice.session_id, wrong.clone()).await;
    assert_eq!((code, failed), (3, json!(1)));

    let client = browser();
    let page = alice_at_page(&emu, &client, &pkce().1, TOTP_PAGE).await;
    let right = totp_now(&alice.secret);
    let (status, _) = submit_code(&emu, &client, TOTP_PAGE, &page, &right).await;
    assert_eq!(status, StatusCode::FOUND, "signed in with the right code");

    // Without the reset this second failure would reach the limit of 2.
    let (code, failed) = set_session(&emu, &alice.session_id, wrong).await;
    assert_eq!((code, failed), (3, json!(1)), "counter reset");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_right_email_code_in_the_session_api_resets_the_counter_the_login_page_raised() {
    let emu = start().await;
    set_lockout_policy(&emu, json!({"maxOtpAttempts": "2"})).await;
    let alice = emu.seed_info().users[2].clone();
    let token = self_token(&emu, &alice.login_name, &alice.password).await;
    add_otp_email(&emu, &token).await;
    let client = browser();
    let page = alice_at_page(&emu, &client, &pkce().1, EMAIL_CODE_PAGE).await;
    let (status, _) = submit_code(&emu, &client, EMAIL_CODE_PAGE, &page, "00000000").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A session of the API: a returned email code, checked right.
    let challenge = json!({"challenges": {"otpEmail": {"returnCode": {}}}});
    let mut body = challenge.clone();
    body["checks"] = json!({"user": {"loginName": alice.login_name}});
    let session = alice_session(&emu, body).await;
    let sid = session["sessionId"].as_str().unwrap();
    let code = &session["challenges"]["otpEmail"];
    let right = json!({"checks": {"otpEmail": {"code": code}}});
    assert_eq!(set_session(&emu, sid, right).await.0, 0);

    // The next wrong code (of a new challenge) counts from zero again.
    assert_eq!(set_session(&emu, sid, challenge).await.0, 0);
    let wrong = json!({"checks": {"otpEmail": {"code": "1"}}});
    let (code, failed) = set_session(&emu, sid, wrong).await;
    assert_eq!((code, failed), (3, json!(1)), "counter reset");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_passwords_on_the_login_page_and_in_the_session_api_lock_at_max_password_attempts() {
    let emu = start().await;
    set_lockout_policy(&emu, json!({"maxPasswordAttempts": "3"})).await;
    let alice = emu.seed_info().users[2].clone();
    let user = json!({"checks": {"user": {"loginName": alice.login_name}}});
    let session = alice_session(&emu, user).await;
    let sid = session["sessionId"].as_str().unwrap();
    let client = browser();
    let resp = submit_login_name(&emu, &client, &alice.login_name).await;
    let password_page = location(&emu, &resp);
    let (status, _, html) = submit_password(&emu, &client, password_page.clone(), "nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Password is invalid"), "{html}");

    let wrong = json!({"checks": {"password": {"password": "nope"}}});
    let (code, failed) = set_session(&emu, sid, wrong).await;
    assert_eq!((code, failed), (3, json!(2)), "the page's failure counted");

    let (status, _, html) = submit_password(&emu, &client, password_page, "nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("User is locked"),
        "locked at the limit: {html}"
    );
    let right = json!({"checks": {"password": {"password": alice.password}}});
    let (code, failed) = set_session(&emu, sid, right).await;
    assert_eq!((code, failed), (9, json!(3)));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_user_spends_no_recovery_code_and_an_unlock_resets_the_code_counter() {
    let emu = start().await;
    set_lockout_policy(&emu, json!({"maxOtpAttempts": "1"})).await;
    let totp_alice = alice_with_totp(&emu).await;
    let alice = emu.seed_info().users[2].clone();
    let token = self_token(&emu, &alice.login_name, &alice.password).await;
    let path = format!("/v2/users/{}/recovery_codes", alice.user_id);
    let (_, codes) = call_json(&emu, Method::POST, &path, &token, json!({"count": 1})).await;
    let recovery = json!({"checks": {"recoveryCode": {"code": codes["recoveryCodes"][0]}}});
    let sid = &totp_alice.session_id;
    let wrong = wrong_code(&totp_now(&totp_alice.secret));
    let wrong = json!({"checks": {"totp": {"code": wrong}}});
    assert_eq!(set_session(&emu, sid, wrong.clone()).await.0, 9, "locked");
    let (code, _) = set_session(&emu, sid, recovery.clone()).await;
    assert_eq!(code, 5, "NOT_FOUND for a locked user, as in ZITADEL");

    let admin = emu.seed_info().users[0].clone();
    let admin_token = self_token(&emu, &admin.login_name, &admin.password).await;
    let unlock = format!("/v2/users/{}/unlock", alice.user_id);
    let (status, _) = call_json(&emu, Method::POST, &unlock, &admin_token, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(set_session(&emu, sid, recovery).await.0, 0, "code kept");
    let (code, failed) = set_session(&emu, sid, wrong).await;
    assert_eq!((code, failed), (9, json!(1)), "counts from zero");
    emu.shutdown().await;
}
