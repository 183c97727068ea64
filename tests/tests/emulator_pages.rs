//! The emulator's hosted pages driven in headless Chromium (issue 3 §6): the
//! login (in English and German), registration with the email code, password
//! reset, device-code entry and approval, and the logout page.
//!
//! Each test starts its own emulator and browser; every wait is bounded by
//! [`integration_tests::timeout`]; everything happens on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use base64::Engine as _;
use fantoccini::{Client, Locator};
use integration_tests::{Browser, CallbackListener, Pkce, http_client, random_token};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;
use zitadel_emulator::{Emulator, EmulatorConfig, RunningEmulator};

const POLL: Duration = Duration::from_millis(100);

/// What the browser shows, read in one round trip.
#[derive(Debug, Default, Deserialize)]
struct Snapshot {
    url: String,
    lang: String,
    text: String,
}

impl Snapshot {
    fn path(&self) -> String {
        Url::parse(&self.url)
            .map(|u| u.path().to_owned())
            .unwrap_or_default()
    }
}

const SNAPSHOT_JS: &str = r#"
return {
  url: location.href,
  lang: document.documentElement ? (document.documentElement.lang || '') : '',
  text: document.body ? document.body.innerText : '',
};
"#;

async fn snapshot(c: &Client) -> Option<Snapshot> {
    let value = c.execute(SNAPSHOT_JS, vec![]).await.ok()?;
    serde_json::from_value(value).ok()
}

