//! The generic C calls of sdk-ffi (`zid_call`, `zid_call_async`, object
//! handles) for the signed-in user's flows, end to end against the embedded
//! emulator: email and phone codes, TOTP, passkeys and security keys with the
//! software authenticator (feature `software-authenticator`), an IdP link in
//! two calls, sessions, settings, password reset. The C client reads the
//! session a core client stored in the same file store. Every request is
//! checked against the protos at shutdown.
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{PASSWORD, new_user, start};
use serde_json::{Value, json};
use std::ffi::{CStr, CString, c_char};
use std::sync::Arc;
use std::time::Duration;
use zitadel_emulator::RunningEmulator;
use zitadel_emulator::scripted::{TestIdpUser, test_idp_sign_in, totp_code};
use zitadel_sdk::flows::verification::CodeDelivery;
use zitadel_sdk::store::FileStore;
use zitadel_sdk_ffi::c::{
    ZidClient, zid_call, zid_call_async, zid_client_free, zid_client_new, zid_object_free,
    zid_string_free, zid_task_free, zid_task_poll,
};

/// Takes a string the SDK wrote to `out` (and frees it).
fn take(out: *mut c_char) -> String {
    if out.is_null() {
        return String::new();
    }
    // SAFETY: a NUL-terminated string from the SDK, freed once below.
    let s = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_owned();
    // SAFETY: as above.
    unsafe { zid_string_free(out) };
    s
}

