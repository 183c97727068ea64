//! Passkeys and security keys through sdk-core end to end against the
//! embedded zitadel-emulator, with the SDK's software authenticator:
//! registration, listing and removal, passwordless login, a security key as
//! second factor, a declining authenticator, keys kept in a file store, and
//! the login policy. Every SDK request is checked against the protos.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
mod pages;

use common::{PASSWORD, client, registered, start};
use serde_json::{Value, json};
use std::sync::Arc;
use zitadel_sdk::flows::mfa::AuthMethod;
use zitadel_sdk::software_authenticator::SoftwareAuthenticator;
use zitadel_sdk::store::{FileStore, MemoryStore};
use zitadel_sdk::{Error, ErrorCode, PasskeyAuthenticator};

fn soft_key(account: &str) -> SoftwareAuthenticator {
    SoftwareAuthenticator::new(Arc::new(MemoryStore::new()), account).unwrap()
}

/// A user who dismisses every prompt.
struct Declining;

#[async_trait::async_trait]
impl PasskeyAuthenticator for Declining {
    async fn create(&self, _: &str, _: &str) -> zitadel_sdk::Result<String> {
        Err(Error::host(ErrorCode::Cancelled, "the user declined"))
    }
    async fn get(&self, _: &str, _: &str) -> zitadel_sdk::Result<String> {
        Err(Error::host(ErrorCode::Cancelled, "the user declined"))
    }
}

/// An authenticator whose signatures are broken (a cloned or faulty key).
struct Tampering(SoftwareAuthenticator);

