//! The self-service flows of sdk-core end to end against the embedded
//! zitadel-emulator: native registration, Session-API login with second
//! factors, profile, email, phone, password, MFA, recovery codes, sessions,
//! metadata and IdP links — each with its error paths. No browser: codes
//! are read from the emulator's outbox or computed as an authenticator app
//! would, and the test IdP's form is filled over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{PASSWORD, client, last_code, new_user, registered, signed_in_as, start};
use std::time::Duration;
use zitadel_emulator::scripted::{TestIdpUser, test_idp_sign_in, totp_code};
use zitadel_sdk::flows::mfa::AuthMethod;
use zitadel_sdk::flows::password::ResetDelivery;
use zitadel_sdk::flows::profile::{Gender, ProfileUpdate};
use zitadel_sdk::flows::registration::IdpRegistration;
use zitadel_sdk::flows::verification::CodeDelivery;
use zitadel_sdk::{BrowserLauncher, CancellationToken, Client, ErrorCode, PasswordRule, Url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_registration_with_terms_policy_and_email_code_ends_signed_in() {
    // Given an emulator whose org allows registration
    let emu = start().await;
    let c = client(&emu);
    let rules = c.registration().rules().await.unwrap();
    assert!(rules.login.allow_register);
    assert!(rules.legal.tos_link.is_some() && rules.legal.privacy_policy_link.is_some());

    // When the terms are not accepted, or the password is weak, nothing is created
    let mut user = new_user("grace@example.com");
    user.accepted_terms = false;
    let e = c
        .registration()
        .register(&user, &CodeDelivery::Send)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    let mut weak = new_user("grace@example.com");
    weak.password = "short".into();
    let e = c
        .registration()
        .register(&weak, &CodeDelivery::Send)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PasswordPolicy);
    assert!(e.unmet_password_rules().contains(&PasswordRule::MinLength));
    assert!(e.unmet_password_rules().contains(&PasswordRule::Number));

    // When the user registers with a mailed code, types a wrong one, then asks again
    let mut pending = c
        .registration()
        .register(&new_user("grace@example.com"), &CodeDelivery::Send)
        .await
        .unwrap();
    let first = last_code(&emu, "grace@example.com");
    let e = pending.verify_email("WRONG1").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::WrongCode);
    pending
        .resend_email_code(&CodeDelivery::Send)
        .await
        .unwrap();
    let second = last_code(&emu, "grace@example.com");
    assert_ne!(first, second);
    pending.verify_email(&second).await.unwrap();

    // Then the sign-in ends in the same session as a browser login
    let signed_in = pending.finish().await.unwrap();
    assert!(signed_in.session.has_refresh_token);
    assert_eq!(signed_in.mfa_setup_required, None);
    let me = c.profile().get().await.unwrap();
    assert_eq!(me.user_id, signed_in.session.subject);
    assert!(me.email_verified);
    // and an already verified email cannot be re-sent a code
    let e = c.email().resend(&CodeDelivery::Return).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::FailedPrecondition, "{e}");

    // And finishing before the email is verified is refused
    let unverified = client(&emu)
        .registration()
        .register(&new_user("late@example.com"), &CodeDelivery::Return)
        .await
        .unwrap();
    let e = unverified.finish().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::FailedPrecondition);

    // And the same user name cannot register twice
    let e = client(&emu)
        .registration()
        .register(&new_user("grace@example.com"), &CodeDelivery::Return)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists, "{e}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_login_asks_for_the_users_totp_and_counts_wrong_passwords() {
    let emu = start().await;
    let c = registered(&emu, "ada@example.com").await;

    // Given a user with TOTP set up through the MFA flow
    let e = c.mfa().verify_totp("123456").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "nothing registered yet: {e}");
    let enrollment = c.mfa().add_totp().await.unwrap();
    assert!(enrollment.uri.expose().starts_with("otpauth://totp/"));
    let e = c.mfa().verify_totp("000000").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::WrongCode, "{e}");
    let code = totp_code(enrollment.secret.expose()).unwrap();
    c.mfa().verify_totp(&code).await.unwrap();
    assert!(c.mfa().methods().await.unwrap().contains(&AuthMethod::Totp));
    let e = c.mfa().add_totp().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists, "{e}");
    c.logout().await.unwrap();

    // When a wrong password is given, the failed attempts are reported
    let e = c
        .native_login()
        .password("ada@example.com", "Wrong-pass1")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidCredentials);
    assert_eq!(e.failed_attempts(), Some(1));
    let e = c
        .native_login()
        .password("nobody@example.com", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");

    // When the right password is given, the user's second factor is asked for
    let mut login = c
        .native_login()
        .password("ada@example.com", PASSWORD)
        .await
        .unwrap();
    assert_eq!(login.second_factors(), vec![AuthMethod::Totp]);
    assert!(login.needs_second_factor());
    let e = login.check_totp("000000").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::WrongCode, "{e}");
    login
        .check_totp(&totp_code(enrollment.secret.expose()).unwrap())
        .await
        .unwrap();

    // Then the login finishes signed in as that user
    let signed_in = login.finish().await.unwrap();
    assert_eq!(
        signed_in.session.subject,
        c.profile().get().await.unwrap().user_id
    );
    c.mfa().remove_totp().await.unwrap();
    assert!(!c.mfa().methods().await.unwrap().contains(&AuthMethod::Totp));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finishing_a_native_login_before_the_second_factor_is_refused() {
    let emu = start().await;
    let c = registered(&emu, "eve@example.com").await;
    let codes = c.mfa().generate_recovery_codes(3).await.unwrap();
    assert_eq!(codes.len(), 3);
    c.logout().await.unwrap();

    let login = c
        .native_login()
        .password("eve@example.com", PASSWORD)
        .await
        .unwrap();
    assert!(login.second_factors().contains(&AuthMethod::RecoveryCodes));
    let e = login.finish().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);

    // A recovery code works once
    let mut login = c
        .native_login()
        .password("eve@example.com", PASSWORD)
        .await
        .unwrap();
    login.check_recovery_code(codes[0].expose()).await.unwrap();
    login.finish().await.unwrap();
    c.logout().await.unwrap();
    let mut again = c
        .native_login()
        .password("eve@example.com", PASSWORD)
        .await
        .unwrap();
    let e = again
        .check_recovery_code(codes[0].expose())
        .await
        .unwrap_err();
    assert!(
        matches!(e.code(), ErrorCode::WrongCode | ErrorCode::InvalidInput),
        "{e}"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_email_phone_and_metadata_of_the_signed_in_user() {
    let emu = start().await;
    let c = registered(&emu, "lin@example.com").await;

    // Profile
    let e = c
        .profile()
        .update(&ProfileUpdate::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    c.profile()
        .update(&ProfileUpdate {
            nick_name: Some("lini".into()),
            display_name: Some("Lin the Great".into()),
            preferred_language: Some("de".into()),
            gender: Some(Gender::Diverse),
            ..Default::default()
        })
        .await
        .unwrap();
    let me = c.profile().get().await.unwrap();
    assert_eq!(me.nick_name.as_deref(), Some("lini"));
    assert_eq!(me.display_name, "Lin the Great");
    assert_eq!(me.gender, Gender::Diverse);
    assert_eq!(me.preferred_language.as_deref(), Some("de"));

    // Email change: a new code by mail, a wrong one refused, resend, verify
    let e = c
        .email()
        .set("not-an-email", &CodeDelivery::Send)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    c.email()
        .set("lin@new.example", &CodeDelivery::Send)
        .await
        .unwrap();
    assert!(!c.profile().get().await.unwrap().email_verified);
    assert_eq!(
        c.email().verify("BADBAD").await.unwrap_err().code(),
        ErrorCode::WrongCode
    );
    c.email().resend(&CodeDelivery::Send).await.unwrap();
    c.email()
        .verify(&last_code(&emu, "lin@new.example"))
        .await
        .unwrap();
    let me = c.profile().get().await.unwrap();
    assert_eq!(me.email.as_deref(), Some("lin@new.example"));
    assert!(me.email_verified);

    // OTP by email needs the verified email; OTP by SMS a verified phone
    c.mfa().add_otp_email().await.unwrap();
    assert!(
        c.mfa()
            .methods()
            .await
            .unwrap()
            .contains(&AuthMethod::OtpEmail)
    );
    c.mfa().remove_otp_email().await.unwrap();
    assert_eq!(
        c.mfa().add_otp_sms().await.unwrap_err().code(),
        ErrorCode::FailedPrecondition
    );

    // Phone: set (code by SMS), resend, verify, then OTP SMS, then remove
    let e = c
        .phone()
        .set("12345", &CodeDelivery::Send)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    c.phone()
        .set("+41 79 123 45 67", &CodeDelivery::Send)
        .await
        .unwrap();
    c.phone().resend(&CodeDelivery::Send).await.unwrap();
    assert_eq!(
        c.phone().verify("000000").await.unwrap_err().code(),
        ErrorCode::WrongCode
    );
    c.phone()
        .verify(&last_code(&emu, "+41791234567"))
        .await
        .unwrap();
    let me = c.profile().get().await.unwrap();
    assert_eq!(me.phone.as_deref(), Some("+41791234567"));
    assert!(me.phone_verified);
    c.mfa().add_otp_sms().await.unwrap();
    c.mfa().remove_otp_sms().await.unwrap();
    c.phone().remove().await.unwrap();
    assert_eq!(c.profile().get().await.unwrap().phone, None);

    // Metadata
    c.profile().set_metadata("team", "compilers").await.unwrap();
    let md = c.profile().metadata().await.unwrap();
    assert!(
        md.items
            .iter()
            .any(|m| m.key == "team" && m.value == "compilers")
    );
    c.profile().remove_metadata(&["team"]).await.unwrap();
    assert!(c.profile().metadata().await.unwrap().items.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_and_reset_check_the_policy_and_the_code() {
    let emu = start().await;
    let c = registered(&emu, "max@example.com").await;

    // Change: weak (nothing sent), wrong current, then right
    let e = c.password().change(PASSWORD, "weak").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::PasswordPolicy);
    assert!(!e.unmet_password_rules().is_empty());
    let e = c
        .password()
        .change("Not-the-pass1", "Another-Pass2")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidCredentials, "{e}");
    c.password()
        .change(PASSWORD, "Another-Pass2")
        .await
        .unwrap();
    c.logout().await.unwrap();
    c.native_login()
        .password("max@example.com", "Another-Pass2")
        .await
        .unwrap()
        .finish()
        .await
        .unwrap();
    c.logout().await.unwrap();

    // Reset through the login client, for a user who cannot sign in
    let started = c
        .password()
        .request_reset_for("max@example.com", &ResetDelivery::Email)
        .await
        .unwrap();
    let code = last_code(&emu, "max@example.com");
    let e = c
        .password()
        .set_with_code(&started.user_id, "WRONGCODE", "Third-Pass3")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::WrongCode, "{e}");
    let e = c
        .password()
        .set_with_code(&started.user_id, &code, "weak")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PasswordPolicy);
    c.password()
        .set_with_code(&started.user_id, &code, "Third-Pass3")
        .await
        .unwrap();
    c.native_login()
        .password("max@example.com", "Third-Pass3")
        .await
        .unwrap()
        .finish()
        .await
        .unwrap();
    let e = c
        .password()
        .request_reset_for("nobody@example.com", &ResetDelivery::Return)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_listed_and_ending_all_signs_out_everywhere() {
    let emu = start().await;
    let c = registered(&emu, "kim@example.com").await;
    // a second device
    let other = signed_in_as(&emu, "kim@example.com", PASSWORD).await;

    let sessions = c.sessions().list().await.unwrap();
    assert!(sessions.items.len() >= 2, "{sessions:?}");
    assert_eq!(sessions.items.iter().filter(|s| s.current).count(), 1);
    let e = c.sessions().end("no-such-session").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");

    let ended = c.sessions().end_all().await.unwrap();
    assert!(ended.ended >= 2);
    assert_eq!(
        c.profile().get().await.unwrap_err().code(),
        ErrorCode::NotSignedIn
    );
    // the other device's tokens stopped working too
    let e = other.profile().get().await.unwrap_err();
    assert!(
        matches!(e.code(), ErrorCode::NotSignedIn | ErrorCode::SessionExpired),
        "{e}"
    );
    emu.shutdown().await;
}

/// A "browser" that signs in at the emulator's test IdP over HTTP.
struct TestIdpBrowser(TestIdpUser);

#[zitadel_sdk::async_trait]

impl BrowserLauncher for TestIdpBrowser {
    async fn open(&self, url: &Url, _redirect_uri: &Url) -> zitadel_sdk::Result<Option<Url>> {
        let (url, user) = (url.to_string(), self.0.clone());
        tokio::spawn(async move {
            let _ = test_idp_sign_in(&url, &user).await;
        });
        Ok(None)
    }
}

fn idp_user(subject: &str) -> TestIdpBrowser {
    TestIdpBrowser(TestIdpUser {
        subject: subject.into(),
        username: format!("{subject}.ext"),
        email: format!("{subject}@idp.example"),
        given_name: "Ext".into(),
        family_name: "Ernal".into(),
    })
}

async fn test_idp_id(c: &Client) -> String {
    let idps = c.settings().identity_providers(None).await.unwrap();
    idps.into_iter().find(|i| i.name == "Test IdP").unwrap().id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idp_registration_prefills_a_draft_links_the_account_and_signs_in_again() {
    let emu = start().await;
    let c = client(&emu);
    let idp = test_idp_id(&c).await;
    let wait = Duration::from_secs(20);
    let cancel = CancellationToken::new();

    // A new external user gets a draft pre-filled from the IdP's profile
    let r = c
        .registration()
        .with_idp(&idp, &idp_user("ext-1"), wait, &cancel)
        .await
        .unwrap();
    let IdpRegistration::Draft(mut draft) = r else {
        panic!("expected a draft for a new external user")
    };
    assert_eq!(draft.email, "ext-1@idp.example");
    assert_eq!(draft.given_name, "Ext");
    let e = c
        .registration()
        .create_from_draft(&draft)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput, "terms not accepted");
    draft.given_name = "Edited".into();
    draft.accepted_terms = true;
    let signed_in = c.registration().create_from_draft(&draft).await.unwrap();
    assert_eq!(c.profile().get().await.unwrap().given_name, "Edited");
    let links = c.links().list().await.unwrap();
    assert_eq!(links.items.len(), 1);
    assert_eq!(links.items[0].linked_user_id, "ext-1");
    c.logout().await.unwrap();

    // The same external account signs in again, as the same user
    let again = c
        .registration()
        .with_idp(&idp, &idp_user("ext-1"), wait, &cancel)
        .await
        .unwrap();
    let IdpRegistration::SignedIn(again) = again else {
        panic!("a linked account signs in")
    };
    assert_eq!(again.session.subject, signed_in.session.subject);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_user_links_and_unlinks_an_idp_account() {
    let emu = start().await;
    let c = registered(&emu, "noor@example.com").await;
    let idp = test_idp_id(&c).await;
    assert!(c.links().list().await.unwrap().items.is_empty());
    let link = c
        .links()
        .add(
            &idp,
            &idp_user("ext-9"),
            Duration::from_secs(20),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(link.linked_user_id, "ext-9");
    assert_eq!(c.links().list().await.unwrap().items.len(), 1);
    let e = c.links().remove(&idp, "not-linked").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    c.links().remove(&idp, "ext-9").await.unwrap();
    assert!(c.links().list().await.unwrap().items.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_without_a_login_client_or_a_session_fail_with_typed_errors() {
    let emu = start().await;
    let info = emu.seed_info();
    let plain = Client::builder(emu.issuer(), &info.client_id)
        .build()
        .unwrap();
    let e = plain.registration().rules().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Misconfigured);
    let e = plain.profile().get().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotSignedIn);
    let bad = Client::builder(emu.issuer(), &info.client_id)
        .login_client_token("not-a-valid-token")
        .build()
        .unwrap();
    let e = bad
        .native_login()
        .password("a@b.example", "x")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Misconfigured);
    emu.shutdown().await;
}

/// Requests of one flow: the client's HTTP request count before and after.
async fn count<T>(c: &Client, f: impl std::future::Future<Output = T>) -> (T, u64) {
    let before = c.request_count();
    let v = f.await;
    (v, c.request_count() - before)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_counts_per_flow_stay_at_the_api_minimum() {
    // Given warm caches (discovery, JWKS, settings, the login client's id)
    let emu = start().await;
    let c = registered(&emu, "warm@example.com").await;
    c.logout().await.unwrap();

    // Native registration with the email code: AddHumanUser, CreateSession,
    // VerifyEmail, authorize, CreateCallback, token.
    let (r, n_register) = count(&c, async {
        let mut p = c
            .registration()
            .register(&new_user("count@example.com"), &CodeDelivery::Return)
            .await?;
        let code = p.returned_email_code().unwrap().expose().to_owned();
        p.verify_email(&code).await?;
        p.finish().await
    })
    .await;
    let me = r.unwrap().session.subject;
    let enrollment = c.mfa().add_totp().await.unwrap();
    c.mfa()
        .verify_totp(&totp_code(enrollment.secret.expose()).unwrap())
        .await
        .unwrap();
    c.logout().await.unwrap();

    // Password + TOTP by login name: CreateSession, GetSession (the user
    // id), ListAuthenticationMethodTypes, SetSession, authorize,
    // CreateCallback, token.
    let secret = enrollment.secret.expose().to_owned();
    let (r, n_totp_login) = count(&c, async {
        let mut l = c
            .native_login()
            .password("count@example.com", PASSWORD)
            .await?;
        l.check_totp(&totp_code(&secret).unwrap()).await?;
        l.finish().await
    })
    .await;
    r.unwrap();
    c.logout().await.unwrap();
    // The same for a known user id (a returning user): no GetSession.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (r, n_totp_login_id) = count(&c, async {
        let mut l = c.native_login().password_for_user_id(&me, PASSWORD).await?;
        l.check_totp(&totp_code(&secret).unwrap()).await?;
        l.finish().await
    })
    .await;
    r.unwrap();

    // Password reset: ListUsers (by login name), PasswordReset, SetPassword.
    let (r, n_reset) = count(&c, async {
        let s = c
            .password()
            .request_reset_for("count@example.com", &ResetDelivery::Return)
            .await?;
        let code = s.code.clone().unwrap();
        c.password()
            .set_with_code(&s.user_id, code.expose(), "Reset-Pass-99")
            .await
    })
    .await;
    r.unwrap();

    let rows = [
        ("native registration with email code", n_register, 6),
        ("password + TOTP login (login name)", n_totp_login, 7),
        ("password + TOTP login (user id known)", n_totp_login_id, 6),
        ("password reset (by login name)", n_reset, 3),
    ];
    for (flow, n, max) in rows {
        println!("{flow:<45} {n} requests (at most {max})");
        assert!(n <= max, "{flow}: {n} requests, expected at most {max}");
    }
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_code_is_told_apart_from_a_wrong_one_and_a_resend_recovers() {
    let emu = start().await;
    let c = client(&emu);
    // Given a registration whose email code expired
    let mut pending = c
        .registration()
        .register(&new_user("slow@example.com"), &CodeDelivery::Return)
        .await
        .unwrap();
    let code = pending.returned_email_code().unwrap().expose().to_owned();
    emu.expire_pending_codes();
    // When the right but expired code is typed, it is CodeExpired, not WrongCode
    let e = pending.verify_email(&code).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::CodeExpired, "{e}");
    // Then a new code works
    let fresh = pending
        .resend_email_code(&CodeDelivery::Return)
        .await
        .unwrap()
        .unwrap();
    pending.verify_email(fresh.expose()).await.unwrap();
    pending.finish().await.unwrap();

    // The same for the phone
    c.phone()
        .set("+41790000001", &CodeDelivery::Send)
        .await
        .unwrap();
    let code = last_code(&emu, "+41790000001");
    emu.expire_pending_codes();
    assert_eq!(
        c.phone().verify(&code).await.unwrap_err().code(),
        ErrorCode::CodeExpired
    );
    c.phone().resend(&CodeDelivery::Send).await.unwrap();
    c.phone()
        .verify(&last_code(&emu, "+41790000001"))
        .await
        .unwrap();
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_login_checks_a_one_time_password_by_email_or_sms() {
    // Given a user with OTP by email (verified email) and OTP by SMS (verified phone)
    let emu = start().await;
    let c = registered(&emu, "otp@example.com").await;
    c.mfa().add_otp_email().await.unwrap();
    c.phone()
        .set("+41790000002", &CodeDelivery::Send)
        .await
        .unwrap();
    c.phone()
        .verify(&last_code(&emu, "+41790000002"))
        .await
        .unwrap();
    c.mfa().add_otp_sms().await.unwrap();
    c.logout().await.unwrap();

    // When the login asks for the email code (sent by mail), a wrong one is refused
    let mut login = c
        .native_login()
        .password("otp@example.com", PASSWORD)
        .await
        .unwrap();
    let factors = login.second_factors();
    assert!(factors.contains(&AuthMethod::OtpEmail) && factors.contains(&AuthMethod::OtpSms));
    assert_eq!(login.send_otp_email(false).await.unwrap(), None);
    let code = last_code(&emu, "otp@example.com");
    let e = login.check_otp_email("00000000").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::WrongCode, "{e}");
    login.check_otp_email(&code).await.unwrap();
    // Then it finishes signed in
    login.finish().await.unwrap();
    c.logout().await.unwrap();

    // And the SMS code (returned to a trusted host here) works the same way
    let mut login = c
        .native_login()
        .password("otp@example.com", PASSWORD)
        .await
        .unwrap();
    let code = login.send_otp_sms(true).await.unwrap().unwrap();
    login.check_otp_sms(code.expose()).await.unwrap();
    login.finish().await.unwrap();
    emu.shutdown().await;
}
