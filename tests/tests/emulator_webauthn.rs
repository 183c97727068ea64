//! The emulator's WebAuthn pages in headless Chromium with Chrome's virtual
//! authenticator (WebDriver's WebAuthn extension): a security key set up on
//! the MFA page and then asked for after the password, and a passkey set up
//! in the login and then used instead of the password.
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

#[derive(Debug, Default, Deserialize)]
struct Snapshot {
    url: String,
    text: String,
}

async fn snapshot(c: &Client) -> Option<Snapshot> {
    let value = c
        .execute(
            "const f = document.getElementById('webauthn-failed'); \
             return {url: location.href, text: (document.body ? document.body.innerText : '') \
               + (f && !f.hidden ? ' [' + f.getAttribute('data-error') + ']' : '')};",
            vec![],
        )
        .await
        .ok()?;
    serde_json::from_value(value).ok()
}

/// Waits until the browser shows the page at `path` with an element matching `css`.
async fn wait_for_page(c: &Client, path: &str, css: &str) {
    let deadline = tokio::time::Instant::now() + integration_tests::timeout();
    let mut last = Snapshot::default();
    loop {
        if let Some(s) = snapshot(c).await {
            let here = Url::parse(&s.url)
                .map(|u| u.path().to_owned())
                .unwrap_or_default();
            if here == path && c.find(Locator::Css(css)).await.is_ok() {
                return;
            }
            last = s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for the page {path} with {css}; the browser shows {}: {}",
            last.url,
            last.text.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        tokio::time::sleep(POLL).await;
    }
}

async fn fill(c: &Client, name: &str, value: &str) {
    let css = format!(r#"input[name="{name}"]:not([type="hidden"])"#);
    let input = c.find(Locator::Css(&css)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

/// Login name page → password page (the password is typed, not yet sent).
async fn enter_login_name(c: &Client, login_name: &str) {
    wait_for_page(c, "/ui/v2/login/loginname", r#"input[name="loginName"]"#).await;
    fill(c, "loginName", login_name).await;
    click(
        c,
        r#"form:has(input[name="loginName"]) button[type="submit"]"#,
    )
    .await;
    wait_for_page(c, "/ui/v2/login/password", r#"input[name="password"]"#).await;
}

async fn enter_password(c: &Client, password: &str) {
    fill(c, "password", password).await;
    click(
        c,
        r#"form:has(input[name="password"]) button[type="submit"]"#,
    )
    .await;
}

/// Clicks the WebAuthn button of the page at `path`; the page's script
/// talks to the virtual authenticator and posts the result.
async fn use_authenticator(c: &Client, path: &str) {
    wait_for_page(c, path, "#webauthn-start").await;
    click(c, "#webauthn-start").await;
}

fn authorize_url(emu: &RunningEmulator, redirect_uri: &str, pkce: &Pkce) -> (String, String) {
    let state = random_token(12);
    let mut url = Url::parse(&format!("{}/oauth/v2/authorize", emu.issuer())).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", &emu.seed_info().client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("state", &state)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", pkce.method())
        .append_pair("prompt", "login");
    (url.to_string(), state)
}

/// Waits for the redirect to the listener, redeems the code and returns the
/// ID token's `amr`.
async fn callback_amr(
    c: &Client,
    emu: &RunningEmulator,
    listener: &mut CallbackListener,
    state: &str,
    pkce: &Pkce,
) -> Value {
    let request = match listener
        .next_request_to("/callback", integration_tests::timeout())
        .await
    {
        Ok(r) => r,
        Err(e) => {
            let page = snapshot(c).await.unwrap_or_default();
            panic!("{e}; the browser shows {}: {}", page.url, page.text);
        }
    };
    assert_eq!(request.query_param("state").as_deref(), Some(state));
    let code = request
        .query_param("code")
        .unwrap_or_else(|| panic!("no code in {}", request.target));
    let tokens: Value = http_client()
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
        .unwrap()
        .json()
        .await
        .unwrap();
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
    claims["amr"].clone()
}

/// An emulator whose login policy forces MFA (passkeys allowed), and a
/// browser with a virtual authenticator.
async fn start() -> (RunningEmulator, Browser) {
    let emu = Emulator::start(EmulatorConfig::ephemeral()).await.unwrap();
    let manager = emu
        .seed_info()
        .users
        .iter()
        .find(|u| u.login_name.starts_with("manager@"))
        .cloned()
        .unwrap();
    let session: Value = http_client()
        .post(format!("{}/v2/sessions", emu.issuer()))
        .bearer_auth(&emu.seed_info().login_client_token)
        .json(
            &json!({"checks": {"user": {"loginName": manager.login_name},
                                 "password": {"password": manager.password}}}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resp = http_client()
        .post(format!("{}/management/v1/policies/login", emu.issuer()))
        .bearer_auth(session["sessionToken"].as_str().unwrap())
        .json(&json!({"allowUsernamePassword": true, "forceMfa": true,
                      "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED"}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{resp:?}");
    let browser = Browser::start().await.unwrap();
    browser.add_virtual_authenticator().await.unwrap();
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
async fn a_security_key_set_up_on_the_mfa_page_is_asked_for_after_the_password() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let user = alice(&emu);
    let mut listener = CallbackListener::start().await.unwrap();

    // Set up: password, then the MFA page's security key choice
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce);
    c.goto(&url).await.unwrap();
    enter_login_name(c, &user.login_name).await;
    enter_password(c, &user.password).await;
    wait_for_page(c, "/ui/v2/login/mfa/set", "#mfa-u2f").await;
    click(c, "#mfa-u2f").await;
    use_authenticator(c, "/ui/v2/login/u2f/set").await;
    let amr = callback_amr(c, &emu, &mut listener, &state, &pkce).await;
    assert_eq!(amr, json!(["pwd", "user", "mfa"]));

    // Next login: password, then the security key
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce);
    c.goto(&url).await.unwrap();
    enter_login_name(c, &user.login_name).await;
    enter_password(c, &user.password).await;
    use_authenticator(c, "/ui/v2/login/u2f").await;
    let amr = callback_amr(c, &emu, &mut listener, &state, &pkce).await;
    assert_eq!(amr, json!(["pwd", "user", "mfa"]));
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_set_up_in_the_login_signs_in_without_a_password() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let user = alice(&emu);
    let mut listener = CallbackListener::start().await.unwrap();

    // Set up: password, then the MFA page's passkey choice
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce);
    c.goto(&url).await.unwrap();
    enter_login_name(c, &user.login_name).await;
    enter_password(c, &user.password).await;
    wait_for_page(c, "/ui/v2/login/mfa/set", "#mfa-passkey").await;
    click(c, "#mfa-passkey").await;
    use_authenticator(c, "/ui/v2/login/passkey/set").await;
    callback_amr(c, &emu, &mut listener, &state, &pkce).await;

    // Next login: the passkey instead of the password
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce);
    c.goto(&url).await.unwrap();
    enter_login_name(c, &user.login_name).await;
    click(c, "#passkey-login").await;
    use_authenticator(c, "/ui/v2/login/passkey").await;
    let amr = callback_amr(c, &emu, &mut listener, &state, &pkce).await;
    assert_eq!(amr, json!(["user", "mfa"]));
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_registered_from_a_mailed_link_signs_in_without_a_password() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let user = alice(&emu);
    let mut listener = CallbackListener::start().await.unwrap();

    // The registration link is mailed (default URL template)
    let resp = http_client()
        .post(format!(
            "{}/v2/users/{}/passkeys/registration_link",
            emu.issuer(),
            user.user_id
        ))
        .bearer_auth(&emu.seed_info().login_client_token)
        .json(&json!({"sendLink": {}}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{resp:?}");
    let mail = emu
        .outbox()
        .into_iter()
        .find(|m| m.subject == "Register a passkey")
        .unwrap();
    let link = mail
        .text
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .unwrap()
        .to_owned();

    // Opening it outside any login registers a passkey
    c.goto(&link).await.unwrap();
    use_authenticator(c, "/ui/v2/login/passkey/set").await;
    wait_for_page(c, "/ui/v2/login/passkey/set", "#result").await;
    let text = snapshot(c).await.unwrap().text;
    assert!(text.contains("Passkey registered"), "{text}");

    // The link is spent
    c.goto(&link).await.unwrap();
    wait_for_page(c, "/ui/v2/login/passkey/set", "p.error").await;
    assert!(c.find(Locator::Css("#webauthn-start")).await.is_err());

    // Later: the passkey instead of the password
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce);
    c.goto(&url).await.unwrap();
    enter_login_name(c, &user.login_name).await;
    click(c, "#passkey-login").await;
    use_authenticator(c, "/ui/v2/login/passkey").await;
    let amr = callback_amr(c, &emu, &mut listener, &state, &pkce).await;
    assert_eq!(amr, json!(["user", "mfa"]));
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_signs_in_without_typing_a_login_name() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let user = alice(&emu);
    let mut listener = CallbackListener::start().await.unwrap();

    // Set up: password, then the MFA page's passkey choice
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce);
    c.goto(&url).await.unwrap();
    enter_login_name(c, &user.login_name).await;
    enter_password(c, &user.password).await;
    wait_for_page(c, "/ui/v2/login/mfa/set", "#mfa-passkey").await;
    click(c, "#mfa-passkey").await;
    use_authenticator(c, "/ui/v2/login/passkey/set").await;
    callback_amr(c, &emu, &mut listener, &state, &pkce).await;

    // Next login: "Sign in with a passkey" on the login-name page, no name typed
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce);
    c.goto(&url).await.unwrap();
    wait_for_page(c, "/ui/v2/login/loginname", "#passkey-discover").await;
    click(c, "#passkey-discover").await;
    use_authenticator(c, "/ui/v2/login/passkey/discover").await;
    let amr = callback_amr(c, &emu, &mut listener, &state, &pkce).await;
    assert_eq!(amr, json!(["user", "mfa"]));
    browser.close().await;
    emu.shutdown().await;
}
