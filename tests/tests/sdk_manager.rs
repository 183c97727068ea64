//! The manager operations of sdk-core end to end against the embedded
//! zitadel-emulator: users, roles, members, identity providers, policies
//! and organizations, by a signed-in `ORG_OWNER`, refused to a plain user,
//! and by a service user signed in with a PAT, client credentials and a
//! key file. Every SDK request is checked against the protos at shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{Emu, client, last_code, login_idps, signed_in_as, start};
use zitadel_emulator::scripted::totp_code;
use zitadel_sdk::flows::mfa::AuthMethod;
use zitadel_sdk::flows::settings::{PasswordPolicy, SecondFactorType};
use zitadel_sdk::flows::verification::CodeDelivery;
use zitadel_sdk::manager::{
    IdpOptions, LockoutPolicy, LoginPolicyUpdate, ManagerClient, NewHuman, NewIdp, NewMachine,
    SecondFactor, ServiceCredential, UserSearch, UserState,
};
use zitadel_sdk::{Client, ErrorCode, PasswordRule, Secret};

const SEED_PASSWORD: &str = "Password1!";
const PASSWORD: &str = "Sup3r-Secret!";

/// A client signed in as a seeded user through the native login.
async fn signed_in(emu: &Emu, login_name: &str) -> Client {
    signed_in_as(emu, login_name, SEED_PASSWORD).await
}

async fn manager(emu: &Emu) -> ManagerClient {
    signed_in(emu, "manager@acme.localhost").await.manager()
}

fn human(name: &str, password: Option<&str>) -> NewHuman {
    NewHuman {
        username: Some(name.into()),
        given_name: "Test".into(),
        family_name: name.into(),
        email: format!("{name}@example.com"),
        email_verified: true,
        password: password.map(str::to_owned),
        ..Default::default()
    }
}

async fn create(m: &ManagerClient, name: &str, password: Option<&str>) -> String {
    m.create_human(&human(name, password), &CodeDelivery::Send)
        .await
        .unwrap()
        .user_id
}

