//! The emulator's hosted pages driven in headless Chromium (issue 3 §6): the
//! login (in English and German), registration with the email code and its
//! error paths, password reset, device-code entry and approval, the logout
//! page, "Sign in with Test IdP", the account picker with `prompt` and
//! `login_hint`, and a login after a restart on the same data directory.
//! The second-factor pages are in `emulator_pages_mfa.rs`.
//!
//! Each test starts its own emulator and browser; every wait is bounded by
//! [`integration_tests::timeout`]; everything happens on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod pages;

use std::time::Duration;

use fantoccini::{Client, Locator};
use integration_tests::Browser;
use integration_tests::{CallbackListener, Pkce, http_client, random_token};
use pages::*;
use serde_json::{Value, json};
use url::Url;
use zitadel_emulator::{Emulator, EmulatorConfig};

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
    let page = wait_for_page(c, "/ui/v2/login/password/set", r#"input[name="code"]"#).await;
    assert!(
        page.text.contains("The password must have:"),
        "{}",
        page.text
    );
    assert!(page.text.contains("at least 8 characters"), "{}", page.text);
    let code = outbox_code(&emu, &user.login_name, &seen).await;
    // A new password that breaks the rules: the error, the rules still there.
    fill(c, "code", &code).await;
    fill(c, "password", "weak").await;
    fill(c, "passwordConfirm", "weak").await;
    submit_form_with(c, r#"input[name="code"]"#).await;
    let page = wait_for_text(c, "Password is too short").await;
    assert!(
        page.text.contains("The password must have:"),
        "{}",
        page.text
    );
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
async fn device_pages_stay_german_from_the_code_entry_to_the_consent() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let user = alice(&emu);
    let client_id = emu.seed_info().client_id.clone();
    let auth: Value = http_client()
        .post(format!("{}/oauth/v2/device_authorization", emu.issuer()))
        .form(&[("client_id", client_id.as_str()), ("scope", "openid")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let verification_uri = auth["verification_uri"].as_str().unwrap();

    c.goto(&format!("{verification_uri}?ui_locales=de"))
        .await
        .unwrap();
    let page = wait_for_page(c, "/ui/v2/login/device", r#"input[name="userCode"]"#).await;
    assert_eq!(page.lang, "de");
    fill(c, "userCode", auth["user_code"].as_str().unwrap()).await;
    submit_form_with(c, r#"input[name="userCode"]"#).await;
    let page = wait_for_page(c, "/ui/v2/login/loginname", r#"input[name="loginName"]"#).await;
    assert_eq!(page.lang, "de");
    assert!(page.text.contains("Willkommen zurück!"), "{}", page.text);
    enter_login_and_password(c, &user.login_name, &user.password).await;
    let allow = r#"input[name="action"][value="allow"]"#;
    let page = wait_for_page(c, "/ui/v2/login/device/consent", allow).await;
    assert_eq!(page.lang, "de");
    assert!(page.text.contains("Erlaubst du das?"), "{}", page.text);
    submit_form_with(c, allow).await;
    wait_for_text(c, "Das Gerät wurde angemeldet.").await;
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
    let claims = id_token_claims(&tokens);
    assert_eq!(claims["sub"], user.user_id.as_str());
    assert!(
        claims["amr"].as_array().unwrap().contains(&json!("fed")),
        "{claims}"
    );

    // The next IdP login of that external user goes straight to alice
    let (pkce, state) = open_login(c, &emu, &listener, &[("prompt", "login")]).await;
    sign_in_at_the_test_idp(c, "ext-al", ["al", "al@idp.example", "Al", "Ice"]).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    let claims = id_token_claims(&tokens);
    assert_eq!(claims["sub"], user.user_id.as_str());
    browser.close().await;
    emu.shutdown().await;
}

/// Clicks the "Sign in with Test IdP" button on the login name page.
async fn click_test_idp_button(c: &fantoccini::Client) {
    let page = wait_for_page(c, "/ui/v2/login/loginname", r#"form[action$="/idp/start"]"#).await;
    assert!(page.text.contains("Sign in with Test IdP"), "{}", page.text);
    click(c, r#"form[action$="/idp/start"] button[type="submit"]"#).await;
}

/// The external user's given name: markup that must stay text on every page.
const GIVEN_NAME_WITH_MARKUP: &str = "<i>Erin</i>";

/// Fills the test IdP's page with an external user and signs in there.
async fn sign_in_at_test_idp(c: &fantoccini::Client, sub: &str, username: &str, email: &str) {
    wait_for_page(c, "/_emulator/test-idp/authorize", r#"input[name="sub"]"#).await;
    // The fields stay within the page's column.
    let overflow = c
        .execute(
            "const body = document.body.getBoundingClientRect();\
             const input = document.querySelector('input[name=sub]').getBoundingClientRect();\
             return input.right - body.right;",
            vec![],
        )
        .await
        .unwrap();
    assert!(overflow.as_f64().unwrap() <= 0.0, "{overflow}");
    fill(c, "sub", sub).await;
    fill(c, "username", username).await;
    fill(c, "email", email).await;
    fill(c, "givenName", GIVEN_NAME_WITH_MARKUP).await;
    fill(c, "familyName", "External").await;
    click(c, r#"button[name="action"][value="login"]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_idp_user_registered_from_the_prefilled_form_is_signed_in_again_by_subject() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();

    // First login: an unknown external subject becomes a new, linked user.
    let pkce = Pkce::new();
    let scope = "openid email profile";
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, scope, &[]);
    c.goto(&url).await.unwrap();
    click_test_idp_button(c).await;
    sign_in_at_test_idp(c, "ext-4711", "erin.external", "erin@idp.example").await;
    wait_for_page(c, "/ui/v2/login/idp/success", "#idp-register").await;
    assert_eq!(input_value(c, "givenName").await, GIVEN_NAME_WITH_MARKUP);
    register_prefilled_idp_user(c).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    let amr = amr(&tokens);
    assert!(amr.iter().any(|a| a == "fed"), "amr {amr:?}");
    assert!(!amr.iter().any(|a| a == "pwd"), "amr {amr:?}");
    let info: Value = userinfo(&emu, tokens["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["email"], "erin@idp.example");
    assert_eq!(info["given_name"], GIVEN_NAME_WITH_MARKUP);
    assert_eq!(info["family_name"], "External");
    let sub = info["sub"].as_str().unwrap().to_owned();
    assert!(emu.seed_info().users.iter().all(|u| u.user_id != sub));

    // Second login in a fresh browser session, same subject: the same user.
    forget_browser_sessions(&emu, &browser).await;
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, scope, &[]);
    c.goto(&url).await.unwrap();
    click_test_idp_button(c).await;
    sign_in_at_test_idp(c, "ext-4711", "erin.external", "erin@idp.example").await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(id_token_claims(&tokens)["sub"], sub.as_str());

    // The account picker shows the external profile as text, not markup.
    let pkce = Pkce::new();
    let extra = [("prompt", "select_account")];
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, scope, &extra);
    let page = open_account_picker(c, &url).await;
    assert!(
        page.text
            .contains("<i>Erin</i> External <erin.external@acme.localhost>"),
        "{}",
        page.text
    );
    assert!(
        c.find(fantoccini::Locator::Css("button.account i"))
            .await
            .is_err()
    );
    pick_account(c, "erin.external").await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(id_token_claims(&tokens)["sub"], sub.as_str());
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_at_the_test_idp_shows_an_error_without_redirect_and_a_way_back() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &[]);
    c.goto(&url).await.unwrap();
    click_test_idp_button(c).await;
    wait_for_page(c, "/_emulator/test-idp/authorize", r#"input[name="sub"]"#).await;
    click(c, r#"button[name="action"][value="cancel"]"#).await;
    let page = wait_for_text(c, "failed or was cancelled").await;
    assert_eq!(page.path(), "/ui/v2/login/idp/failure");
    assert!(page.text.contains("Something went wrong"), "{}", page.text);
    assert!(!page.url.contains("code="), "{}", page.url);
    assert_no_callback(&mut listener).await;

    // The login is still open: back to it, and sign in with a password.
    click(c, "a#back").await;
    let user = alice(&emu);
    enter_login_and_password(c, &user.login_name, &user.password).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(id_token_claims(&tokens)["sub"], user.user_id.as_str());
    browser.close().await;
    emu.shutdown().await;
}

/// Opens `url` and waits for the account picker.
async fn open_account_picker(c: &fantoccini::Client, url: &str) -> Snapshot {
    c.goto(url).await.unwrap();
    wait_for_page(c, "/ui/v2/login/accounts", "button.account").await
}

/// Clicks the picker's button of the account whose login name starts with `name`.
async fn pick_account(c: &fantoccini::Client, name: &str) {
    c.find(fantoccini::Locator::XPath(&format!(
        "//button[contains(@class, 'account') and contains(., '<{name}')]"
    )))
    .await
    .unwrap_or_else(|e| panic!("no account button for {name}: {e}"))
    .click()
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_picker_with_select_account_and_two_sessions_and_prompt_login_asks_again() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let alice = alice(&emu);
    let manager = seed_user(&emu, "manager");
    let redirect = listener.redirect_uri();

    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &redirect, &pkce, "openid", &[]);
    c.goto(&url).await.unwrap();
    enter_login_and_password(c, &alice.login_name, &alice.password).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(id_token_claims(&tokens)["sub"], alice.user_id.as_str());

    // One session and prompt=select_account: the picker, not single sign-on.
    let pkce = Pkce::new();
    let extra = [("prompt", "select_account")];
    let (url, state) = authorize_url(&emu, &redirect, &pkce, "openid", &extra);
    let page = open_account_picker(c, &url).await;
    assert!(page.text.contains("Select account"), "{}", page.text);
    assert!(page.text.contains(&alice.login_name), "{}", page.text);
    assert!(!page.text.contains(&manager.login_name), "{}", page.text);
    pick_account(c, "alice").await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(id_token_claims(&tokens)["sub"], alice.user_id.as_str());

    // prompt=login: the login form although alice has a session; sign in as
    // the manager, a second session in this browser.
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &redirect, &pkce, "openid", &[("prompt", "login")]);
    c.goto(&url).await.unwrap();
    enter_login_and_password(c, &manager.login_name, &manager.password).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(id_token_claims(&tokens)["sub"], manager.user_id.as_str());

    // Two sessions, no prompt: the picker lists both; picking needs no password.
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &redirect, &pkce, "openid", &[]);
    let page = open_account_picker(c, &url).await;
    assert!(page.text.contains(&alice.login_name), "{}", page.text);
    assert!(page.text.contains(&manager.login_name), "{}", page.text);
    pick_account(c, "manager").await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(id_token_claims(&tokens)["sub"], manager.user_id.as_str());

    // prompt=login with alice's session: her password is asked for again.
    let pkce = Pkce::new();
    let extra = [
        ("prompt", "login"),
        ("login_hint", alice.login_name.as_str()),
    ];
    let (url, state) = authorize_url(&emu, &redirect, &pkce, "openid", &extra);
    c.goto(&url).await.unwrap();
    let page = wait_for_page(c, "/ui/v2/login/loginname", r#"input[name="loginName"]"#).await;
    assert_eq!(input_value(c, "loginName").await, alice.login_name);
    assert!(page.text.contains("Welcome back!"), "{}", page.text);
    submit_form_with(c, r#"input[name="loginName"]"#).await;
    wait_for_page(c, "/ui/v2/login/password", r#"input[name="password"]"#).await;
    fill(c, "password", &alice.password).await;
    submit_form_with(c, r#"input[name="password"]"#).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(id_token_claims(&tokens)["sub"], alice.user_id.as_str());
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_hint_opens_the_password_page_of_that_user_with_a_way_to_another_user() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let manager = seed_user(&emu, "manager");
    let pkce = Pkce::new();
    let extra = [("login_hint", manager.login_name.as_str())];
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &extra);
    c.goto(&url).await.unwrap();
    let page = wait_for_page(c, "/ui/v2/login/password", r#"input[name="password"]"#).await;
    assert!(page.text.contains(&manager.login_name), "{}", page.text);
    fill(c, "password", &manager.password).await;
    submit_form_with(c, r#"input[name="password"]"#).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(id_token_claims(&tokens)["sub"], manager.user_id.as_str());

    // The hinted user is not a dead end: "Other user" leads to the login name.
    forget_browser_sessions(&emu, &browser).await;
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &extra);
    c.goto(&url).await.unwrap();
    wait_for_page(c, "/ui/v2/login/password", "a#other-user").await;
    click(c, "a#other-user").await;
    let alice = alice(&emu);
    enter_login_and_password(c, &alice.login_name, &alice.password).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(id_token_claims(&tokens)["sub"], alice.user_id.as_str());
    browser.close().await;
    emu.shutdown().await;
}

/// Fills the registration form's text and password fields.
async fn fill_registration(c: &fantoccini::Client, given: &str, password: &str, confirm: &str) {
    fill(c, "givenName", given).await;
    fill(c, "familyName", "Zed").await;
    fill(c, "email", "zoe@example.com").await;
    fill(c, "password", password).await;
    fill(c, "passwordConfirm", confirm).await;
}

async fn terms_checked(c: &fantoccini::Client) -> bool {
    c.find(fantoccini::Locator::Css(r#"input[name="acceptTerms"]"#))
        .await
        .unwrap()
        .prop("checked")
        .await
        .unwrap()
        .as_deref()
        == Some("true")
}

/// Asserts the registration page shows `error` and kept the non-secret fields.
async fn assert_register_error_keeps_fields(c: &fantoccini::Client, error: &str, given: &str) {
    let page = wait_for_text(c, error).await;
    assert_eq!(page.path(), "/ui/v2/login/register");
    assert!(
        page.text.contains("The password must have:"),
        "{}",
        page.text
    );
    assert_eq!(input_value(c, "givenName").await, given);
    assert_eq!(input_value(c, "familyName").await, "Zed");
    assert_eq!(input_value(c, "email").await, "zoe@example.com");
    assert_eq!(input_value(c, "password").await, "");
    assert_eq!(input_value(c, "passwordConfirm").await, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_errors_are_shown_and_keep_the_entered_fields() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let pkce = Pkce::new();
    let extra = [("prompt", "create")];
    let (url, _state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &extra);
    c.goto(&url).await.unwrap();
    let register = r#"input[name="givenName"]"#;
    wait_for_page(c, "/ui/v2/login/register", register).await;
    // Markup in a name is kept as text, not rendered.
    let given = "<b>Zoe</b> & \"Co\"";

    // The email field is as wide as the others.
    let widths = c
        .execute(
            "return ['givenName', 'email'].map(n => \
             document.querySelector(`input[name=${n}]`).getBoundingClientRect().width);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(widths[0], widths[1], "{widths}");

    // A password that breaks the complexity policy.
    fill_registration(c, given, "short", "short").await;
    click(c, r#"input[name="acceptTerms"]"#).await;
    submit_form_with(c, register).await;
    assert_register_error_keeps_fields(c, "Password is too short", given).await;
    assert!(
        c.find(fantoccini::Locator::Css("main form b"))
            .await
            .is_err()
    );
    assert!(terms_checked(c).await, "the accepted terms were lost");

    // Confirmation differs.
    fill(c, "password", "Sup3r-secret").await;
    fill(c, "passwordConfirm", "Sup3r-secreT").await;
    submit_form_with(c, register).await;
    assert_register_error_keeps_fields(c, "The passwords do not match.", given).await;

    // Terms not accepted: the browser refuses to send the form ...
    fill(c, "password", "Sup3r-secret").await;
    fill(c, "passwordConfirm", "Sup3r-secret").await;
    if terms_checked(c).await {
        click(c, r#"input[name="acceptTerms"]"#).await;
    }
    submit_form_with(c, register).await;
    let invalid = c
        .execute(
            "return document.querySelector('input[name=acceptTerms]').validity.valueMissing;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(invalid, Value::Bool(true));
    assert_eq!(input_value(c, "password").await, "Sup3r-secret");
    // ... and without the browser's check, the server refuses it.
    c.execute(
        "document.querySelector('input[name=acceptTerms]').removeAttribute('required');",
        vec![],
    )
    .await
    .unwrap();
    submit_form_with(c, register).await;
    assert_register_error_keeps_fields(
        c,
        "Please accept the terms of service and the privacy policy.",
        given,
    )
    .await;
    assert!(emu.outbox().is_empty(), "{:?}", emu.outbox());
    assert_no_callback(&mut listener).await;

    // All fixed: on to the email code.
    fill(c, "password", "Sup3r-secret").await;
    fill(c, "passwordConfirm", "Sup3r-secret").await;
    click(c, r#"input[name="acceptTerms"]"#).await;
    submit_form_with(c, register).await;
    let page = wait_for_page(c, "/ui/v2/login/verify", r#"input[name="code"]"#).await;
    assert!(page.text.contains("zoe@example.com"), "{}", page.text);
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_registered_in_the_browser_logs_in_after_a_restart_with_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let config = || EmulatorConfig {
        data_dir: Some(dir.path().to_path_buf()),
        port: 0,
        ..EmulatorConfig::ephemeral()
    };
    let emu = Emulator::start(config()).await.unwrap();
    let browser = Browser::start().await.unwrap();
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let email = "rita@example.com";
    let password = "Rest4rt-proof";

    let pkce = Pkce::new();
    let extra = [("prompt", "create")];
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &extra);
    c.goto(&url).await.unwrap();
    wait_for_page(c, "/ui/v2/login/register", r#"input[name="givenName"]"#).await;
    fill(c, "givenName", "Rita").await;
    fill(c, "familyName", "Restart").await;
    fill(c, "email", email).await;
    fill(c, "password", password).await;
    fill(c, "passwordConfirm", password).await;
    click(c, r#"input[name="acceptTerms"]"#).await;
    submit_form_with(c, r#"input[name="givenName"]"#).await;
    wait_for_page(c, "/ui/v2/login/verify", r#"input[name="code"]"#).await;
    let code = outbox_code(&emu, email, &[]).await;
    fill(c, "code", &code).await;
    submit_form_with(c, r#"input[name="code"]"#).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    let sub = id_token_claims(&tokens)["sub"].as_str().unwrap().to_owned();
    forget_browser_sessions(&emu, &browser).await;
    emu.shutdown().await;

    // Same directory, new process state (and a new port): the user is there.
    let emu = Emulator::start(config()).await.unwrap();
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &[]);
    c.goto(&url).await.unwrap();
    enter_login_and_password(c, email, password).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(id_token_claims(&tokens)["sub"], sub.as_str());
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_page_ends_only_the_chosen_one_of_two_sessions() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let alice = alice(&emu);
    let manager = seed_user(&emu, "manager");
    let redirect = listener.redirect_uri();
    // Alice signs in, then the manager with prompt=login: two sessions.
    let prompt_login = [("prompt", "login")];
    for (user, extra) in [(&alice, &[][..]), (&manager, &prompt_login[..])] {
        let pkce = Pkce::new();
        let (url, state) = authorize_url(&emu, &redirect, &pkce, "openid", extra);
        c.goto(&url).await.unwrap();
        enter_login_and_password(c, &user.login_name, &user.password).await;
        let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
        assert_eq!(id_token_claims(&tokens)["sub"], user.user_id.as_str());
    }

    // The logout page lists both sessions; end alice's only.
    let mut url = Url::parse(&format!("{}/oidc/v1/end_session", emu.issuer())).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", &emu.seed_info().client_id)
        .append_pair(
            "post_logout_redirect_uri",
            &format!("http://127.0.0.1:{}/logout", listener.port()),
        );
    c.goto(url.as_str()).await.unwrap();
    let page = wait_for_page(c, "/ui/v2/login/logout", r#"input[name="sessionId"]"#).await;
    assert!(page.text.contains(&alice.login_name), "{}", page.text);
    assert!(page.text.contains(&manager.login_name), "{}", page.text);
    c.find(fantoccini::Locator::XPath(&format!(
        "//form[.//button[normalize-space(.)='{}']]//button",
        alice.login_name
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    listener
        .next_request_to("/logout", integration_tests::timeout())
        .await
        .unwrap();

    // The manager's session is left: single sign-on without a form.
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &redirect, &pkce, "openid", &[]);
    c.goto(&url).await.unwrap();
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(id_token_claims(&tokens)["sub"], manager.user_id.as_str());
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_policy_hides_registration_reset_and_the_idp_button() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let user = alice(&emu);
    let pkce = Pkce::new();
    let (url, _) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &[]);
    c.goto(&url).await.unwrap();
    let page = wait_for_page(c, "/ui/v2/login/loginname", r#"input[name="loginName"]"#).await;
    assert!(page.text.contains("Register new user"), "{}", page.text);
    assert!(page.text.contains("Sign in with Test IdP"), "{}", page.text);

    set_login_policy(
        &emu,
        &json!({
            "allowUsernamePassword": true,
            "allowRegister": false,
            "allowExternalIdp": false,
            "hidePasswordReset": true,
        }),
    )
    .await;
    forget_browser_sessions(&emu, &browser).await;
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &[]);
    c.goto(&url).await.unwrap();
    let page = wait_for_page(c, "/ui/v2/login/loginname", r#"input[name="loginName"]"#).await;
    assert!(!page.text.contains("Register new user"), "{}", page.text);
    assert!(!page.text.contains("Sign in with"), "{}", page.text);
    fill(c, "loginName", &user.login_name).await;
    submit_form_with(c, r#"input[name="loginName"]"#).await;
    let page = wait_for_page(c, "/ui/v2/login/password", r#"input[name="password"]"#).await;
    assert!(!page.text.contains("Reset password"), "{}", page.text);
    fill(c, "password", &user.password).await;
    submit_form_with(c, r#"input[name="password"]"#).await;
    callback_tokens(&emu, &mut listener, &state, &pkce).await;

    // prompt=create cannot open the registration either.
    let pkce = Pkce::new();
    let extra = [("prompt", "create")];
    let (url, _) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &extra);
    c.goto(&url).await.unwrap();
    let page = wait_for_text(c, "Registration is not allowed.").await;
    assert!(
        c.find(Locator::Css(r#"input[name="givenName"]"#))
            .await
            .is_err()
    );
    assert_eq!(page.path(), "/ui/v2/login/register");
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_again_as_the_same_user_keeps_single_sign_on_and_one_entry_per_user() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let alice = alice(&emu);
    let redirect = listener.redirect_uri();
    // Alice signs in, then again with prompt=login (a re-authentication).
    let prompt_login = [("prompt", "login")];
    for extra in [&[][..], &prompt_login[..]] {
        let pkce = Pkce::new();
        let (url, state) = authorize_url(&emu, &redirect, &pkce, "openid", extra);
        c.goto(&url).await.unwrap();
        enter_login_and_password(c, &alice.login_name, &alice.password).await;
        callback_tokens(&emu, &mut listener, &state, &pkce).await;
    }

    // One user in this browser: single sign-on, no account picker.
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &redirect, &pkce, "openid", &[]);
    c.goto(&url).await.unwrap();
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(id_token_claims(&tokens)["sub"], alice.user_id.as_str());

    // And the picker lists her once.
    let pkce = Pkce::new();
    let extra = [("prompt", "select_account")];
    let (url, _) = authorize_url(&emu, &redirect, &pkce, "openid", &extra);
    open_account_picker(c, &url).await;
    let buttons = c.find_all(Locator::Css("button.account")).await.unwrap();
    assert_eq!(buttons.len(), 1);

    // The logout page lists her once too, and ending her ends both sessions.
    let mut url = Url::parse(&format!("{}/oidc/v1/end_session", emu.issuer())).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", &emu.seed_info().client_id)
        .append_pair(
            "post_logout_redirect_uri",
            &format!("http://127.0.0.1:{}/logout", listener.port()),
        );
    c.goto(url.as_str()).await.unwrap();
    wait_for_page(c, "/ui/v2/login/logout", r#"input[name="sessionId"]"#).await;
    let user_buttons = c
        .find_all(Locator::XPath(&format!(
            "//button[normalize-space(.)='{}']",
            alice.login_name
        )))
        .await
        .unwrap();
    assert_eq!(user_buttons.len(), 1);
    user_buttons[0].clone().click().await.unwrap();
    listener
        .next_request_to("/logout", integration_tests::timeout())
        .await
        .unwrap();
    let pkce = Pkce::new();
    let (url, _) = authorize_url(&emu, &redirect, &pkce, "openid", &[]);
    c.goto(&url).await.unwrap();
    wait_for_page(c, "/ui/v2/login/loginname", r#"input[name="loginName"]"#).await;
    browser.close().await;
    emu.shutdown().await;
}
