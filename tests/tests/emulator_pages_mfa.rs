//! The emulator's second-factor pages driven in headless Chromium: TOTP,
//! one-time codes by email (with resend) and by SMS after the password, and
//! the MFA set-up that a login policy with `forceMfa` sends a user to, the
//! skippable MFA prompt of `mfaInitSkipLifetime`, a recovery code instead of
//! the second factor, and `ignoreUnknownUsernames`.
//!
//! Each test starts its own emulator and browser; every wait is bounded by
//! [`integration_tests::timeout`]; everything happens on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod pages;

use fantoccini::Locator;
use integration_tests::{CallbackListener, Pkce};
use pages::*;
use reqwest::Method;
use serde_json::{Value, json};

/// Gives alice a verified TOTP through the API (as herself); returns the secret.
async fn register_totp(emu: &zitadel_emulator::RunningEmulator) -> String {
    let alice = seed_user(emu, "alice");
    let token = session_token(emu, &alice.login_name, &alice.password).await;
    let path = format!("/v2/users/{}/totp", alice.user_id);
    let reg = api(emu, Method::POST, &path, &token, &json!({})).await;
    let secret = reg["secret"].as_str().unwrap().to_owned();
    let code = totp_code(&secret);
    api(
        emu,
        Method::POST,
        &format!("{path}/verify"),
        &token,
        &json!({ "code": code }),
    )
    .await;
    secret
}