#[async_trait::async_trait]
impl PasskeyAuthenticator for Tampering {
    async fn create(&self, options: &str, origin: &str) -> zitadel_sdk::Result<String> {
        self.0.create(options, origin).await
    }
    async fn get(&self, options: &str, origin: &str) -> zitadel_sdk::Result<String> {
        let mut v: Value = serde_json::from_str(&self.0.get(options, origin).await?).unwrap();
        let sig = v["response"]["signature"].as_str().unwrap();
        let flipped = if sig.ends_with('A') { "B" } else { "A" };
        v["response"]["signature"] = json!(format!("{}{flipped}", &sig[..sig.len() - 1]));
        Ok(v.to_string())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_is_registered_listed_signs_in_without_a_password_and_fails_once_removed() {
    let emu = start().await;
    // Given a signed-in user and a software authenticator
    let c = registered(&emu, "amy@example.com").await;
    let key = soft_key("amy");
    let e = c.passkeys().register(&key, "  ").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);

    // When she registers a passkey with a name
    let passkey = c.passkeys().register(&key, "Laptop").await.unwrap();

    // Then it is listed, ready, under that name, and is an authentication method
    let listed = c.passkeys().list().await.unwrap();
    assert_eq!(listed, vec![passkey.clone()]);
    assert_eq!(listed[0].name.as_deref(), Some("Laptop"));
    assert!(listed[0].ready);
    assert!(
        c.mfa()
            .methods()
            .await
            .unwrap()
            .contains(&AuthMethod::Passkey)
    );
    let me = c.profile().get().await.unwrap().user_id;
    c.logout().await.unwrap();

    // When she signs in with the passkey and no password
    let signed_in = c
        .native_login()
        .passkey("amy@example.com", &key)
        .await
        .unwrap();

    // Then she is signed in as herself, with no MFA set-up asked for
    assert_eq!(signed_in.session.subject, me);
    assert_eq!(signed_in.mfa_setup_required, None);
    assert_eq!(c.profile().get().await.unwrap().user_id, me);

    // And an unknown login name and an authenticator without her key are typed errors
    let e = c
        .native_login()
        .passkey("nobody@example.com", &key)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    let e = c
        .native_login()
        .passkey("amy@example.com", &soft_key("someone-else"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    // When the passkey is removed
    let e = c.passkeys().remove("no-such-passkey").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    c.passkeys().remove(&passkey.id).await.unwrap();

    // Then it is gone and the passwordless login fails
    assert!(c.passkeys().list().await.unwrap().is_empty());
    let e = c
        .native_login()
        .passkey("amy@example.com", &key)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::FailedPrecondition, "{e}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assertion_with_a_broken_signature_is_refused_as_invalid_credentials() {
    let emu = start().await;
    // Given a user with a passkey in a store shared by a faulty authenticator
    let c = registered(&emu, "tim@example.com").await;
    let store: Arc<MemoryStore> = Arc::new(MemoryStore::new());
    let key = SoftwareAuthenticator::new(store.clone(), "tim").unwrap();
    c.passkeys().register(&key, "Phone").await.unwrap();
    c.logout().await.unwrap();

    // When it signs with a broken signature
    let faulty = Tampering(SoftwareAuthenticator::new(store, "tim").unwrap());
    let e = c
        .native_login()
        .passkey("tim@example.com", &faulty)
        .await
        .unwrap_err();

    // Then ZITADEL's refusal is a credentials error, and the right key still works
    assert_eq!(e.code(), ErrorCode::InvalidCredentials, "{e}");
    c.native_login()
        .passkey("tim@example.com", &key)
        .await
        .unwrap();
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_login_asks_for_the_security_key_as_second_factor_and_accepts_it() {
    let emu = start().await;
    // Given a user who added a U2F security key with a name
    let c = registered(&emu, "uma@example.com").await;
    let key = soft_key("uma");
    let added = c.mfa().add_u2f(&key, "YubiKey").await.unwrap();
    let keys = c.mfa().security_keys().await.unwrap();
    assert_eq!(keys, vec![added.clone()]);
    assert!(c.mfa().methods().await.unwrap().contains(&AuthMethod::U2f));
    c.logout().await.unwrap();

    // When she signs in with her password
    let mut login = c
        .native_login()
        .password("uma@example.com", PASSWORD)
        .await
        .unwrap();

    // Then the security key is asked for, and finishing without it is refused
    assert_eq!(login.second_factors(), vec![AuthMethod::U2f]);
    assert!(login.needs_second_factor());
    let e = login.check_u2f(&soft_key("not-uma")).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    assert!(login.needs_second_factor());

    // When her key signs the challenge, the login finishes as her
    login.check_u2f(&key).await.unwrap();
    assert!(!login.needs_second_factor());
    let signed_in = login.finish().await.unwrap();
    assert_eq!(
        signed_in.session.subject,
        c.profile().get().await.unwrap().user_id
    );

    // And a security key is no passkey: it does not sign in without a password
    let e = c
        .native_login()
        .passkey("uma@example.com", &key)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::FailedPrecondition, "{e}");

    // And removing it leaves no security key
    c.mfa().remove_u2f(&added.id).await.unwrap();
    assert!(c.mfa().security_keys().await.unwrap().is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declining_authenticator_yields_cancelled_and_leaves_nothing_half_registered() {
    let emu = start().await;
    let c = registered(&emu, "dan@example.com").await;

    // When the user declines the passkey and the security key registration
    let e = c
        .passkeys()
        .register(&Declining, "Laptop")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Cancelled, "{e}");
    let e = c.mfa().add_u2f(&Declining, "YubiKey").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Cancelled, "{e}");

    // Then no pending registration is left behind
    assert!(c.passkeys().list().await.unwrap().is_empty());
    assert!(c.mfa().security_keys().await.unwrap().is_empty());

    // When a user with a passkey and a security key declines at login
    let key = soft_key("dan");
    c.passkeys().register(&key, "Laptop").await.unwrap();
    c.mfa().add_u2f(&key, "YubiKey").await.unwrap();
    c.logout().await.unwrap();
    let e = c
        .native_login()
        .passkey("dan@example.com", &Declining)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Cancelled, "{e}");
    let mut login = c
        .native_login()
        .password("dan@example.com", PASSWORD)
        .await
        .unwrap();
    let e = login.check_u2f(&Declining).await.unwrap_err();

    // Then the login is cancelled and can still be completed
    assert_eq!(e.code(), ErrorCode::Cancelled, "{e}");
    login.check_u2f(&key).await.unwrap();
    login.finish().await.unwrap();
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkeys_kept_in_a_file_store_sign_in_from_a_new_authenticator_instance() {
    let emu = start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = registered(&emu, "fay@example.com").await;

    // Given a passkey registered by an authenticator keeping its keys in a file store
    {
        let store = Arc::new(FileStore::new(dir.path()).unwrap());
        let key = SoftwareAuthenticator::new(store, "fay").unwrap();
        c.passkeys().register(&key, "Desktop").await.unwrap();
    }
    c.logout().await.unwrap();

    // When a new authenticator opens the same directory (as after a restart)
    let store = Arc::new(FileStore::new(dir.path()).unwrap());
    let key = SoftwareAuthenticator::new(store.clone(), "fay").unwrap();
    assert_eq!(key.credential_count().await.unwrap(), 1);

    // Then it signs in, twice (the signature counter is kept)
    for _ in 0..2 {
        c.native_login()
            .passkey("fay@example.com", &key)
            .await
            .unwrap();
    }
    // And another account of the same store holds no key
    let other = SoftwareAuthenticator::new(store, "gus").unwrap();
    assert_eq!(other.credential_count().await.unwrap(), 0);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwordless_login_is_refused_when_the_login_policy_does_not_allow_passkeys() {
    let emu = start().await;
    // Given a user with a passkey
    let c = registered(&emu, "pia@example.com").await;
    let key = soft_key("pia");
    c.passkeys().register(&key, "Laptop").await.unwrap();
    c.logout().await.unwrap();

    // When a manager turns passwordless login off for the org
    pages::set_login_policy(
        &emu,
        &json!({"allowUsernamePassword": true, "allowRegister": true,
                "passwordlessType": "PASSWORDLESS_TYPE_NOT_ALLOWED"}),
    )
    .await;

    // Then the passwordless login is refused before any session is made
    let fresh = client(&emu);
    let e = fresh
        .native_login()
        .passkey("pia@example.com", &key)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::FailedPrecondition, "{e}");
    assert!(e.message().contains("policy"), "{e}");
    // And the password still works
    fresh
        .native_login()
        .password("pia@example.com", PASSWORD)
        .await
        .unwrap()
        .finish()
        .await
        .unwrap();
    emu.shutdown().await;
}