async fn state(m: &ManagerClient, id: &str) -> String {
    m.user(id).await.unwrap().state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_searches_creates_locks_unlocks_deactivates_reactivates_and_deletes_users() {
    // Given the seeded org owner, signed in
    let emu = start().await;
    let m = manager(&emu).await;

    // When she searches by email domain and by state
    let found = m
        .search_users(&UserSearch {
            email: Some("acme.localhost".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    // Then the three seeded humans are found, and nobody is locked
    assert_eq!(found.total, 3, "{found:?}");
    assert!(found.items.iter().any(|u| u.username == "alice"));
    let locked = UserSearch {
        state: Some(UserState::Locked),
        ..Default::default()
    };
    assert_eq!(m.search_users(&locked).await.unwrap().total, 0);
    let page = m
        .search_users(&UserSearch {
            limit: 1,
            offset: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);

    // When she creates a human with a password and a service user
    let id = create(&m, "bob", Some(PASSWORD)).await;
    let bob = m.user(&id).await.unwrap();
    assert_eq!(bob.email.as_deref(), Some("bob@example.com"));
    assert!(bob.email_verified && !bob.machine);
    let machine = m
        .create_machine(&NewMachine {
            username: "robot".into(),
            name: "Robot".into(),
            description: Some("CI".into()),
        })
        .await
        .unwrap();
    assert!(m.user(&machine).await.unwrap().machine);
    let e = m
        .create_human(&human("bob", Some(PASSWORD)), &CodeDelivery::Send)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists, "{e}");
    let by_name = UserSearch {
        login_name: Some("bob@".into()),
        ..Default::default()
    };
    assert_eq!(m.search_users(&by_name).await.unwrap().items[0].user_id, id);

    // When she locks him, he cannot sign in, and locking twice is refused
    m.lock_user(&id).await.unwrap();
    assert_eq!(state(&m, &id).await, "USER_STATE_LOCKED");
    assert_eq!(m.search_users(&locked).await.unwrap().total, 1);
    let e = client(&emu)
        .native_login()
        .password("bob", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::UserLocked, "{e}");
    let e = m.lock_user(&id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::FailedPrecondition, "{e}");

    // Then unlocking lets him sign in again
    m.unlock_user(&id).await.unwrap();
    let login = client(&emu).native_login().password("bob", PASSWORD).await;
    assert!(login.is_ok(), "{:?}", login.err());

    // When she deactivates and reactivates him, the state follows
    m.deactivate_user(&id).await.unwrap();
    assert_eq!(state(&m, &id).await, "USER_STATE_INACTIVE");
    let e = m.deactivate_user(&id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::FailedPrecondition, "{e}");
    let e = client(&emu)
        .native_login()
        .password("bob", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::FailedPrecondition, "{e}");
    assert!(e.to_string().contains("deactivated"), "{e}");
    m.reactivate_user(&id).await.unwrap();
    assert_eq!(state(&m, &id).await, "USER_STATE_ACTIVE");

    // When she deletes him, he is gone
    m.delete_user(&id).await.unwrap();
    assert_eq!(m.user(&id).await.unwrap_err().code(), ErrorCode::NotFound);
    let e = m.lock_user(&id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_assigns_changes_and_revokes_roles_and_adds_and_removes_an_org_member() {
    // Given the org owner and a new user without grants
    let emu = start().await;
    let project = emu.seed_info().project_id.clone();
    let m = manager(&emu).await;
    let id = create(&m, "carol", Some(PASSWORD)).await;
    assert_eq!(m.grants(Some(&id)).await.unwrap().total, 0);

    // When she grants the user the role `user` of the project
    let grant = m.add_grant(&id, &project, &["user"]).await.unwrap();
    // Then it is listed, and a second grant on the project is refused
    let grants = m.grants(Some(&id)).await.unwrap();
    assert_eq!(grants.items.len(), 1);
    assert_eq!(grants.items[0].id, grant);
    assert_eq!(grants.items[0].role_keys, vec!["user".to_owned()]);
    let e = m.add_grant(&id, &project, &["admin"]).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists, "{e}");
    assert!(
        m.grants(None).await.unwrap().total >= 4,
        "the seeded grants too"
    );

    // When she changes the roles, then revokes the grant
    m.change_grant(&id, &grant, &["admin", "user"])
        .await
        .unwrap();
    let roles = &m.grants(Some(&id)).await.unwrap().items[0].role_keys;
    assert_eq!(roles.len(), 2);
    let e = m
        .change_grant(&id, &grant, &["no-such-role"])
        .await
        .unwrap_err();
    assert_ne!(e.code(), ErrorCode::PermissionDenied, "{e}");
    m.remove_grant(&id, &grant).await.unwrap();
    // Then the user has no grant left, and revoking again fails
    assert_eq!(m.grants(Some(&id)).await.unwrap().total, 0);
    let e = m.remove_grant(&id, &grant).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");

    // When she makes the user a user manager of the org
    let e = m.add_member(&id, &["IAM_OWNER"]).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput, "checked locally: {e}");
    m.add_member(&id, &["ORG_USER_MANAGER"]).await.unwrap();
    let members = m.members().await.unwrap();
    let member = members.items.iter().find(|x| x.user_id == id).unwrap();
    assert_eq!(member.roles, vec!["ORG_USER_MANAGER".to_owned()]);
    let e = m.add_member(&id, &["ORG_OWNER"]).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists, "{e}");

    // Then the new member can manage users with her own token
    let carol = signed_in_as(&emu, "carol", PASSWORD).await;
    assert!(
        carol
            .manager()
            .search_users(&UserSearch::default())
            .await
            .unwrap()
            .total
            >= 4
    );
    // but not set policies
    let e = carol
        .manager()
        .set_lockout_policy(&LockoutPolicy::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PermissionDenied, "{e}");

    // When her roles change and she is removed, the members list follows
    m.change_member(&id, &["ORG_OWNER"]).await.unwrap();
    let members = m.members().await.unwrap();
    let member = members.items.iter().find(|x| x.user_id == id).unwrap();
    assert_eq!(member.roles, vec!["ORG_OWNER".to_owned()]);
    m.remove_member(&id).await.unwrap();
    assert!(
        !m.members()
            .await
            .unwrap()
            .items
            .iter()
            .any(|x| x.user_id == id)
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_adds_a_generic_oidc_idp_and_activates_it_in_the_login_policy() {
    // Given the org owner of an org that inherits the instance's login policy
    let emu = start().await;
    let info = emu.seed_info();
    let m = manager(&emu).await;
    assert!(!m.login_policy().await.unwrap().custom);

    // When she adds a generic OIDC provider
    let idp = NewIdp::GenericOidc {
        name: "Corp SSO".into(),
        issuer: "https://login.corp.example".into(),
        client_id: "zitadel".into(),
        client_secret: Secret::new("s3cret"),
        scopes: vec!["openid".into(), "profile".into(), "email".into()],
        id_token_mapping: true,
        use_pkce: true,
    };
    let id = m.add_idp(&idp, &IdpOptions::default()).await.unwrap();
    let idps = m.idps().await.unwrap();
    let listed = idps.iter().find(|i| i.id == id).unwrap();
    assert_eq!(listed.name, "Corp SSO");
    assert!(!listed.instance);
    assert!(
        idps.iter().any(|i| i.instance),
        "the instance's test IdP too"
    );

    // And activates it in the org's login policy
    m.activate_idp(&id).await.unwrap();

    // Then the org has its own login policy offering it (with the
    // inherited instance IdP kept), and the login settings list it
    let policy = m.login_policy().await.unwrap();
    assert!(policy.custom && policy.allow_external_idp);
    assert!(policy.idp_ids.contains(&id));
    assert_eq!(policy.idp_ids.len(), 2, "{policy:?}");
    let listed = login_idps(&emu, Some(&info.org_id)).await;
    assert!(listed.contains(&id), "{listed:?}");
    let e = m.activate_idp(&id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists, "{e}");

    // When it is deactivated and removed, it is gone from both
    m.deactivate_idp(&id).await.unwrap();
    assert!(!login_idps(&emu, Some(&info.org_id)).await.contains(&id));
    m.remove_idp(&id).await.unwrap();
    assert!(!m.idps().await.unwrap().iter().any(|i| i.id == id));
    let e = m.activate_idp(&id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_adds_google_github_azure_ad_and_apple_idps_and_activates_them() {
    // Given the org owner
    let emu = start().await;
    let m = manager(&emu).await;
    let secret = || Secret::new("s");
    let kinds = [
        NewIdp::Google {
            name: "Google".into(),
            client_id: "g".into(),
            client_secret: secret(),
            scopes: vec!["openid".into()],
        },
        NewIdp::GitHub {
            name: "GitHub".into(),
            client_id: "gh".into(),
            client_secret: secret(),
            scopes: vec![],
        },
        NewIdp::AzureAd {
            name: "Entra".into(),
            client_id: "az".into(),
            client_secret: secret(),
            tenant_id: Some("tenant-1".into()),
            email_verified: true,
            scopes: vec![],
        },
        NewIdp::Apple {
            name: "Apple".into(),
            client_id: "com.example.service".into(),
            team_id: "TEAM".into(),
            key_id: "KEY".into(),
            private_key: Secret::new("-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----"),
            scopes: vec!["name".into(), "email".into()],
        },
    ];
    let org = emu.seed_info().org_id.clone();
    for (idp, kind) in kinds.iter().zip([
        "PROVIDER_TYPE_GOOGLE",
        "PROVIDER_TYPE_GITHUB",
        "PROVIDER_TYPE_AZURE_AD",
        "PROVIDER_TYPE_APPLE",
    ]) {
        // When she adds it and activates it in the login policy
        let id = m.add_idp(idp, &IdpOptions::default()).await.unwrap();
        m.activate_idp(&id).await.unwrap();
        // Then it is listed with its kind, and the login settings offer it
        let idps = m.idps().await.unwrap();
        let listed = idps.iter().find(|i| i.id == id).unwrap();
        assert_eq!(listed.kind, kind, "{listed:?}");
        assert!(!listed.instance);
        assert!(login_idps(&emu, Some(&org)).await.contains(&id), "{kind}");
    }
    // A secret is required (checked by the SDK before any request)
    let no_secret = NewIdp::Google {
        name: "Google".into(),
        client_id: "g".into(),
        client_secret: Secret::new(""),
        scopes: vec![],
    };
    let e = m
        .add_idp(&no_secret, &IdpOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
    // and the contract check at shutdown finds every request well-formed
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_complexity_lockout_and_login_policies_set_by_a_manager_take_effect() {
    // Given the org owner
    let emu = start().await;
    let org = emu.seed_info().org_id.clone();
    let m = manager(&emu).await;

    // When she requires 14 characters with every kind of character
    let strict = PasswordPolicy {
        min_length: 14,
        requires_uppercase: true,
        requires_lowercase: true,
        requires_number: true,
        requires_symbol: true,
    };
    m.set_password_complexity_policy(&strict).await.unwrap();
    m.set_password_complexity_policy(&strict).await.unwrap();
    assert_eq!(m.password_complexity_policy().await.unwrap(), strict);
    // Then a 13-character password is refused by create user, a longer one not
    let e = m
        .create_human(&human("dave", Some(PASSWORD)), &CodeDelivery::Send)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PasswordPolicy, "{e}");
    assert_eq!(e.unmet_password_rules(), vec![PasswordRule::MinLength]);
    let long = "Sup3r-Secret!!";
    let dave = create(&m, "dave", Some(long)).await;

    // When she locks users out after two wrong passwords
    let lockout = LockoutPolicy {
        max_password_attempts: 2,
        max_otp_attempts: 3,
    };
    m.set_lockout_policy(&lockout).await.unwrap();
    assert_eq!(m.lockout_policy().await.unwrap(), lockout);
    // Then the second wrong password locks the user, even for the right one
    let c = client(&emu);
    let e = c
        .native_login()
        .password("dave", "Wrong-Pass-123!")
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.failed_attempts()),
        (ErrorCode::InvalidCredentials, Some(1))
    );
    let e = c
        .native_login()
        .password("dave", "Wrong-Pass-123!")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::UserLocked, "{e}");
    // (ZITADEL says only "not active"; the SDK reads the state to tell locked
    // apart: by login name, the state comes with the ListUsers answer)
    let before = c.request_count();
    let e = c.native_login().password("dave", long).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::UserLocked, "{e}");
    // CreateSession (refused) and ListUsers: no second read of the user
    assert_eq!(c.request_count() - before, 2);
    let e = c
        .native_login()
        .password_for_user_id(&dave, long)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::UserLocked, "{e}");
    assert_eq!(state(&m, &dave).await, "USER_STATE_LOCKED");
    // and an unlock by the manager lets her in again
    m.unlock_user(&dave).await.unwrap();
    c.native_login().password("dave", long).await.unwrap();

    // When she forbids registration, forces MFA and allows TOTP and email codes only
    let e = m
        .set_login_policy(&LoginPolicyUpdate::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    let policy = m
        .set_login_policy(&LoginPolicyUpdate {
            allow_register: Some(false),
            force_mfa: Some(true),
            second_factors: Some(vec![SecondFactorType::Totp, SecondFactorType::OtpEmail]),
            ..Default::default()
        })
        .await
        .unwrap();
    // Then the org's own policy says so, and so do the login settings
    assert!(policy.custom && policy.force_mfa && !policy.allow_register);
    assert_eq!(
        policy.second_factors,
        vec![SecondFactorType::Totp, SecondFactorType::OtpEmail]
    );
    let settings = client(&emu).settings().login(Some(&org)).await.unwrap();
    assert!(settings.force_mfa && !settings.allow_register);
    // and a sign-in is told to set up a second factor
    let signed_in = client(&emu)
        .native_login()
        .password("dave", long)
        .await
        .unwrap()
        .finish()
        .await
        .unwrap();
    assert!(signed_in.mfa_setup_required.is_some(), "{signed_in:?}");

    // When she changes the factors of the org's own policy
    let policy = m
        .set_login_policy(&LoginPolicyUpdate {
            allow_register: Some(true),
            second_factors: Some(vec![SecondFactorType::OtpEmail, SecondFactorType::U2f]),
            ..Default::default()
        })
        .await
        .unwrap();
    // Then they are replaced, and the rest is kept
    assert!(policy.allow_register && policy.force_mfa);
    let mut factors = policy.second_factors.clone();
    factors.sort_by_key(|f| f.proto_name());
    assert_eq!(
        factors,
        vec![SecondFactorType::OtpEmail, SecondFactorType::U2f]
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_resends_an_invite_and_removes_a_users_totp() {
    // Given the org owner and a new user without a password
    let emu = start().await;
    let m = manager(&emu).await;
    let mut invited = human("erin", None);
    invited.email_verified = false;
    let id = m
        .create_human(&invited, &CodeDelivery::Return)
        .await
        .unwrap()
        .user_id;

    // When she invites the user by mail and sends the invite again
    let none = m.invite_user(&id, &CodeDelivery::Send).await.unwrap();
    assert!(none.is_none());
    let first = last_code(&emu, "erin@example.com");
    m.resend_invite(&id).await.unwrap();
    // Then a new code is in the user's mailbox
    let second = last_code(&emu, "erin@example.com");
    assert_ne!(first, second);
    // and a returned code cannot be resent
    let code = m.invite_user(&id, &CodeDelivery::Return).await.unwrap();
    assert!(code.is_some());
    let e = m.resend_invite(&id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::FailedPrecondition, "{e}");

    // Given a user who set up TOTP herself
    let frank = create(&m, "frank", Some(PASSWORD)).await;
    let c = signed_in_as(&emu, "frank", PASSWORD).await;
    let totp = c.mfa().add_totp().await.unwrap();
    c.mfa()
        .verify_totp(&totp_code(totp.secret.expose()).unwrap())
        .await
        .unwrap();
    assert!(
        m.auth_methods(&frank)
            .await
            .unwrap()
            .contains(&AuthMethod::Totp)
    );

    // When the manager removes it (a lost phone)
    m.remove_second_factor(&frank, &SecondFactor::Totp)
        .await
        .unwrap();
    // Then the user has none, and a second removal finds nothing
    assert!(
        !m.auth_methods(&frank)
            .await
            .unwrap()
            .contains(&AuthMethod::Totp)
    );
    let e = m
        .remove_second_factor(&frank, &SecondFactor::Totp)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    assert!(m.security_keys(&frank).await.unwrap().is_empty());
    let e = m
        .remove_second_factor(&frank, &SecondFactor::U2f("no-such-key".into()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_manager_roles_gets_permission_denied_and_only_an_instance_owner_creates_orgs()
 {
    // Given alice, who holds no manager role
    let emu = start().await;
    let alice = signed_in(&emu, "alice@acme.localhost").await.manager();

    // When she calls manager operations, each is refused with PermissionDenied
    let e = alice
        .create_human(&human("mallory", None), &CodeDelivery::Send)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PermissionDenied, "{e}");
    let admin_id = {
        let admin = signed_in(&emu, "admin@acme.localhost").await;
        admin.profile().get().await.unwrap().user_id
    };
    for e in [
        alice.lock_user(&admin_id).await.unwrap_err(),
        alice.delete_user(&admin_id).await.unwrap_err(),
        alice
            .add_member(&admin_id, &["ORG_OWNER"])
            .await
            .unwrap_err(),
        alice.members().await.unwrap_err(),
        alice.grants(None).await.unwrap_err(),
        alice
            .set_lockout_policy(&LockoutPolicy::default())
            .await
            .unwrap_err(),
        alice.idps().await.unwrap_err(),
        alice.create_organization("Evil", &[]).await.unwrap_err(),
    ] {
        assert_eq!(e.code(), ErrorCode::PermissionDenied, "{e}");
    }

    // And an org owner may not create organizations either
    let m = manager(&emu).await;
    let e = m.create_organization("Other", &[]).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::PermissionDenied, "{e}");

    // When the instance owner creates one with the manager as its owner
    let manager_id = m
        .search_users(&UserSearch {
            username: Some("manager".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items[0]
        .user_id
        .clone();
    let admin = signed_in(&emu, "admin@acme.localhost").await.manager();
    let org = admin
        .create_organization("Globex", &[&manager_id])
        .await
        .unwrap();
    // Then the manager manages users there
    let there = m.clone().in_org(&org);
    let id = create(&there, "gina", Some(PASSWORD)).await;
    assert_eq!(there.user(&id).await.unwrap().organization_id, org);
    assert_eq!(there.members().await.unwrap().items[0].user_id, manager_id);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_user_authenticates_with_a_pat_client_credentials_and_a_key_file() {
    // Given a service user, made a user manager of the org by the admin,
    // with a PAT, a secret and a key
    let emu = start().await;
    let admin_client = signed_in(&emu, "admin@acme.localhost").await;
    let admin = admin_client.manager();
    let robot = admin
        .create_machine(&NewMachine {
            username: "robot".into(),
            name: "Robot".into(),
            description: None,
        })
        .await
        .unwrap();
    admin
        .add_member(&robot, &["ORG_USER_MANAGER"])
        .await
        .unwrap();
    let expiry = "2099-01-01T00:00:00Z";
    let pat = admin.add_machine_pat(&robot, expiry).await.unwrap();
    let secret = admin.add_machine_secret(&robot).await.unwrap();
    let key = admin.add_machine_key(&robot, expiry).await.unwrap();
    assert_eq!(key.key.user_id, robot);
    let e = admin
        .add_machine_pat(&robot, "next year")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);

    // When it signs in each way and lists the users
    let sdk = client(&emu);
    let credentials = [
        ServiceCredential::Pat(pat.token),
        ServiceCredential::ClientCredentials {
            username: "robot".into(),
            secret,
        },
        ServiceCredential::KeyFile(
            zitadel_sdk::manager::ServiceKey::from_json(key.key_file.expose()).unwrap(),
        ),
    ];
    for credential in credentials {
        let sa = sdk.service_account(credential.clone());
        let users = sa.manager().search_users(&UserSearch::default()).await;
        // Then it sees the org's users
        assert!(users.unwrap().total >= 4, "{credential:?}");
        // and its token is reused
        let t1 = sa.access_token().await.unwrap();
        assert_eq!(t1.expose(), sa.access_token().await.unwrap().expose());
        // but it holds no rights beyond its role
        let e = sa
            .manager()
            .set_lockout_policy(&LockoutPolicy::default())
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::PermissionDenied, "{e}");
    }

    // When the secret is wrong, the token endpoint refuses it
    let wrong = sdk.service_account(ServiceCredential::ClientCredentials {
        username: "robot".into(),
        secret: Secret::new("wrong"),
    });
    let e = wrong
        .manager()
        .search_users(&UserSearch::default())
        .await
        .unwrap_err();
    assert_eq!(e.oauth_error(), Some("invalid_client"), "{e}");
    emu.shutdown().await;
}