/// The brand colour of the page's primary button, as the browser computes it.
async fn button_colour(c: &fantoccini::Client) -> String {
    c.execute(
        "return getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor;",
        vec![],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// The seed's brand colour `#5469d4` as the browser reports it.
const BRAND_RGB: &str = "rgb(84, 105, 212)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_after_the_password_signs_in_with_otp_and_mfa_in_amr() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let secret = register_totp(&emu).await;
    let alice = seed_user(&emu, "alice");
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &[]);

    c.goto(&url).await.unwrap();
    enter_login_and_password(c, &alice.login_name, &alice.password).await;
    let page = wait_for_page(c, "/ui/v2/login/otp/time-based", r#"input[name="code"]"#).await;
    assert!(
        page.text
            .contains("Enter the code from your authenticator app."),
        "{}",
        page.text
    );
    assert_eq!(button_colour(c).await, BRAND_RGB);
    let shot = screenshot(&browser, "totp").await;
    assert!(shot.exists());

    // A wrong code: the error on the page, no redirect to the client.
    let wrong = if totp_code(&secret) == "000000" {
        "111111"
    } else {
        "000000"
    };
    fill(c, "code", wrong).await;
    submit_form_with(c, r#"input[name="code"]"#).await;
    let page = wait_for_text(c, "Code is invalid").await;
    assert_eq!(page.path(), "/ui/v2/login/otp/time-based");
    assert_no_callback(&mut listener).await;

    fill(c, "code", &totp_code(&secret)).await;
    submit_form_with(c, r#"input[name="code"]"#).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    let amr = amr(&tokens);
    for method in ["pwd", "otp", "mfa"] {
        assert!(amr.iter().any(|a| a == method), "amr {amr:?}");
    }
    assert_eq!(id_token_claims(&tokens)["sub"], alice.user_id);
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_code_after_the_password_and_resend_replaces_the_code() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let alice = seed_user(&emu, "alice");
    let token = session_token(&emu, &alice.login_name, &alice.password).await;
    let path = format!("/v2/users/{}/otp_email", alice.user_id);
    api(&emu, Method::POST, &path, &token, &json!({})).await;
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &[]);

    let seen: Vec<String> = emu.outbox().into_iter().map(|m| m.id).collect();
    c.goto(&url).await.unwrap();
    enter_login_and_password(c, &alice.login_name, &alice.password).await;
    let page = wait_for_page(c, "/ui/v2/login/otp/email", r#"input[name="code"]"#).await;
    assert!(
        page.text
            .contains("Enter the code we sent to your email address."),
        "{}",
        page.text
    );
    let first = outbox_code(&emu, &alice.login_name, &seen).await;
    assert_eq!(first.len(), 8, "{first}");

    // Resend: a new message with a new code; the first code is void.
    let seen: Vec<String> = emu.outbox().into_iter().map(|m| m.id).collect();
    click(
        c,
        r#"form:has(input[name="action"][value="resend"]) button[type="submit"]"#,
    )
    .await;
    wait_for_text(c, "A new code has been sent.").await;
    let second = outbox_code(&emu, &alice.login_name, &seen).await;
    assert_ne!(first, second);
    fill(c, "code", &first).await;
    submit_form_with(c, r#"input[name="code"]"#).await;
    let page = wait_for_text(c, "Code is invalid").await;
    assert_eq!(page.path(), "/ui/v2/login/otp/email");
    assert_no_callback(&mut listener).await;

    fill(c, "code", &second).await;
    submit_form_with(c, r#"input[name="code"]"#).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    let amr = amr(&tokens);
    assert!(amr.iter().any(|a| a == "otp"), "amr {amr:?}");
    assert!(amr.iter().any(|a| a == "mfa"), "amr {amr:?}");
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_code_after_the_password_with_a_verified_phone() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let alice = seed_user(&emu, "alice");
    let token = session_token(&emu, &alice.login_name, &alice.password).await;
    let uid = &alice.user_id;
    let set: Value = api(
        &emu,
        Method::POST,
        &format!("/v2/users/{uid}/phone"),
        &token,
        &json!({"phone": "+41 79 555 01 02", "returnCode": {}}),
    )
    .await;
    let code = set["verificationCode"].as_str().unwrap().to_owned();
    api(
        &emu,
        Method::POST,
        &format!("/v2/users/{uid}/phone/verify"),
        &token,
        &json!({ "verificationCode": code }),
    )
    .await;
    api(
        &emu,
        Method::POST,
        &format!("/v2/users/{uid}/otp_sms"),
        &token,
        &json!({}),
    )
    .await;
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &[]);

    c.goto(&url).await.unwrap();
    enter_login_and_password(c, &alice.login_name, &alice.password).await;
    let page = wait_for_page(c, "/ui/v2/login/otp/sms", r#"input[name="code"]"#).await;
    assert!(
        page.text.contains("Enter the code we sent to your phone."),
        "{}",
        page.text
    );
    let sms = outbox_code(&emu, "+41795550102", &[]).await;
    let message = emu
        .outbox()
        .into_iter()
        .rev()
        .find(|m| m.to == "+41795550102")
        .unwrap();
    assert_eq!(message.channel, "sms");
    fill(c, "code", &sms).await;
    submit_form_with(c, r#"input[name="code"]"#).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    let amr = amr(&tokens);
    assert!(amr.iter().any(|a| a == "otp"), "amr {amr:?}");
    browser.close().await;
    emu.shutdown().await;
}

/// The login policy forces MFA for every login.
async fn force_mfa(emu: &zitadel_emulator::RunningEmulator) {
    set_login_policy(
        emu,
        &json!({
            "allowUsernamePassword": true,
            "allowRegister": true,
            "allowExternalIdp": true,
            "forceMfa": true,
        }),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_mfa_sets_up_totp_from_the_secret_shown_on_the_page() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    force_mfa(&emu).await;
    let alice = seed_user(&emu, "alice");
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &[]);

    c.goto(&url).await.unwrap();
    enter_login_and_password(c, &alice.login_name, &alice.password).await;
    let page = wait_for_page(c, "/ui/v2/login/mfa/set", "#totp-secret").await;
    assert!(
        page.text.contains("Set up 2-factor authentication"),
        "{}",
        page.text
    );
    assert_eq!(button_colour(c).await, BRAND_RGB);
    let secret = c
        .find(Locator::Css("#totp-secret"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let uri = c
        .find(Locator::Css("#totp-uri"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    // The long URI wraps inside the card instead of running out of it.
    let overflow = c
        .execute(
            "const main = document.querySelector('main').getBoundingClientRect();\
             const uri = document.querySelector('#totp-uri').getBoundingClientRect();\
             return uri.right - main.right;",
            vec![],
        )
        .await
        .unwrap();
    assert!(overflow.as_f64().unwrap() <= 0.0, "{overflow}");
    let shot = screenshot(&browser, "mfa-set").await;
    assert!(shot.exists());

    // A wrong code keeps the user on the page with the same secret.
    let wrong = if totp_code(&secret) == "000000" {
        "111111"
    } else {
        "000000"
    };
    fill(c, "code", wrong).await;
    submit_form_with(c, r#"input[name="action"][value="totp"]"#).await;
    let page = wait_for_text(c, "Code is invalid").await;
    assert_eq!(page.path(), "/ui/v2/login/mfa/set");
    assert!(page.text.contains(&secret), "{}", page.text);
    assert_no_callback(&mut listener).await;

    fill(c, "code", &totp_code(&secret)).await;
    submit_form_with(c, r#"input[name="action"][value="totp"]"#).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    let amr = amr(&tokens);
    assert!(amr.iter().any(|a| a == "otp"), "amr {amr:?}");

    // The factor is kept: the next login in a fresh browser session asks for it.
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
    enter_login_and_password(c, &alice.login_name, &alice.password).await;
    wait_for_page(c, "/ui/v2/login/otp/time-based", r#"input[name="code"]"#).await;
    fill(c, "code", &totp_code(&secret)).await;
    submit_form_with(c, r#"input[name="code"]"#).await;
    callback_tokens(&emu, &mut listener, &state, &pkce).await;
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_mfa_offers_codes_by_email_instead_in_german() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    force_mfa(&emu).await;
    let alice = seed_user(&emu, "alice");
    let pkce = Pkce::new();
    let extra = [("ui_locales", "de")];
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &extra);

    c.goto(&url).await.unwrap();
    enter_login_and_password(c, &alice.login_name, &alice.password).await;
    let page = wait_for_page(c, "/ui/v2/login/mfa/set", "#totp-secret").await;
    assert_eq!(page.lang, "de");
    for text in [
        "2-Faktor-Authentifizierung einrichten",
        "Deine Organisation verlangt einen zweiten Faktor.",
        "Stattdessen Codes per E-Mail verwenden",
    ] {
        assert!(page.text.contains(text), "{}", page.text);
    }
    let seen: Vec<String> = emu.outbox().into_iter().map(|m| m.id).collect();
    submit_form_with(c, r#"input[name="action"][value="email"]"#).await;
    let page = wait_for_page(c, "/ui/v2/login/otp/email", r#"input[name="code"]"#).await;
    assert_eq!(page.lang, "de");
    assert!(
        page.text
            .contains("Gib den Code ein, den wir an deine E-Mail-Adresse gesendet haben."),
        "{}",
        page.text
    );
    assert!(page.text.contains("Code erneut senden"), "{}", page.text);
    let code = outbox_code(&emu, &alice.login_name, &seen).await;
    fill(c, "code", &code).await;
    submit_form_with(c, r#"input[name="code"]"#).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    let amr = amr(&tokens);
    assert!(amr.iter().any(|a| a == "otp"), "amr {amr:?}");

    // Codes by email are now alice's second factor.
    let methods = api(
        &emu,
        Method::GET,
        &format!("/v2/users/{}/authentication_methods", alice.user_id),
        &session_token(&emu, &alice.login_name, &alice.password).await,
        &Value::Null,
    )
    .await;
    assert!(methods.to_string().contains("OTP_EMAIL"), "{methods}");
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_mfa_local_only_skips_the_set_up_after_an_idp_login_but_not_after_a_password() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    set_login_policy(
        &emu,
        &json!({
            "allowUsernamePassword": true,
            "allowRegister": true,
            "allowExternalIdp": true,
            "forceMfaLocalOnly": true,
        }),
    )
    .await;

    // Through the test IdP: no set-up, straight back to the client.
    let pkce = Pkce::new();
    let (url, state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &[]);
    c.goto(&url).await.unwrap();
    wait_for_page(c, "/ui/v2/login/loginname", r#"form[action$="/idp/start"]"#).await;
    click(c, r#"form[action$="/idp/start"] button[type="submit"]"#).await;
    wait_for_page(c, "/_emulator/test-idp/authorize", r#"input[name="sub"]"#).await;
    click(c, r#"button[name="action"][value="login"]"#).await;
    register_prefilled_idp_user(c).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(amr(&tokens), ["fed"]);

    // With a password: the set-up page.
    forget_browser_sessions(&emu, &browser).await;
    let alice = seed_user(&emu, "alice");
    let pkce = Pkce::new();
    let (url, _state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &[]);
    c.goto(&url).await.unwrap();
    enter_login_and_password(c, &alice.login_name, &alice.password).await;
    wait_for_page(c, "/ui/v2/login/mfa/set", "#totp-secret").await;
    assert_no_callback(&mut listener).await;
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_totp_codes_up_to_the_lockout_limit_lock_the_user_on_the_page() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    let secret = register_totp(&emu).await;
    let manager = seed_user(&emu, "manager");
    let token = session_token(&emu, &manager.login_name, &manager.password).await;
    let lockout = json!({"maxPasswordAttempts": "0", "maxOtpAttempts": "2"});
    api(
        &emu,
        Method::POST,
        "/management/v1/policies/lockout",
        &token,
        &lockout,
    )
    .await;
    let alice = seed_user(&emu, "alice");
    let pkce = Pkce::new();
    let (url, _state) = authorize_url(&emu, &listener.redirect_uri(), &pkce, "openid", &[]);
    c.goto(&url).await.unwrap();
    enter_login_and_password(c, &alice.login_name, &alice.password).await;
    wait_for_page(c, "/ui/v2/login/otp/time-based", r#"input[name="code"]"#).await;
    let wrong = if totp_code(&secret) == "000000" {
        "111111"
    } else {
        "000000"
    };

    fill(c, "code", wrong).await;
    submit_form_with(c, r#"input[name="code"]"#).await;
    wait_for_text(c, "Code is invalid").await;
    fill(c, "code", wrong).await;
    submit_form_with(c, r#"input[name="code"]"#).await;
    wait_for_text(c, "User is locked").await;
    // Now even the right code does not sign in.
    fill(c, "code", &totp_code(&secret)).await;
    submit_form_with(c, r#"input[name="code"]"#).await;
    let page = wait_for_text(c, "Something went wrong").await;
    assert!(page.text.contains("User is locked"), "{}", page.text);
    assert_eq!(page.path(), "/ui/v2/login/otp/time-based");
    assert_no_callback(&mut listener).await;
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovery_code_on_the_totp_page_signs_in_once_and_is_refused_the_second_time() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    register_totp(&emu).await;
    let alice = seed_user(&emu, "alice");
    let token = session_token(&emu, &alice.login_name, &alice.password).await;
    let path = format!("/v2/users/{}/recovery_codes", alice.user_id);
    let codes = api(&emu, Method::POST, &path, &token, &json!({ "count": 2 })).await;
    let code = codes["recoveryCodes"][0].as_str().unwrap().to_owned();

    for attempt in 0..2 {
        let (pkce, state) = open_login(c, &emu, &listener, &[("prompt", "login")]).await;
        enter_login_and_password(c, &alice.login_name, &alice.password).await;
        wait_for_page(c, "/ui/v2/login/otp/time-based", "#recovery-link").await;
        click(c, "#recovery-link").await;
        let page = wait_for_page(c, "/ui/v2/login/recovery", r#"input[name="code"]"#).await;
        assert!(
            page.text.contains("Each code can be used only once"),
            "{}",
            page.text
        );
        fill(c, "code", &code).await;
        submit_form_with(c, r#"input[name="code"]"#).await;
        if attempt == 0 {
            let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
            assert_eq!(id_token_claims(&tokens)["sub"], alice.user_id);
        } else {
            let page = wait_for_text(c, "Code is invalid").await;
            assert_eq!(page.path(), "/ui/v2/login/recovery");
            assert_no_callback(&mut listener).await;
        }
    }
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mfa_prompt_of_the_skip_lifetime_is_skipped_once_and_not_shown_again() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    set_login_policy(
        &emu,
        &json!({ "allowUsernamePassword": true, "mfaInitSkipLifetime": "3600s" }),
    )
    .await;
    let alice = seed_user(&emu, "alice");

    let (pkce, state) = open_login(c, &emu, &listener, &[]).await;
    enter_login_and_password(c, &alice.login_name, &alice.password).await;
    let page = wait_for_page(c, "/ui/v2/login/mfa/set", "#mfa-skip").await;
    assert!(page.text.contains("Skip"), "{}", page.text);
    click(c, "#mfa-skip").await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(id_token_claims(&tokens)["sub"], alice.user_id);
    assert!(!amr(&tokens).iter().any(|a| a == "mfa"), "{tokens}");

    // Within the lifetime the next password login goes straight to the client.
    let (pkce, state) = open_login(c, &emu, &listener, &[("prompt", "login")]).await;
    enter_login_and_password(c, &alice.login_name, &alice.password).await;
    let tokens = callback_tokens(&emu, &mut listener, &state, &pkce).await;
    assert_eq!(id_token_claims(&tokens)["sub"], alice.user_id);
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_ignore_unknown_usernames_an_unknown_name_fails_like_a_wrong_password() {
    let (emu, browser) = start().await;
    let c = browser.client();
    let mut listener = CallbackListener::start().await.unwrap();
    set_login_policy(
        &emu,
        &json!({ "allowUsernamePassword": true, "ignoreUnknownUsernames": true }),
    )
    .await;
    let alice = seed_user(&emu, "alice");
    let mut alerts = Vec::new();
    for login_name in ["nobody@acme.localhost", alice.login_name.as_str()] {
        open_login(c, &emu, &listener, &[("prompt", "login")]).await;
        enter_login_and_password(c, login_name, "Wrong-Password1!").await;
        let page = wait_for_text(c, "Password is invalid").await;
        assert_eq!(page.path(), "/ui/v2/login/password");
        let alert = c
            .find(Locator::Css("p.error[role=alert]"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        alerts.push(alert);
    }
    assert_eq!(alerts[0], alerts[1], "the two failures must look the same");
    assert_no_callback(&mut listener).await;
    browser.close().await;
    emu.shutdown().await;
}
