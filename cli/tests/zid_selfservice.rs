//! `zid`'s self-service commands as a user or a script runs them: real
//! processes against the emulator (started by the test), codes read from
//! its outbox or computed as an authenticator app would; exit status = the
//! error's code.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
#![cfg(feature = "demo")]

use std::process::{Command, Output, Stdio};
use zitadel_emulator::scripted::totp_code;
use zitadel_emulator::{Emulator, EmulatorConfig, RunningEmulator};

const ZID: &str = env!("CARGO_BIN_EXE_zid");
const PASSWORD: &str = "Cli-Pass-123!";

struct Env {
    emu: RunningEmulator,
    dir: tempfile::TempDir,
}

impl Env {
    async fn new() -> Self {
        Env {
            emu: Emulator::start(EmulatorConfig::ephemeral()).await.unwrap(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn zid(&self, args: &[&str]) -> Output {
        let info = self.emu.seed_info();
        Command::new(ZID)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("ZID_ISSUER", self.emu.issuer())
            .env("ZID_CLIENT_ID", &info.client_id)
            .env("ZID_LOGIN_CLIENT_TOKEN", &info.login_client_token)
            .env(
                "ZID_STORE",
                format!("file:{}", self.dir.path().join("store").display()),
            )
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs `zid --json ARGS`, asserts success, returns the JSON document.
    fn ok(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.zid(&all);
        assert!(
            out.status.success(),
            "zid {args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        json(&out)
    }

    fn last_code(&self, to: &str) -> String {
        self.emu
            .outbox()
            .into_iter()
            .rev()
            .find(|m| m.to == to)
            .and_then(|m| m.code)
            .unwrap()
    }
}

fn json(out: &Output) -> serde_json::Value {
    let s = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("not one JSON document ({e}): {s}"))
}

async fn registered(env: &Env, email: &str) {
    env.ok(&[
        "register",
        "--native",
        "--given-name",
        "Cli",
        "--family-name",
        "User",
        "--email",
        email,
        "--password",
        PASSWORD,
        "--accept-terms",
        "--return-code",
    ]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_register_then_profile_email_phone_totp_and_native_login_with_the_code() {
    let env = Env::new().await;
    // Given a user registered without a browser
    registered(&env, "cli@example.com").await;
    let me = env.ok(&["profile", "show"]);
    assert_eq!(me["email"], "cli@example.com");
    assert_eq!(me["email_verified"], true);

    // When the profile, the email and the phone change
    env.ok(&[
        "profile",
        "update",
        "--nick-name",
        "clio",
        "--gender",
        "female",
    ]);
    assert_eq!(env.ok(&["profile", "show"])["nick_name"], "clio");
    env.ok(&["email", "set", "cli2@example.com"]);
    let code = env.last_code("cli2@example.com");
    env.ok(&["email", "verify", "--code", &code]);
    env.ok(&["phone", "set", "+41791112233"]);
    env.ok(&["phone", "resend"]);
    let code = env.last_code("+41791112233");
    env.ok(&["phone", "verify", "--code", &code]);
    let me = env.ok(&["profile", "show"]);
    assert_eq!(me["phone_verified"], true);
    assert_eq!(me["email"], "cli2@example.com");

    // And TOTP is added (JSON mode prints uri and secret, then verify)
    let totp = env.ok(&["mfa", "totp", "add"]);
    let secret = totp["secret"].as_str().unwrap().to_owned();
    assert!(totp["uri"].as_str().unwrap().starts_with("otpauth://"));
    env.ok(&[
        "mfa",
        "totp",
        "verify",
        "--code",
        &totp_code(&secret).unwrap(),
    ]);
    let methods = env.ok(&["mfa", "list"]);
    assert!(
        methods["methods"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "totp")
    );
    env.ok(&["metadata", "set", "k", "v"]);
    assert_eq!(env.ok(&["metadata", "list"])["items"][0]["value"], "v");
    let codes = env.ok(&["recovery-codes", "generate", "--count", "2"]);
    assert_eq!(codes["recovery_codes"].as_array().unwrap().len(), 2);
    env.ok(&["logout"]);

    // Then a native login asks for the TOTP code, given as a flag here
    let out = env.zid(&[
        "--json",
        "login",
        "--native",
        "--login-name",
        "cli@example.com",
        "--password",
        PASSWORD,
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "no TOTP code and no terminal: invalid input"
    );
    let signed = env.ok(&[
        "login",
        "--native",
        "--login-name",
        "cli@example.com",
        "--password",
        PASSWORD,
        "--totp",
        &totp_code(&secret).unwrap(),
    ]);
    assert!(signed["session"]["subject"].is_string());
    let sessions = env.ok(&["sessions", "list"]);
    assert!(
        sessions["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["current"] == true)
    );
    let ended = env.ok(&["sessions", "end", "--all"]);
    assert_eq!(ended["signed_out"], true);
    env.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_exit_with_their_code_and_print_one_json_error() {
    let env = Env::new().await;
    // Not signed in → 4
    let out = env.zid(&["--json", "profile", "show"]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(json(&out)["error"]["name"], "not_signed_in");
    // Terms not accepted (no terminal to ask) → 3
    let out = env.zid(&[
        "--json",
        "register",
        "--native",
        "--given-name",
        "A",
        "--family-name",
        "B",
        "--email",
        "ab@example.com",
        "--password",
        PASSWORD,
        "--return-code",
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Weak password → 19, listing the rules
    let out = env.zid(&[
        "--json",
        "register",
        "--native",
        "--given-name",
        "A",
        "--family-name",
        "B",
        "--email",
        "ab@example.com",
        "--password",
        "weak",
        "--accept-terms",
        "--return-code",
    ]);
    assert_eq!(out.status.code(), Some(19));
    assert!(
        json(&out)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("upper-case")
    );
    // Wrong password → 20
    registered(&env, "err@example.com").await;
    env.ok(&["logout"]);
    let out = env.zid(&[
        "--json",
        "login",
        "--native",
        "--login-name",
        "err@example.com",
        "--password",
        "Wrong-123!",
    ]);
    assert_eq!(out.status.code(), Some(20));
    assert_eq!(json(&out)["error"]["name"], "invalid_credentials");
    // Wrong email code → 17
    env.ok(&[
        "login",
        "--native",
        "--login-name",
        "err@example.com",
        "--password",
        PASSWORD,
    ]);
    env.ok(&["email", "set", "err2@example.com"]);
    let out = env.zid(&["--json", "email", "verify", "--code", "NOPE12"]);
    assert_eq!(out.status.code(), Some(17));
    env.emu.shutdown().await;
}

#[test]
fn zid_demo_walks_through_every_step_and_exits_zero() {
    let out = Command::new(ZID)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["--json", "demo"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let v = json(&out);
    assert!(
        out.status.success(),
        "{v}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(v["ok"], true);
    let steps = v["steps"].as_array().unwrap();
    assert!(steps.len() >= 17, "{v}");
    assert!(
        steps
            .iter()
            .all(|s| s["ok"] == true && s["requests"].as_u64().is_some())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zid_demo_runs_against_a_separately_started_server_with_returned_codes() {
    // Given a server zid does not embed (codes are then returned by it)
    let env = Env::new().await;
    let info = env.emu.seed_info();
    let out = Command::new(ZID)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args([
            "--json",
            "demo",
            "--issuer",
            env.emu.issuer(),
            "--client-id",
            &info.client_id,
            "--login-client-token",
            &info.login_client_token,
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    // Then every step works (the test-IdP and manager steps say they were skipped)
    let v = json(&out);
    assert!(out.status.success(), "{v}");
    let skipped: Vec<_> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["note"].as_str().unwrap_or("").starts_with("skipped"))
        .collect();
    assert_eq!(skipped.len(), 2, "{v}");
    env.emu.shutdown().await;
}