/// Waits (bounded) until the page satisfies `ready`, and returns it.
async fn wait_for(c: &Client, what: &str, ready: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let deadline = tokio::time::Instant::now() + integration_tests::timeout();
    let mut last = Snapshot::default();
    loop {
        if let Some(s) = snapshot(c).await {
            if ready(&s) {
                return s;
            }
            last = s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}; the browser shows {} (lang {:?}): {}",
            last.url,
            last.lang,
            last.text.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the browser shows the page at `path` with an element matching `css`.
async fn wait_for_page(c: &Client, path: &str, css: &str) -> Snapshot {
    let deadline = tokio::time::Instant::now() + integration_tests::timeout();
    let mut last = Snapshot::default();
    loop {
        if let Some(s) = snapshot(c).await {
            if s.path() == path && c.find(Locator::Css(css)).await.is_ok() {
                return s;
            }
            last = s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for the page {path} with {css}; the browser shows {} (lang {:?}): {}",
            last.url,
            last.lang,
            last.text.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the page's text contains `text`.
async fn wait_for_text(c: &Client, text: &str) -> Snapshot {
    wait_for(c, &format!("the text {text:?}"), |s| s.text.contains(text)).await
}

/// Types `value` into the (visible) input named `name`.
async fn fill(c: &Client, name: &str, value: &str) {
    let css = format!(r#"input[name="{name}"]:not([type="hidden"])"#);
    let input = c
        .find(Locator::Css(&css))
        .await
        .unwrap_or_else(|e| panic!("no input {css}: {e}"));
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

/// Clicks the element matching `css`.
async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

/// Clicks the submit button of the form that has a field matching `field`
/// (a CSS selector for an element inside the form).
async fn submit_form_with(c: &Client, field: &str) {
    click(c, &format!(r#"form:has({field}) button[type="submit"]"#)).await;
}

/// An authorization URL of the seeded native app with PKCE, plus its state.
fn authorize_url(
    emu: &RunningEmulator,
    redirect_uri: &str,
    pkce: &Pkce,
    scope: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    let state = random_token(12);
    let mut url = Url::parse(&format!("{}/oauth/v2/authorize", emu.issuer())).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", &emu.seed_info().client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", scope)
        .append_pair("state", &state)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", pkce.method())
        .extend_pairs(extra);
    (url.to_string(), state)
}

/// Waits for the redirect to the listener's `/callback`, checks `state` and
/// `iss`, and redeems the code; returns the token response.
async fn callback_tokens(
    emu: &RunningEmulator,
    listener: &mut CallbackListener,
    state: &str,
    pkce: &Pkce,
) -> Value {
    let request = listener
        .next_request_to("/callback", integration_tests::timeout())
        .await
        .unwrap();
    assert_eq!(request.query_param("state").as_deref(), Some(state));
    assert_eq!(
        request.query_param("iss").as_deref(),
        Some(emu.issuer()),
        "{}",
        request.target
    );
    let code = request
        .query_param("code")
        .unwrap_or_else(|| panic!("no code in {}", request.target));
    let resp = http_client()
        .post(format!("{}/oauth/v2/token", emu.issuer()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &listener.redirect_uri()),
            ("client_id", &emu.seed_info().client_id),
            ("code_verifier", &pkce.verifier),
        ])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "token exchange: {resp:?}");
    resp.json().await.unwrap()
}

async fn userinfo(emu: &RunningEmulator, access_token: &str) -> reqwest::Response {
    http_client()
        .get(format!("{}/oidc/v1/userinfo", emu.issuer()))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
}

/// Login name page → password page, in the browser as it is.
async fn enter_login_and_password(c: &Client, login_name: &str, password: &str) {
    wait_for_page(c, "/ui/v2/login/loginname", r#"input[name="loginName"]"#).await;
    fill(c, "loginName", login_name).await;
    submit_form_with(c, r#"input[name="loginName"]"#).await;
    wait_for_page(c, "/ui/v2/login/password", r#"input[name="password"]"#).await;
    fill(c, "password", password).await;
    submit_form_with(c, r#"input[name="password"]"#).await;
}

async fn start() -> (RunningEmulator, Browser) {
    let emu = Emulator::start(EmulatorConfig::ephemeral()).await.unwrap();
    let browser = Browser::start().await.unwrap();
    (emu, browser)
}

fn alice(emu: &RunningEmulator) -> zitadel_emulator::SeedUserInfo {
    emu.seed_info()
        .users
        .iter()
        .find(|u| u.login_name.starts_with("alice@"))
        .cloned()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_name_then_password_redirects_with_code_and_state() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid email", &[]);
    let user = alice(&emu);

    c.goto(&url).await.unwrap();
    let page = wait_for_page(c, "/ui/v2/login/loginname", r#"input[name="loginName"]"#).await;
    assert_eq!(page.lang, "en");
    assert!(page.text.contains("Welcome back!"), "{}", page.text);
    assert!(page.text.contains("ACME"), "{}", page.text);
    enter_login_and_password(c, &user.login_name, &user.password).await;

    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    let info: Value = userinfo(&emu, tokens["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], user.user_id);
    assert_eq!(info["email"], user.login_name);
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_pages_are_german_with_ui_locales_de() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let pkce = Pkce::new();
    let (url, state) = authorize_url(
        &emu,
        &listener.redirect_uri(),
        &pkce,
        "openid",
        &[("ui_locales", "de")],
    );
    let user = alice(&emu);

    c.goto(&url).await.unwrap();
    let page = wait_for_page(c, "/ui/v2/login/loginname", r#"input[name="loginName"]"#).await;
    assert_eq!(page.lang, "de");
    assert!(page.text.contains("Willkommen zurück!"), "{}", page.text);
    assert!(page.text.contains("Loginname"), "{}", page.text);
    assert!(!page.text.contains("Welcome back!"), "{}", page.text);
    fill(c, "loginName", &user.login_name).await;
    submit_form_with(c, r#"input[name="loginName"]"#).await;
    let page = wait_for_page(c, "/ui/v2/login/password", r#"input[name="password"]"#).await;
    assert_eq!(page.lang, "de");
    assert!(
        page.text.contains("Gib dein Passwort ein."),
        "{}",
        page.text
    );
    assert!(page.text.contains("Passwort zurücksetzen"), "{}", page.text);
    fill(c, "password", &user.password).await;
    submit_form_with(c, r#"input[name="password"]"#).await;

    callback_tokens(&emu, &mut listener, &state, &pkce).await;
    browser.close().await;
    emu.shutdown().await;
}

/// The code of the newest message to `to` in the outbox, once one arrives
/// with an id not in `seen` (bounded wait).
async fn outbox_code(emu: &RunningEmulator, to: &str, seen: &[String]) -> String {
    let deadline = tokio::time::Instant::now() + integration_tests::timeout();
    loop {
        let message = emu
            .outbox()
            .into_iter()
            .rev()
            .find(|m| m.to == to && !seen.contains(&m.id));
        if let Some(message) = message {
            return message
                .code
                .unwrap_or_else(|| panic!("a message without a code: {}", message.text));
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no message to {to} in the outbox: {:?}",
            emu.outbox()
        );
        tokio::time::sleep(POLL).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_with_the_email_code_from_the_outbox() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let pkce = Pkce::new();
    let (url, state) = authorize_url(
        &emu,
        &listener.redirect_uri(),
        &pkce,
        "openid email profile",
        &[("prompt", "create")],
    );
    let email = "zoe@example.com";

    c.goto(&url).await.unwrap();
    let page = wait_for_page(c, "/ui/v2/login/register", r#"input[name="givenName"]"#).await;
    assert!(
        page.text.contains("The password must have:"),
        "{}",
        page.text
    );
    fill(c, "givenName", "Zoe").await;
    fill(c, "familyName", "Zed").await;
    fill(c, "email", email).await;
    fill(c, "password", "Sup3r-secret").await;
    fill(c, "passwordConfirm", "Sup3r-secret").await;
    click(c, r#"input[name="acceptTerms"]"#).await;
    submit_form_with(c, r#"input[name="givenName"]"#).await;

    let page = wait_for_page(c, "/ui/v2/login/verify", r#"input[name="code"]"#).await;
    assert!(page.text.contains(email), "{}", page.text);
    let code = outbox_code(&emu, email, &[]).await;
    fill(c, "code", &code).await;
    submit_form_with(c, r#"input[name="code"]"#).await;

    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    let info: Value = userinfo(&emu, tokens["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["email"], email);
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["given_name"], "Zoe");
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_by_email_code() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let user = alice(&emu);
    let new_password = "N3w-secret!";

    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &[]);
    c.goto(&url).await.unwrap();
    wait_for_page(c, "/ui/v2/login/loginname", r#"input[name="loginName"]"#).await;
    fill(c, "loginName", &user.login_name).await;
    submit_form_with(c, r#"input[name="loginName"]"#).await;
    let page = wait_for_page(c, "/ui/v2/login/password", r#"input[name="password"]"#).await;
    assert!(page.text.contains("Reset password"), "{}", page.text);
    let seen: Vec<String> = emu.outbox().into_iter().map(|m| m.id).collect();
    click(
        c,
        r#"form[action$="/password/reset"] button[type="submit"]"#,
    )
    .await;
    wait_for_page(c, "/ui/v2/login/password/set", r#"input[name="code"]"#).await;
    let code = outbox_code(&emu, &user.login_name, &seen).await;
    fill(c, "code", &code).await;
    fill(c, "password", new_password).await;
    fill(c, "passwordConfirm", new_password).await;
    submit_form_with(c, r#"input[name="code"]"#).await;
    callback_tokens(&emu, &mut listener, &state, &pkce).await;

    // The new password works in a new browser session, the old one does not.
    // (WebDriver deletes the cookies of the current page's origin: the emulator's.)
    c.goto(&format!(
        "{}/.well-known/openid-configuration",
        emu.issuer()
    ))
    .await
    .unwrap();
    browser.forget_sessions().await.unwrap();
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &[]);
    c.goto(&url).await.unwrap();
    wait_for_page(c, "/ui/v2/login/loginname", r#"input[name="loginName"]"#).await;
    fill(c, "loginName", &user.login_name).await;
    submit_form_with(c, r#"input[name="loginName"]"#).await;
    wait_for_page(c, "/ui/v2/login/password", r#"input[name="password"]"#).await;
    fill(c, "password", &user.password).await;
    submit_form_with(c, r#"input[name="password"]"#).await;
    wait_for_text(c, "Password is invalid").await;
    fill(c, "password", new_password).await;
    submit_form_with(c, r#"input[name="password"]"#).await;
    callback_tokens(&emu, &mut listener, &state, &pkce).await;
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_is_entered_and_approved_on_the_device_page() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let user = alice(&emu);
    let http = http_client();
    let client_id = emu.seed_info().client_id.clone();
    let auth: Value = http
        .post(format!("{}/oauth/v2/device_authorization", emu.issuer()))
        .form(&[("client_id", client_id.as_str()), ("scope", "openid")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_code = auth["user_code"].as_str().unwrap();
    let device_code = auth["device_code"].as_str().unwrap();
    let interval = Duration::from_secs(auth["interval"].as_u64().unwrap_or(5));
    let verification_uri = auth["verification_uri"].as_str().unwrap();
    assert_eq!(verification_uri, format!("{}/device", emu.issuer()));

    // The user opens the plain verification URI and types the code.
    c.goto(verification_uri).await.unwrap();
    let page = wait_for_page(c, "/ui/v2/login/device", r#"input[name="userCode"]"#).await;
    assert!(
        page.text.contains("Enter the code shown on your device."),
        "{}",
        page.text
    );
    fill(c, "userCode", user_code).await;
    submit_form_with(c, r#"input[name="userCode"]"#).await;
    enter_login_and_password(c, &user.login_name, &user.password).await;
    let page = wait_for_page(
        c,
        "/ui/v2/login/device/consent",
        r#"input[name="action"][value="allow"]"#,
    )
    .await;
    assert!(
        page.text.contains("wants to access your account"),
        "{}",
        page.text
    );
    submit_form_with(c, r#"input[name="action"][value="allow"]"#).await;
    wait_for_text(c, "The device has been signed in").await;

    // The device's poll now gets tokens (bounded; pending and slow_down wait
    // for the interval).
    let deadline = tokio::time::Instant::now() + integration_tests::timeout() + interval * 2;
    let tokens = loop {
        let resp = http
            .post(format!("{}/oauth/v2/token", emu.issuer()))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", device_code),
                ("client_id", client_id.as_str()),
            ])
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        if status.is_success() {
            break body;
        }
        let error = body["error"].as_str().unwrap_or_default();
        assert!(
            matches!(error, "authorization_pending" | "slow_down"),
            "device poll: {status} {body}"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "no tokens after approval: {body}"
        );
        tokio::time::sleep(interval + Duration::from_millis(200)).await;
    };
    let info: Value = userinfo(&emu, tokens["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], user.user_id);
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_page_ends_the_session_and_redirects_to_the_registered_uri() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let user = alice(&emu);
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &[]);
    c.goto(&url).await.unwrap();
    enter_login_and_password(c, &user.login_name, &user.password).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    let access_token = tokens["access_token"].as_str().unwrap();
    assert!(userinfo(&emu, access_token).await.status().is_success());

    // RP-initiated logout without id_token_hint: the user chooses on the page.
    let logout_state = random_token(12);
    let mut url = Url::parse(&format!("{}/oidc/v1/end_session", emu.issuer())).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", &emu.seed_info().client_id)
        .append_pair(
            "post_logout_redirect_uri",
            &format!("http://127.0.0.1:{}/logout", listener.port()),
        )
        .append_pair("state", &logout_state);
    c.goto(url.as_str()).await.unwrap();
    let page = wait_for_page(
        c,
        "/ui/v2/login/logout",
        r#"input[name="sessionId"][value=""]"#,
    )
    .await;
    assert!(
        page.text.contains("Choose the session to end."),
        "{}",
        page.text
    );
    assert!(page.text.contains(&user.login_name), "{}", page.text);
    submit_form_with(c, r#"input[name="sessionId"][value=""]"#).await;

    let request = listener
        .next_request_to("/logout", integration_tests::timeout())
        .await
        .unwrap();
    assert_eq!(request.query_param("state"), Some(logout_state));
    assert_eq!(
        userinfo(&emu, access_token).await.status(),
        reqwest::StatusCode::UNAUTHORIZED
    );
    browser.close().await;
    emu.shutdown().await;
}

/// Login-name page → "Sign in with Test IdP" → the test IdP's page, where
/// the external user is typed in and signed in.
async fn sign_in_at_the_test_idp(c: &Client, sub: &str, profile: [&str; 4]) {
    wait_for_page(c, "/ui/v2/login/loginname", r#"input[name="idpId"]"#).await;
    submit_form_with(c, r#"input[name="idpId"]"#).await;
    wait_for_page(c, "/_emulator/test-idp/authorize", r#"input[name="sub"]"#).await;
    for (name, value) in [
        ("sub", sub),
        ("username", profile[0]),
        ("email", profile[1]),
        ("givenName", profile[2]),
        ("familyName", profile[3]),
    ] {
        fill(c, name, value).await;
    }
    click(c, r#"button[value="login"]"#).await;
}

/// The value of the input named `name` on the current page.
async fn input_value(c: &Client, name: &str) -> String {
    c.find(Locator::Css(&format!(r#"input[name="{name}"]"#)))
        .await
        .unwrap_or_else(|e| panic!("no input {name}: {e}"))
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_idp_user_registers_with_a_prefilled_form() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let pkce = Pkce::new();
    let (url, state) = authorize_url(
        &emu,
        &listener.redirect_uri(),
        &pkce,
        "openid email profile",
        &[],
    );
    c.goto(&url).await.unwrap();
    sign_in_at_the_test_idp(c, "ext-9", ["nine", "nine@idp.example", "Ni", "Ne"]).await;
    wait_for_page(c, "/ui/v2/login/idp/success", "#idp-register").await;
    assert_eq!(input_value(c, "givenName").await, "Ni");
    assert_eq!(input_value(c, "email").await, "nine@idp.example");
    assert_eq!(input_value(c, "username").await, "nine");
    fill(c, "givenName", "Nina").await;
    click(c, r#"#idp-register input[name="acceptTerms"]"#).await;
    click(c, "#idp-register-submit").await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    let info: Value = userinfo(&emu, tokens["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["given_name"], "Nina");
    assert_eq!(info["email"], "nine@idp.example");
    assert_eq!(info["email_verified"], true);
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_idp_user_links_an_existing_account_with_its_password() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let user = alice(&emu);
    let mut listener = CallbackListener::start().await.unwrap();
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &[]);
    c.goto(&url).await.unwrap();
    sign_in_at_the_test_idp(c, "ext-al", ["al", "al@idp.example", "Al", "Ice"]).await;
    wait_for_page(c, "/ui/v2/login/idp/success", "#idp-link").await;
    fill(c, "loginName", &user.login_name).await;
    fill(c, "password", &user.password).await;
    click(c, "#idp-link-submit").await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    let payload = tokens["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], user.user_id.as_str());
    assert!(
        claims["amr"].as_array().unwrap().contains(&json!("fed")),
        "{claims}"
    );

    // The next IdP login of that external user goes straight to alice
    let pkce = Pkce::new();
    let (url, state) = authorize_url(
        &emu,
        &listener.redirect_uri(),
        &pkce,
        "openid",
        &[("prompt", "login")],
    );
    c.goto(&url).await.unwrap();
    sign_in_at_the_test_idp(c, "ext-al", ["al", "al@idp.example", "Al", "Ice"]).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    let payload = tokens["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], user.user_id.as_str());
    browser.close().await;
    emu.shutdown().await;
}
