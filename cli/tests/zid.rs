//! `zid` as a user runs it: a real process against a real OpenID provider,
//! with the browser step done by headless Chromium.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use integration_tests::{Browser, CLIENT_ID, Provider};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const ZID: &str = env!("CARGO_BIN_EXE_zid");
const SCOPE: &str = "openid profile email offline_access";

struct Env {
    provider: Provider,
    dir: tempfile::TempDir,
}

impl Env {
    async fn new() -> Self {
        Env {
            provider: Provider::start_default().await.unwrap(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn store(&self) -> String {
        format!("file:{}", self.dir.path().join("store").display())
    }

    fn url_file(&self) -> PathBuf {
        self.dir.path().join("browser-url")
    }

    /// A `$BROWSER` that records the URL it is given, for Chromium to open.
    fn browser_script(&self) -> PathBuf {
        let script = self.dir.path().join("browser.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n",
                self.url_file().display()
            ),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        script
    }

    fn zid(&self) -> Command {
        let mut c = Command::new(ZID);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("ZID_ISSUER", self.provider.issuer())
            .env("ZID_CLIENT_ID", CLIENT_ID)
            .env("ZID_STORE", self.store())
            .env("ZID_SCOPE", SCOPE)
            .env("BROWSER", self.browser_script())
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.zid().args(args).output().unwrap()
    }
}

async fn wait_for_file(path: &Path) -> String {
    for _ in 0..200 {
        if let Ok(s) = std::fs::read_to_string(path)
            && !s.is_empty()
        {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} never appeared", path.display());
}

/// Runs `zid --json login` from `cmd`, signs `login_name` in with Chromium
/// at the URL zid handed to `$BROWSER`, and returns zid's output and that URL.
async fn browser_login(
    mut cmd: Command,
    env: &Env,
    browser: &Browser,
    login_name: &str,
) -> (Output, String) {
    let child = cmd
        .args(["--json", "login"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = wait_for_file(&env.url_file()).await;
    browser.login(&url, login_name, "pw").await.unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    (out, url)
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_login_then_whoami_token_refresh_userinfo_logout() {
    let env = Env::new().await;
    let browser = Browser::start().await.unwrap();

    // When the user runs `zid login` and signs in in the browser $BROWSER opened
    let (out, url) = browser_login(env.zid(), &env, &browser, "kate").await;

    // Then zid reports the signed-in user as JSON and exits 0
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["subject"], "kate");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(&url),
        "the authorization URL is not printed when a browser was started"
    );

    // And the other commands work on the stored session
    let who = env.run(&["--json", "whoami"]);
    assert_eq!(json(&who)["subject"], "kate");

    env.provider.clear_requests().unwrap();
    let token = env.run(&["token"]);
    assert!(token.status.success());
    let token = String::from_utf8(token.stdout).unwrap();
    assert!(token.trim().len() > 10);
    assert!(
        env.provider.requests().is_empty(),
        "a valid token needs no request"
    );

    let refreshed = env.run(&["--json", "refresh"]);
    assert!(
        refreshed.status.success(),
        "{}",
        String::from_utf8_lossy(&refreshed.stderr)
    );
    assert_eq!(env.provider.request_count("/token"), 1);
    let token2 = String::from_utf8(env.run(&["token"]).stdout).unwrap();
    assert_ne!(token, token2, "refresh gave a new access token");

    let info = env.run(&["--json", "userinfo"]);
    assert_eq!(json(&info)["sub"], "kate");

    // `logout --browser` also ends the browser session: the browser gets a
    // one-time loopback address that redirects to the end-session URL, so the
    // ID token hint is on no command line.
    std::fs::remove_file(env.url_file()).unwrap();
    let child = env
        .zid()
        .args([
            "--json",
            "logout",
            "--browser",
            "--post-logout-redirect-uri",
            "http://127.0.0.1/callback",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let handoff = wait_for_file(&env.url_file()).await;
    assert!(handoff.starts_with("http://127.0.0.1:"), "{handoff}");
    assert!(!handoff.contains("id_token_hint"), "{handoff}");
    let landed = browser
        .end_session_landing_at(&handoff, Some("http://127.0.0.1/callback"))
        .await
        .unwrap();
    assert_eq!(landed.path(), "/callback");
    assert!(
        env.provider
            .requests()
            .iter()
            .any(|r| r.path.starts_with("/session/end")),
        "the browser reached the end-session endpoint"
    );
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["revoked"], true);
    assert_eq!(json(&out)["browser_session_ended"], true);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("id_token_hint"),
        "the end-session URL is not printed"
    );
    let who = env.run(&["--json", "whoami"]);
    assert!(!who.status.success());
    assert_eq!(json(&who)["error"]["name"], "not_signed_in");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_refreshing_one_file_store_at_once_both_keep_the_session() {
    // Given a signed-in account in a file store (the provider rotates refresh
    // tokens and treats a reused one as a replay)
    let env = Env::new().await;
    let browser = Browser::start().await.unwrap();
    let (out, _) = browser_login(env.zid(), &env, &browser, "mia").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    browser.close().await;

    for round in 0..20 {
        // When two zid processes refresh the same account at the same moment
        let spawn = || {
            env.zid()
                .args(["--json", "refresh"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());

        // Then both succeed, and the store holds a session that still works
        for (name, o) in [("first", &a), ("second", &b)] {
            assert!(
                o.status.success(),
                "round {round}, {name} process: {} {}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            assert_eq!(json(o)["subject"], "mia");
        }
        let who = env.run(&["--json", "whoami"]);
        assert_eq!(json(&who)["subject"], "mia", "round {round}");
    }
    let info = env.run(&["--json", "userinfo"]);
    assert_eq!(json(&info)["sub"], "mia");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_login_prints_the_code_and_completes_when_approved() {
    let env = Env::new().await;
    let browser = Browser::start().await.unwrap();
    let mut child = env
        .zid()
        .args(["--json", "login", "--device"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first stderr line is the JSON prompt with the verification URL.
    let stderr = child.stderr.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut l = String::new();
        std::io::BufReader::new(stderr).read_line(&mut l).unwrap();
        l
    })
    .await
    .unwrap();
    let prompt: serde_json::Value = serde_json::from_str(&line).unwrap();
    let code = prompt["user_code"].as_str().unwrap();
    let uri = prompt["verification_uri_complete"].as_str().unwrap();
    assert!(uri.contains(code));
    browser.approve_device(uri, "liam", "pw").await.unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(json(&out)["subject"], "liam");
    browser.close().await;
}

#[tokio::test]
async fn human_device_prompt_shows_url_code_and_qr_code() {
    let env = Env::new().await;
    let out = env.run(&["login", "--device", "--timeout", "1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/device"), "{err}");
    assert!(err.contains("confirm the code"), "{err}");
    assert!(err.contains('█'), "a QR code is drawn: {err}");
    assert!(!out.status.success());
    assert!(
        err.lines().last().unwrap().starts_with("zid: error:"),
        "{err}"
    );
}

#[test]
fn errors_are_one_line_or_a_json_object_and_exit_non_zero() {
    let out = Command::new(ZID)
        .env_clear()
        .args(["whoami"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--issuer"), "{err}");

    let out = Command::new(ZID)
        .env_clear()
        .args([
            "--json",
            "--issuer",
            "http://idp.example",
            "--client-id",
            "x",
            "--store",
            "memory",
            "token",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let v = json(&out);
    assert_eq!(v["error"]["name"], "misconfigured");
    assert_eq!(v["error"]["code"], 7);
}

#[tokio::test]
async fn a_server_answering_garbage_gives_a_typed_error_not_a_panic() {
    // A loopback server that answers every request with junk.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        for _ in 0..5 {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"issuer\"")
                .await;
        }
    });
    let out = tokio::task::spawn_blocking(move || {
        Command::new(ZID)
            .env_clear()
            .args([
                "--json",
                "--issuer",
                &format!("http://127.0.0.1:{port}"),
                "--client-id",
                "x",
                "--store",
                "memory",
            ])
            .args(["login", "--device"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    // The exit status is the error's code (9: invalid server response).
    assert_eq!(out.status.code(), Some(9));
    let v = json(&out);
    assert_eq!(v["error"]["name"], "invalid_server_response", "{v}");
}

#[test]
fn store_option_is_validated() {
    let out = Command::new(ZID)
        .env_clear()
        .args([
            "--issuer",
            "http://127.0.0.1:9",
            "--client-id",
            "x",
            "--store",
            "floppy:",
            "whoami",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--store must be"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_store_is_the_os_keyring_when_one_runs() {
    // Runs under scripts/with-keyring.sh (the test command does that).
    if std::env::var("ZID_TEST_KEYRING").as_deref() != Ok("1") {
        eprintln!("skipped: no keyring session (ZID_TEST_KEYRING is not 1)");
        return;
    }
    let env = Env::new().await;
    let browser = Browser::start().await.unwrap();
    let with_bus = |mut c: Command| {
        c.env_remove("ZID_STORE")
            .env("ZID_ACCOUNT", format!("kr-{}", std::process::id()));
        for var in [
            "DBUS_SESSION_BUS_ADDRESS",
            "XDG_RUNTIME_DIR",
            "GNOME_KEYRING_CONTROL",
        ] {
            if let Some(v) = std::env::var_os(var) {
                c.env(var, v);
            }
        }
        c
    };
    let (out, _) = browser_login(with_bus(env.zid()), &env, &browser, "mia").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("warning"),
        "no fallback to files"
    );
    assert!(
        !env.dir.path().join(".config/zid").exists(),
        "nothing was written to files"
    );
    let who = with_bus(env.zid())
        .args(["--json", "whoami"])
        .output()
        .unwrap();
    assert_eq!(json(&who)["subject"], "mia");
    let out = with_bus(env.zid())
        .args(["--json", "logout"])
        .output()
        .unwrap();
    assert!(out.status.success());
    browser.close().await;
}

#[tokio::test]
async fn default_store_falls_back_to_files_with_a_warning_without_a_keyring() {
    let env = Env::new().await;
    // env_clear() removed the D-Bus address: no keyring is reachable.
    let out = env
        .zid()
        .env_remove("ZID_STORE")
        .args(["whoami"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: no keyring is reachable"), "{err}");
    assert!(err.contains("not signed in"), "{err}");
    assert!(env.dir.path().join(".config/zid/store").is_dir());
}
