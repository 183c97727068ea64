//! Helpers shared by the tests that drive the emulator's hosted pages in
//! headless Chromium: bounded waits on what the page shows, form filling,
//! authorization URLs, the redirect with the code and its token exchange.
//!
//! Every wait is bounded by [`integration_tests::timeout`].
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use fantoccini::{Client, Locator};
use integration_tests::{Browser, CallbackListener, Pkce, http_client, random_token};
use serde::Deserialize;
use serde_json::Value;
use url::Url;
use zitadel_emulator::{Emulator, EmulatorConfig, RunningEmulator};

pub const POLL: Duration = Duration::from_millis(100);

/// What the browser shows, read in one round trip.
#[derive(Debug, Default, Deserialize)]
pub struct Snapshot {
    pub url: String,
    pub lang: String,
    pub text: String,
}

impl Snapshot {
    pub fn path(&self) -> String {
        Url::parse(&self.url)
            .map(|u| u.path().to_owned())
            .unwrap_or_default()
    }
}

pub const SNAPSHOT_JS: &str = r#"
return {
  url: location.href,
  lang: document.documentElement ? (document.documentElement.lang || '') : '',
  text: document.body ? document.body.innerText : '',
};
"#;

pub async fn snapshot(c: &Client) -> Option<Snapshot> {
    let value = c.execute(SNAPSHOT_JS, vec![]).await.ok()?;
    serde_json::from_value(value).ok()
}