/// Runs `method` with `zid_call_async`, polling the task as a frame loop
/// would; the status and the JSON result (or error).
async fn call(client: ZidClient, method: &str, args: Value) -> (i32, Value) {
    let m = CString::new(method).unwrap();
    let a = CString::new(args.to_string()).unwrap();
    let (mut task, mut err) = (0u64, std::ptr::null_mut());
    // SAFETY: valid strings and out pointers.
    let status = unsafe { zid_call_async(client, m.as_ptr(), a.as_ptr(), &mut task, &mut err) };
    if status != 0 {
        return (status, serde_json::from_str(&take(err)).unwrap());
    }
    loop {
        let mut out = std::ptr::null_mut();
        // SAFETY: a live task, a valid out pointer.
        let status = unsafe { zid_task_poll(task, &mut out) };
        if status != -1 {
            let text = take(out);
            assert_eq!(zid_task_free(task), 0);
            return (status, serde_json::from_str(&text).unwrap_or(Value::Null));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A call that must succeed: its result.
async fn ok(client: ZidClient, method: &str, args: Value) -> Value {
    let (status, v) = call(client, method, args).await;
    assert_eq!(status, 0, "{method}: {v}");
    v
}

/// A user registered and signed in by a core client on the file store in
/// `dir`; a C client on the same store (it finds the session there).
async fn c_client_signed_in(
    emu: &RunningEmulator,
    dir: &std::path::Path,
    email: &str,
) -> ZidClient {
    let info = emu.seed_info();
    let core = zitadel_sdk::Client::builder(emu.issuer(), &info.client_id)
        .redirect_uri("http://127.0.0.1/callback")
        .organization_id(&info.org_id)
        .login_client_token(&info.login_client_token)
        .store(Arc::new(FileStore::new(dir).unwrap()))
        .build()
        .unwrap();
    let mut pending = core
        .registration()
        .register(&new_user(email), &CodeDelivery::Return)
        .await
        .unwrap();
    let code = pending.returned_email_code().unwrap().expose().to_owned();
    pending.verify_email(&code).await.unwrap();
    pending.finish().await.unwrap();

    let config = json!({"issuer": emu.issuer(), "client_id": info.client_id,
        "redirect_uri": "http://127.0.0.1/callback", "organization_id": info.org_id,
        "login_client_token": info.login_client_token,
        "store_directory": dir.to_str().unwrap()});
    let config = CString::new(config.to_string()).unwrap();
    let (mut client, mut err) = (0u64, std::ptr::null_mut());
    // SAFETY: a valid string and out pointers.
    let status = unsafe { zid_client_new(config.as_ptr(), &mut client, &mut err) };
    assert_eq!(status, 0, "{}", take(err));
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signed_in_users_flows_run_through_the_generic_c_calls() {
    let emu = start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = c_client_signed_in(&emu, dir.path(), "cee@example.com").await;

    // Email: a returned code, a wrong one (17, with the error JSON), the right one.
    let code = ok(
        c,
        "email.set",
        json!({"address": "cee@new.example", "delivery": "return"}),
    )
    .await;
    let code = code.as_str().unwrap().to_owned();
    let (status, e) = call(c, "email.verify", json!({"code": format!("X{code}")})).await;
    assert_eq!(
        (status, e["code"].clone(), e["name"].clone()),
        (17, json!(17), json!("wrong_code"))
    );
    assert_eq!(
        ok(c, "email.verify", json!({"code": code})).await,
        Value::Null
    );
    let (status, _) = call(c, "email.resend", json!({})).await;
    assert_eq!(status, 21, "nothing pending");

    // Phone: the same with the SMS; then removed.
    let code = ok(
        c,
        "phone.set",
        json!({"number": "+41 79 000 00 09", "delivery": "return"}),
    )
    .await;
    ok(c, "phone.verify", json!({"code": code})).await;
    ok(c, "phone.remove", json!({})).await;

    // TOTP with the code an app would show.
    let totp = ok(c, "mfa.add_totp", json!({})).await;
    assert!(totp["uri"].as_str().unwrap().starts_with("otpauth://totp/"));
    let now = totp_code(totp["secret"].as_str().unwrap()).unwrap();
    ok(c, "mfa.verify_totp", json!({"code": now})).await;
    assert!(
        ok(c, "mfa.methods", json!({}))
            .await
            .as_array()
            .unwrap()
            .contains(&json!("totp"))
    );
    ok(c, "mfa.remove_totp", json!({})).await;

    // Recovery codes.
    let codes = ok(c, "mfa.generate_recovery_codes", json!({"count": 3})).await;
    assert_eq!(codes.as_array().map(Vec::len), Some(3));
    ok(c, "mfa.remove_recovery_codes", json!({})).await;

    // A passkey and a security key with the software authenticator in the client's store.
    let passkey = ok(c, "passkeys.register", json!({"name": "C laptop"})).await;
    assert_eq!(passkey["ready"], json!(true));
    let listed = ok(c, "passkeys.list", json!({})).await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == passkey["id"])
    );
    // Passwordless native login with that passkey.
    let signed_in = ok(
        c,
        "native_login.passkey",
        json!({"login_name": "cee@example.com"}),
    )
    .await;
    assert!(signed_in["session"]["subject"].is_string(), "{signed_in}");
    ok(c, "passkeys.remove", json!({"id": passkey["id"]})).await;
    let key = ok(c, "mfa.add_u2f", json!({"name": "C key"})).await;
    let keys = ok(c, "mfa.security_keys", json!({})).await;
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == key["id"])
    );
    // The security key as the second factor of a native login.
    let login = ok(
        c,
        "native_login.password",
        json!({"login_name": "cee@example.com", "password": PASSWORD}),
    )
    .await;
    assert!(
        login["second_factors"]
            .as_array()
            .unwrap()
            .contains(&json!("u2f")),
        "{login}"
    );
    let handle = json!({"handle": login["handle"]});
    let (status, _) = call(c, "native_login.finish", handle.clone()).await;
    assert_eq!(status, 3, "not before the second factor");
    ok(c, "native_login.check_u2f", handle.clone()).await;
    ok(c, "native_login.finish", handle).await;
    assert_eq!(zid_object_free(login["handle"].as_u64().unwrap()), 0);
    ok(c, "mfa.remove_u2f", json!({"id": key["id"]})).await;

    // Settings through the login client, and the local password check.
    let idps = ok(c, "settings.identity_providers", json!({})).await;
    let idp = idps
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "Test IdP")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let policy = ok(c, "settings.password_complexity", json!({})).await;
    let unmet = ok(
        c,
        "settings.check_password",
        json!({"policy": policy, "password": "a"}),
    )
    .await;
    assert!(unmet.as_array().unwrap().contains(&json!("min_length")));
    assert!(
        ok(c, "settings.login", json!({})).await["allow_username_password"]
            .as_bool()
            .unwrap()
    );

    // An IdP link in two calls: the URL to open, then the wait.
    let user = TestIdpUser {
        subject: "ext-c".into(),
        username: "ext-c".into(),
        email: "ext-c@idp.example".into(),
        given_name: "Ext".into(),
        family_name: "Cee".into(),
    };
    let (handle, finished) = c_idp_browser_step(c, "links.add", &json!(idp), &user).await;
    assert_eq!(finished["linked_user_id"], json!("ext-c"));
    let (status, _) = call(c, "links.add_finish", json!({"handle": handle})).await;
    assert_eq!(status, 3, "finished once");
    assert_eq!(zid_object_free(handle), 0);
    let links = ok(c, "links.list", json!({})).await;
    assert_eq!(links.as_array().map(Vec::len), Some(1));
    ok(
        c,
        "links.remove",
        json!({"idp_id": idp, "linked_user_id": "ext-c"}),
    )
    .await;
    assert_eq!(ok(c, "links.list", json!({})).await, json!([]));

    // A blocking zid_call, on a thread of its own (it blocks that thread).
    let sessions = tokio::task::spawn_blocking(move || {
        let (m, a) = (
            CString::new("sessions.list").unwrap(),
            CString::new("").unwrap(),
        );
        let mut out = std::ptr::null_mut();
        // SAFETY: valid strings and out pointer.
        let status = unsafe { zid_call(c, m.as_ptr(), a.as_ptr(), &mut out) };
        (status, take(out))
    })
    .await
    .unwrap();
    assert_eq!(sessions.0, 0, "{}", sessions.1);
    let sessions: Value = serde_json::from_str(&sessions.1).unwrap();
    assert_eq!(
        sessions
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["current"] == json!(true))
            .count(),
        1
    );

    // A reset code for a user who cannot sign in, through the login client.
    let reset = ok(
        c,
        "password.request_reset_for",
        json!({"login_name": "cee@example.com", "delivery": "return"}),
    )
    .await;
    let (status, _) = call(
        c,
        "password.set_with_code",
        json!({"user_id": reset["user_id"], "code": "nope", "new": PASSWORD}),
    )
    .await;
    assert_eq!(status, 17);

    // Logout everywhere.
    let ended = ok(c, "sessions.end_all", json!({})).await;
    assert!(ended["ended"].as_u64().unwrap() >= 1);
    let (status, _) = call(c, "sessions.list", json!({})).await;
    assert_eq!(status, 4, "signed out");

    assert_eq!(zid_client_free(c), 0);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_whose_handle_is_freed_stops_waiting_and_a_cancelled_finish_is_cancelled() {
    let emu = start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = c_client_signed_in(&emu, dir.path(), "dee@example.com").await;
    let idps = ok(c, "settings.identity_providers", json!({})).await;
    let idp = idps[0]["id"].clone();

    // Started and freed without finishing: the handle is gone.
    let started = ok(
        c,
        "links.add_start",
        json!({"idp_id": idp, "timeout_secs": 60}),
    )
    .await;
    let handle = started["handle"].as_u64().unwrap();
    assert_eq!(zid_object_free(handle), 0);
    let (status, _) = call(c, "links.add_finish", json!({"handle": handle})).await;
    assert_eq!(status, 3);

    // A finish task cancelled from the frame loop ends with Cancelled.
    let started = ok(
        c,
        "links.add_start",
        json!({"idp_id": idp, "timeout_secs": 60}),
    )
    .await;
    let handle = started["handle"].as_u64().unwrap();
    let m = CString::new("links.add_finish").unwrap();
    let a = CString::new(json!({"handle": handle}).to_string()).unwrap();
    let (mut task, mut err) = (0u64, std::ptr::null_mut());
    // SAFETY: valid strings and out pointers.
    let status = unsafe { zid_call_async(c, m.as_ptr(), a.as_ptr(), &mut task, &mut err) };
    assert_eq!(status, 0, "{}", take(err));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(zitadel_sdk_ffi::c::zid_task_cancel(task), 0);
    let status = loop {
        let mut out = std::ptr::null_mut();
        // SAFETY: a live task, a valid out pointer.
        let s = unsafe { zid_task_poll(task, &mut out) };
        take(out);
        if s != -1 {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(status, 6);
    assert_eq!(zid_task_free(task), 0);
    assert_eq!(zid_object_free(handle), 0);
    assert_eq!(zid_client_free(c), 0);
    emu.shutdown().await;
}

/// A two-call browser step of C (`{step}_start`, then `{step}_finish` while
/// `user` signs in at the emulator's test IdP): the handle (not freed) and
/// the finish result.
async fn c_idp_browser_step(
    c: ZidClient,
    step: &str,
    idp: &Value,
    user: &TestIdpUser,
) -> (u64, Value) {
    let started = ok(
        c,
        &format!("{step}_start"),
        json!({"idp_id": idp, "timeout_secs": 20}),
    )
    .await;
    let handle = started["handle"].as_u64().unwrap();
    let url = started["url"].as_str().unwrap().to_owned();
    let finish = format!("{step}_finish");
    let (finished, signed) = tokio::join!(
        call(c, &finish, json!({"handle": handle})),
        test_idp_sign_in(&url, user)
    );
    signed.unwrap();
    assert_eq!(finished.0, 0, "{}", finished.1);
    (handle, finished.1)
}

/// `registration.with_idp_*` once; the handle freed, the finish result returned.
async fn c_register_with_idp(c: ZidClient, idp: &Value, user: &TestIdpUser) -> Value {
    let (handle, finished) = c_idp_browser_step(c, "registration.with_idp", idp, user).await;
    assert_eq!(zid_object_free(handle), 0);
    finished
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_calls_register_with_an_identity_provider_from_an_edited_draft_and_sign_in_once_linked() {
    let emu = start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = c_client_signed_in(&emu, dir.path(), "fay@example.com").await;
    let idps = ok(c, "settings.identity_providers", json!({})).await;
    let idp = idps[0]["id"].clone();
    let user = TestIdpUser {
        subject: "ext-reg".into(),
        username: "ext-reg".into(),
        email: "ext-reg@idp.example".into(),
        given_name: "Ext".into(),
        family_name: "Reg".into(),
    };

    // An account the instance does not know: a draft pre-filled by the IdP.
    let first = c_register_with_idp(c, &idp, &user).await;
    let draft = &first["draft"];
    assert_eq!(draft["given_name"], json!("Ext"), "{first}");
    assert_eq!(draft["email"], json!("ext-reg@idp.example"));
    assert_eq!(draft["accepted_terms"], json!(false));
    let handle = draft["handle"].as_u64().unwrap();
    // The terms must be accepted; nothing is created without.
    let (status, _) = call(
        c,
        "registration.create_from_draft",
        json!({"handle": handle, "given_name": "Edited"}),
    )
    .await;
    assert_eq!(status, 3);
    let created = ok(
        c,
        "registration.create_from_draft",
        json!({"handle": handle, "given_name": "Edited", "accepted_terms": true}),
    )
    .await;
    assert!(created["session"].is_object(), "{created}");
    assert_eq!(zid_object_free(handle), 0);
    assert_eq!(
        ok(c, "profile.get", json!({})).await["given_name"],
        json!("Edited")
    );

    // The same IdP account again: linked now, so it signs in.
    let again = c_register_with_idp(c, &idp, &user).await;
    assert!(again["signed_in"]["session"].is_object(), "{again}");
    assert!(again.get("draft").is_none());

    assert_eq!(zid_client_free(c), 0);
    emu.shutdown().await;
}
