//! The generic C calls `registration.*`, `native_login.*` and `manager.*`
//! through the exported `extern "C"` functions, against an in-process
//! zitadel-emulator: JSON in, JSON out, flow objects as handles.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, unsafe_code)]

use serde_json::{Value, json};
use std::ffi::{CStr, CString, c_char};
use zitadel_emulator::{Emulator, EmulatorConfig, RunningEmulator};
use zitadel_sdk_ffi::c::{
    zid_call, zid_client_free, zid_client_new, zid_object_free, zid_string_free,
};

/// The emulator on its own runtime (the SDK's calls block on the SDK's).
fn start() -> (tokio::runtime::Runtime, RunningEmulator) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let emu = rt
        .block_on(Emulator::start(EmulatorConfig::ephemeral()))
        .unwrap();
    (rt, emu)
}

fn take(s: *mut c_char) -> String {
    if s.is_null() {
        return String::new();
    }
    // SAFETY: a string the SDK wrote; freed right after.
    let text = unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned();
    // SAFETY: as above.
    unsafe { zid_string_free(s) };
    text
}

fn client(emu: &RunningEmulator) -> u64 {
    let info = emu.seed_info();
    let config = json!({"issuer": emu.issuer(), "client_id": info.client_id,
        "redirect_uri": "http://127.0.0.1/callback", "organization_id": info.org_id,
        "login_client_token": info.login_client_token})
    .to_string();
    let config = CString::new(config).unwrap();
    let (mut handle, mut err) = (0u64, std::ptr::null_mut());
    // SAFETY: valid strings and out pointers.
    let rc = unsafe { zid_client_new(config.as_ptr(), &mut handle, &mut err) };
    assert_eq!(rc, 0, "{}", take(err));
    handle
}

/// Runs `method`; `Ok(result)` or `Err((status, error JSON))`.
fn call(client: u64, method: &str, args: Value) -> Result<Value, (i32, Value)> {
    let method = CString::new(method).unwrap();
    let args = CString::new(args.to_string()).unwrap();
    let mut out = std::ptr::null_mut();
    // SAFETY: valid strings and out pointer.
    let rc = unsafe { zid_call(client, method.as_ptr(), args.as_ptr(), &mut out) };
    let text = take(out);
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if rc == 0 { Ok(v) } else { Err((rc, v)) }
}

#[test]
fn c_calls_register_a_user_with_the_email_code_and_log_in_natively() {
    let (_rt, emu) = start();
    let c = client(&emu);

    // The rules, then a registration without the terms: refused (3).
    let rules = call(c, "registration.rules", json!({})).unwrap();
    assert_eq!(rules["login"]["allow_register"], true);
    let user = json!({"given_name": "Grace", "family_name": "Hopper",
        "email": "grace@example.com", "password": "Sup3r-Secret!", "accepted_terms": false});
    let (rc, e) = call(
        c,
        "registration.register",
        json!({"user": user.clone(),
        "delivery": "return"}),
    )
    .unwrap_err();
    assert_eq!((rc, e["code"].as_i64()), (3, Some(3)));

    // A weak password: 19 with the unmet rules.
    let mut weak = user.clone();
    weak["accepted_terms"] = json!(true);
    weak["password"] = json!("weak");
    let (rc, e) = call(c, "registration.register", json!({"user": weak})).unwrap_err();
    assert_eq!(rc, 19, "{e}");
    assert!(!e["unmet_password_rules"].as_array().unwrap().is_empty());

    // Registered with the returned code: a handle awaiting the code.
    let mut ok = user.clone();
    ok["accepted_terms"] = json!(true);
    let pending = call(
        c,
        "registration.register",
        json!({"user": ok, "delivery": "return"}),
    )
    .unwrap();
    let (h, code) = (pending["handle"].clone(), pending["email_code"].clone());
    assert!(code.is_string(), "{pending}");
    let (rc, _) = call(
        c,
        "registration.verify_email",
        json!({"handle": h, "code": "WRONG1"}),
    )
    .unwrap_err();
    assert_eq!(rc, 17, "a wrong code");
    call(
        c,
        "registration.verify_email",
        json!({"handle": h, "code": code}),
    )
    .unwrap();
    let signed_in = call(c, "registration.finish", json!({"handle": h})).unwrap();
    assert_eq!(signed_in["session"]["subject"], pending["user_id"]);
    let (rc, _) = call(c, "registration.finish", json!({"handle": h})).unwrap_err();
    assert_eq!(rc, 21, "finished already");
    assert_eq!(zid_object_free(h.as_u64().unwrap()), 0);
    let (rc, _) = call(c, "registration.finish", json!({"handle": h})).unwrap_err();
    assert_eq!(rc, 3, "a freed handle");

    // Native login of the new user: no second factor, then signed in.
    let login = call(
        c,
        "native_login.password",
        json!({"login_name": "grace@example.com",
        "password": "Sup3r-Secret!"}),
    )
    .unwrap();
    assert_eq!(login["second_factors"], json!([]));
    let lh = login["handle"].clone();
    assert_eq!(
        call(c, "native_login.needs_second_factor", json!({"handle": lh})).unwrap(),
        false
    );
    let signed_in = call(c, "native_login.finish", json!({"handle": lh})).unwrap();
    assert_eq!(signed_in["session"]["subject"], pending["user_id"]);
    assert_eq!(zid_object_free(lh.as_u64().unwrap()), 0);
    let (rc, e) = call(
        c,
        "native_login.password",
        json!({"login_name": "grace@example.com",
        "password": "wrong"}),
    )
    .unwrap_err();
    assert_eq!(rc, 20, "{e}");

    // A plain user is no manager (13); the seeded manager is.
    let (rc, _) = call(c, "manager.members", json!({})).unwrap_err();
    assert_eq!(rc, 13);
    let m = call(
        c,
        "native_login.password",
        json!({"login_name": "manager@acme.localhost",
        "password": "Password1!"}),
    )
    .unwrap();
    call(c, "native_login.finish", json!({"handle": m["handle"]})).unwrap();
    let found = call(
        c,
        "manager.search_users",
        json!({"search": {"email": "example.com"}}),
    )
    .unwrap();
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(zid_client_free(c), 0);
}