/// Waits (bounded) until the page satisfies `ready`, and returns it.
pub async fn wait_for(c: &Client, what: &str, ready: impl Fn(&Snapshot) -> bool) -> Snapshot {
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
pub async fn wait_for_page(c: &Client, path: &str, css: &str) -> Snapshot {
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
pub async fn wait_for_text(c: &Client, text: &str) -> Snapshot {
    wait_for(c, &format!("the text {text:?}"), |s| s.text.contains(text)).await
}

/// Types `value` into the (visible) input named `name`.
pub async fn fill(c: &Client, name: &str, value: &str) {
    let css = format!(r#"input[name="{name}"]:not([type="hidden"])"#);
    let input = c
        .find(Locator::Css(&css))
        .await
        .unwrap_or_else(|e| panic!("no input {css}: {e}"));
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

/// Clicks the element matching `css`.
pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

/// Clicks the submit button of the form that has a field matching `field`
/// (a CSS selector for an element inside the form).
pub async fn submit_form_with(c: &Client, field: &str) {
    click(c, &format!(r#"form:has({field}) button[type="submit"]"#)).await;
}

/// An authorization URL of the seeded native app with PKCE, plus its state.
pub fn authorize_url(
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

/// Opens a new authorization request (scope `openid`, with `extra`
/// parameters) in the browser; returns its PKCE pair and state.
pub async fn open_login(
    c: &Client,
    emu: &RunningEmulator,
    listener: &CallbackListener,
    extra: &[(&str, &str)],
) -> (Pkce, String) {
    let pkce = Pkce::new();
    let (url, state) = authorize_url(emu, &listener.redirect_uri(), &pkce, "openid", extra);
    c.goto(&url).await.unwrap();
    (pkce, state)
}

/// Waits for the redirect to the listener's `/callback`, checks `state` and
/// `iss`, and redeems the code; returns the token response.
pub async fn callback_tokens(
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

pub async fn userinfo(emu: &RunningEmulator, access_token: &str) -> reqwest::Response {
    http_client()
        .get(format!("{}/oidc/v1/userinfo", emu.issuer()))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
}

/// Login name page → password page, in the browser as it is.
pub async fn enter_login_and_password(c: &Client, login_name: &str, password: &str) {
    wait_for_page(c, "/ui/v2/login/loginname", r#"input[name="loginName"]"#).await;
    fill(c, "loginName", login_name).await;
    submit_form_with(c, r#"input[name="loginName"]"#).await;
    wait_for_page(c, "/ui/v2/login/password", r#"input[name="password"]"#).await;
    fill(c, "password", password).await;
    submit_form_with(c, r#"input[name="password"]"#).await;
}

pub async fn start() -> (RunningEmulator, Browser) {
    let emu = Emulator::start(EmulatorConfig::ephemeral()).await.unwrap();
    let browser = Browser::start().await.unwrap();
    (emu, browser)
}

pub fn alice(emu: &RunningEmulator) -> zitadel_emulator::SeedUserInfo {
    emu.seed_info()
        .users
        .iter()
        .find(|u| u.login_name.starts_with("alice@"))
        .cloned()
        .unwrap()
}

/// The code of the newest message to `to` in the outbox, once one arrives
/// with an id not in `seen` (bounded wait).
pub async fn outbox_code(emu: &RunningEmulator, to: &str, seen: &[String]) -> String {
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

/// The claims of the ID token in a token response (not verified: the
/// signature is the business of the OIDC tests).
pub fn id_token_claims(tokens: &Value) -> Value {
    use base64::Engine as _;
    let jwt = tokens["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no id_token in {tokens}"));
    let payload = jwt.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The `amr` values of the ID token in a token response.
pub fn amr(tokens: &Value) -> Vec<String> {
    id_token_claims(tokens)["amr"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A session token of the user (created through the session API with the
/// login client's PAT): the bearer for the user's own API calls.
pub async fn session_token(emu: &RunningEmulator, login_name: &str, password: &str) -> String {
    let body = serde_json::json!({
        "checks": {"user": {"loginName": login_name}, "password": {"password": password}}
    });
    let resp: Value = api(
        emu,
        reqwest::Method::POST,
        "/v2/sessions",
        &emu.seed_info().login_client_token,
        &body,
    )
    .await;
    resp["sessionToken"].as_str().unwrap().to_owned()
}

/// Calls the emulator's REST API and returns the JSON body of a 2xx answer.
pub async fn api(
    emu: &RunningEmulator,
    method: reqwest::Method,
    path: &str,
    bearer: &str,
    body: &Value,
) -> Value {
    let resp = http_client()
        .request(method.clone(), format!("{}{path}", emu.issuer()))
        .bearer_auth(bearer)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Creates the org's custom login policy as the seeded org owner. With
/// `allowExternalIdp` and no `idps`, the IdPs active under the default
/// policy (the seeded test IdP) are kept active, as a custom policy lists
/// its IdPs itself.
pub async fn set_login_policy(emu: &RunningEmulator, policy: &Value) {
    let manager = emu
        .seed_info()
        .users
        .iter()
        .find(|u| u.login_name.starts_with("manager@"))
        .cloned()
        .unwrap();
    let token = session_token(emu, &manager.login_name, &manager.password).await;
    let mut policy = policy.clone();
    if policy["allowExternalIdp"] == Value::Bool(true) && policy.get("idps").is_none() {
        let active = api(
            emu,
            reqwest::Method::GET,
            "/v2/settings/login/idps",
            &token,
            &Value::Null,
        )
        .await;
        let idps: Vec<Value> = active["identityProviders"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| serde_json::json!({ "idpId": i["id"] }))
            .collect();
        assert!(!idps.is_empty(), "no active IdP: {active}");
        policy["idps"] = Value::Array(idps);
    }
    api(
        emu,
        reqwest::Method::POST,
        "/management/v1/policies/login",
        &token,
        &policy,
    )
    .await;
}

/// The current RFC 6238 code (HMAC-SHA-1, 30 s, 6 digits) of a base32 secret.
pub fn totp_code(secret_base32: &str) -> String {
    use hmac::Mac as _;
    let mut key = Vec::new();
    let (mut acc, mut nbits) = (0u64, 0u32);
    for ch in secret_base32.trim_end_matches('=').chars() {
        let value = match ch.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u64 - 'A' as u64,
            c @ '2'..='7' => c as u64 - '2' as u64 + 26,
            other => panic!("not base32: {other:?} in {secret_base32}"),
        };
        acc = (acc << 5) | value;
        nbits += 5;
        if nbits >= 8 {
            nbits -= 8;
            key.push(((acc >> nbits) & 0xff) as u8);
        }
    }
    let step = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30;
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let word = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", word % 1_000_000)
}

/// The seeded user whose login name starts with `name@`.
pub fn seed_user(emu: &RunningEmulator, name: &str) -> zitadel_emulator::SeedUserInfo {
    emu.seed_info()
        .users
        .iter()
        .find(|u| u.login_name.starts_with(&format!("{name}@")))
        .cloned()
        .unwrap()
}

/// Asserts that no redirect reaches the callback listener's `/callback` for
/// a short while (the page did not redirect to the client; the browser's
/// `/favicon.ico` requests after an earlier callback do not count).
pub async fn assert_no_callback(listener: &mut CallbackListener) {
    let wait = Duration::from_millis(500);
    if let Ok(request) = listener.next_request_to("/callback", wait).await {
        panic!("unexpected redirect to the client: {}", request.target);
    }
}

/// Saves a screenshot under the system's temporary directory and returns its path.
pub async fn screenshot(browser: &Browser, name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("emulator-page-{name}.png"));
    browser.screenshot(&path).await.unwrap();
    path
}

/// The current value of the (visible) input named `name`.
pub async fn input_value(c: &Client, name: &str) -> String {
    let css = format!(r#"input[name="{name}"]:not([type="hidden"])"#);
    c.find(Locator::Css(&css))
        .await
        .unwrap_or_else(|e| panic!("no input {css}: {e}"))
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Opens a page of the emulator that sets no cookie and deletes the
/// browser's cookies there: the next login starts without a session.
pub async fn forget_browser_sessions(emu: &RunningEmulator, browser: &Browser) {
    browser
        .client()
        .goto(&format!(
            "{}/.well-known/openid-configuration",
            emu.issuer()
        ))
        .await
        .unwrap();
    browser.forget_sessions().await.unwrap();
}

/// On the page after an unknown user's login at the test IdP: keeps the
/// registration form as prefilled from the IdP, accepts the terms and registers.
pub async fn register_prefilled_idp_user(c: &Client) {
    wait_for_page(c, "/ui/v2/login/idp/success", "#idp-register").await;
    click(c, r#"#idp-register input[name="acceptTerms"]"#).await;
    click(c, "#idp-register-submit").await;
}
