//! Headless Chromium over WebDriver (chromedriver + fantoccini), driven through
//! the provider's login, consent, device and logout pages.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use crate::util::tail_of_file;
use crate::{HarnessError, Result};

/// Chromium's command line, one flag a line (shared with the Kotlin tests
/// of bindings/kotlin): the flags this machine needs (no network but
/// loopback, no first-run or background traffic), plus a host resolver that
/// resolves nothing but loopback, so the browser talks to 127.0.0.1 only (the
/// provider's pages `@import` a web font, which therefore fails fast).
const CHROMIUM_ARGS: &str = include_str!("../chromium-flags.txt");

/// Reads the page the browser shows, in one round trip.
const PAGE_STATE_JS: &str = r#"
const q = (s) => document.querySelector(s);
let kind = 'other';
if (q('input[name="login"]') && q('input[name="password"]')) kind = 'login';
else if (q('input[name="prompt"][value="consent"]')) kind = 'consent';
else if (q('form[id="op.deviceConfirmForm"]')) kind = 'device_confirm';
else if (q('form[id="op.deviceInputForm"]')) kind = 'device_input';
else if (q('form[id="op.logoutForm"]')) kind = 'logout';
else if (document.title.startsWith('oops')) kind = 'error';
return {
  url: location.href,
  title: document.title,
  acted: window.__harnessActed === true,
  kind,
  text: document.body ? document.body.innerText.slice(0, 1500) : '',
};
"#;

#[derive(Debug, Default, Deserialize)]
struct PageState {
    url: String,
    title: String,
    acted: bool,
    kind: String,
    text: String,
}

impl PageState {
    fn describe(&self) -> String {
        format!(
            "{} (title {:?}, page {}): {}",
            self.url,
            self.title,
            self.kind,
            self.text.split_whitespace().collect::<Vec<_>>().join(" ")
        )
    }
}

/// What a drive through the provider's pages ends on.
#[derive(Debug, Clone)]
enum Goal {
    /// The browser is sent to this redirect URI (compared without query and
    /// fragment). `loaded`: wait until the browser shows it, or the page there
    /// has answered (an http(s) URI, served by the code under test, which may
    /// itself redirect elsewhere); otherwise (a private-use scheme Chromium
    /// cannot open) it is enough that a redirect to it was seen in Chromium's
    /// performance log.
    Redirect { target: String, loaded: bool },
    /// A page with this title (the provider's own success pages).
    Title(String),
}

/// chromedriver's log endpoint (`POST /session/{id}/se/log`), here for
/// Chromium's performance log, which records every network request and redirect.
#[derive(Debug)]
struct GetLog(&'static str);

impl WebDriverCompatibleCommand for GetLog {
    fn endpoint(
        &self,
        base_url: &Url,
        session_id: Option<&str>,
    ) -> std::result::Result<Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": self.0 }).to_string()),
        )
    }
}

/// The WebAuthn extension of WebDriver: `POST /session/{id}/webauthn/authenticator`
/// adds a virtual authenticator to the browser.
#[derive(Debug)]
struct AddVirtualAuthenticator(Value);

impl WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(
        &self,
        base_url: &Url,
        session_id: Option<&str>,
    ) -> std::result::Result<Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/webauthn/authenticator",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.0.to_string()))
    }
}

/// Headless Chromium in a fresh profile, driven by its own chromedriver on a
/// free loopback port. chromedriver (and the browser with it) is killed on drop.
#[derive(Debug)]
pub struct Browser {
    client: Client,
    driver: Child,
    timeout: Duration,
    dir: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    ///
    /// `CHROMEDRIVER` and `CHROMIUM` override the programs (default
    /// `chromedriver` on the `PATH` and `/usr/bin/chromium` if it exists).
    pub async fn start() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("harness-browser-")
            .tempdir()
            .map_err(|e| HarnessError::io("creating the browser's temporary directory", e))?;
        let profile = dir.path().join("profile");
        let driver_log = dir.path().join("chromedriver.log");
        let driver_program = match std::env::var_os("CHROMEDRIVER") {
            Some(program) => PathBuf::from(program),
            None => find_in_path("chromedriver").ok_or_else(|| HarnessError::Start {
                what: "chromedriver".to_owned(),
                detail: "chromedriver is not on the PATH (run scripts/install-test-deps.sh to \
                         install chromium and chromium-driver, or set CHROMEDRIVER)"
                    .to_owned(),
            })?,
        };
        let stderr = std::fs::File::create(&driver_log)
            .map_err(|e| HarnessError::io("creating the chromedriver log", e))?;
        // On unix chromedriver runs under a small shell in a process group of
        // its own: Drop kills the group (chromedriver and its Chromium), and if
        // the test process dies without dropping (killed, aborted), the shell
        // sees its stdin close and kills the group itself.
        #[cfg(unix)]
        let mut command = {
            use std::os::unix::process::CommandExt as _;
            let mut command = Command::new("sh");
            command
                .arg("-c")
                .arg(r#""$1" --port=0 </dev/null & cat >/dev/null; kill -KILL 0"#)
                .arg("sh")
                .arg(&driver_program)
                .stdin(Stdio::piped())
                .process_group(0);
            command
        };
        #[cfg(not(unix))]
        let mut command = {
            let mut command = Command::new(&driver_program);
            command.arg("--port=0").stdin(Stdio::null());
            command
        };
        command.stdout(Stdio::piped()).stderr(stderr);
        let mut driver = command.spawn().map_err(|e| HarnessError::Start {
            what: "chromedriver".to_owned(),
            detail: format!("spawning {}: {e}", driver_program.display()),
        })?;

        // chromedriver prints "ChromeDriver was started successfully on port N."
        let stdout = driver.stdout.take().expect("stdout is piped");
        let (tx, rx) = tokio::sync::oneshot::channel::<Option<u16>>();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    let port = rest.trim().trim_end_matches('.').parse().ok();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(port);
                    }
                }
                line.clear();
            }
            if let Some(tx) = tx.take() {
                let _ = tx.send(None);
            }
        });
        let port = match tokio::time::timeout(crate::timeout(), rx).await {
            Ok(Ok(Some(port))) => port,
            Ok(_) => {
                kill_group(&mut driver);
                return Err(HarnessError::Start {
                    what: "chromedriver".to_owned(),
                    detail: format!(
                        "it did not report its port; its log: {}",
                        tail_of_file(&driver_log, 2000)
                    ),
                });
            }
            Err(_) => {
                kill_group(&mut driver);
                return Err(HarnessError::Timeout {
                    what: "chromedriver to start".to_owned(),
                    after: crate::timeout(),
                    seen: tail_of_file(&driver_log, 2000),
                });
            }
        };

        let mut args: Vec<String> = CHROMIUM_ARGS.lines().map(str::to_owned).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        // Never hand the private-use redirect scheme to the OS (xdg-open): block
        // it outright, so the redirect shows in the performance log and nothing
        // else happens (an attempted external launch can leave the tab ignoring
        // clicks).
        let scheme = crate::CUSTOM_SCHEME_REDIRECT_URI
            .split(':')
            .next()
            .unwrap_or_default();
        let mut chrome_options = json!({
            "args": args,
            "prefs": { "protocol_handler": { "excluded_schemes": { scheme: true } } },
        });
        if let Some(binary) = chromium_binary() {
            chrome_options["binary"] = json!(binary);
        }
        let timeout_ms = crate::timeout().as_millis() as u64;
        // The performance log is how redirects are seen; the console log only
        // helps debugging.
        let logging_prefs = if debug_enabled() {
            json!({ "performance": "ALL", "browser": "ALL" })
        } else {
            json!({ "performance": "ALL" })
        };
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": chrome_options,
            "goog:loggingPrefs": logging_prefs,
            "timeouts": { "pageLoad": timeout_ms, "script": timeout_ms, "implicit": 0 },
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!("capabilities are an object"),
        };
        let connect = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        let client = match connect {
            Ok(client) => client,
            Err(e) => {
                kill_group(&mut driver);
                return Err(HarnessError::Start {
                    what: "a headless Chromium session".to_owned(),
                    detail: format!(
                        "{e}; chromedriver's log: {}",
                        tail_of_file(&driver_log, 2000)
                    ),
                });
            }
        };
        Ok(Self {
            client,
            driver,
            timeout: crate::timeout(),
            dir,
        })
    }

    /// The fantoccini client, for anything the helpers here do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Adds a WebAuthn virtual authenticator to the browser (CTAP2 over USB,
    /// with resident keys and user verification that always succeeds), so
    /// that `navigator.credentials.create` and `.get` work without a person.
    /// Returns the authenticator's id.
    pub async fn add_virtual_authenticator(&self) -> Result<String> {
        let value = self
            .client
            .issue_cmd(AddVirtualAuthenticator(json!({
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": true,
                "hasUserVerification": true,
                "isUserVerified": true,
                "isUserConsenting": true,
            })))
            .await
            .map_err(|e| HarnessError::webdriver("adding a virtual authenticator", e))?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// Sets how long each helper waits at most (default [`crate::timeout`]).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Where chromedriver's log goes.
    pub fn driver_log_path(&self) -> PathBuf {
        self.dir.path().join("chromedriver.log")
    }

    /// The URL the browser shows now.
    pub async fn current_url(&self) -> Result<Url> {
        self.client
            .current_url()
            .await
            .map_err(|e| HarnessError::webdriver("reading the current URL", e))
    }

    /// Forgets every cookie, so the provider's session (and with it the
    /// logged-in user) is gone: the next [`Browser::login`] shows the login page
    /// again. Without this, a later login in the same browser reuses the
    /// session and ignores its login name.
    pub async fn forget_sessions(&self) -> Result<()> {
        self.client
            .delete_all_cookies()
            .await
            .map_err(|e| HarnessError::webdriver("deleting all cookies", e))
    }

    /// Saves a PNG screenshot of the page (for debugging a failing test).
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let png = self
            .client
            .screenshot()
            .await
            .map_err(|e| HarnessError::webdriver("taking a screenshot", e))?;
        std::fs::write(path, png).map_err(|e| HarnessError::io("writing a screenshot", e))
    }

    /// Opens an authorization URL and goes through the provider's login page
    /// (with `login_name` / `password`, skipped if the browser already has a
    /// session) and consent page, until the browser has been redirected to the
    /// request's `redirect_uri` and the page there (served by the code under
    /// test) has answered. Returns the redirect URL, with `code`, `state` and
    /// `iss` (or `error`).
    ///
    /// If the browser already has a session at the provider, the login page is
    /// skipped and `login_name` is ignored: see [`Browser::forget_sessions`].
    pub async fn login(&self, auth_url: &str, login_name: &str, password: &str) -> Result<Url> {
        let target = redirect_uri_of(auth_url, "redirect_uri")?.ok_or_else(|| {
            HarnessError::Other(format!(
                "the authorization URL has no redirect_uri (PAR?): use Browser::authorize; {auth_url}"
            ))
        })?;
        self.authorize(auth_url, &target, login_name, password)
            .await
    }

    /// Like [`Browser::login`] for an authorization request whose redirect URI
    /// uses a private-use scheme such as `com.example.app:/callback`, which
    /// Chromium cannot open: returns the URL the provider redirected to, read
    /// from Chromium's performance log (the `Location` of the last redirect).
    pub async fn login_custom_scheme(
        &self,
        auth_url: &str,
        login_name: &str,
        password: &str,
    ) -> Result<Url> {
        self.login(auth_url, login_name, password).await
    }

    /// The general form of [`Browser::login`]: drives the login and consent
    /// pages until the browser is redirected to `redirect_uri` (compared without
    /// query; for http(s) once the page has loaded, for other schemes once the
    /// redirect was seen). Useful when the URL does not carry `redirect_uri`
    /// itself, e.g. after a pushed authorization request.
    pub async fn authorize(
        &self,
        auth_url: &str,
        redirect_uri: &str,
        login_name: &str,
        password: &str,
    ) -> Result<Url> {
        let goal = Goal::Redirect {
            target: strip_query(redirect_uri).to_owned(),
            loaded: is_http(redirect_uri),
        };
        self.drive(auth_url, &goal, login_name, password).await
    }

    /// Opens a device flow's `verification_uri_complete`, confirms the user
    /// code, logs in (unless the browser already has a session) and consents,
    /// and returns once the provider shows its success page.
    pub async fn approve_device(
        &self,
        verification_uri_complete: &str,
        login_name: &str,
        password: &str,
    ) -> Result<()> {
        let goal = Goal::Title("Sign-in Success".to_owned());
        self.drive(verification_uri_complete, &goal, login_name, password)
            .await
            .map(|_| ())
    }

    /// Opens an end-session (RP-initiated logout) URL and confirms the logout.
    /// If the URL carries a `post_logout_redirect_uri`, returns once the browser
    /// is redirected there (loaded for http(s); seen for a private-use scheme),
    /// with that URL (and its `state`); otherwise once the provider shows its
    /// sign-out success page, with that page's URL.
    pub async fn end_session(&self, url: &str) -> Result<Url> {
        let target = redirect_uri_of(url, "post_logout_redirect_uri")?;
        self.end_session_landing_at(url, target.as_deref()).await
    }

    /// Like [`Browser::end_session`] for a URL that leads to the end-session
    /// endpoint by redirects (e.g. `zid`'s one-time loopback hand-off), so the
    /// `post_logout_redirect_uri` cannot be read from it.
    pub async fn end_session_landing_at(
        &self,
        url: &str,
        post_logout_redirect_uri: Option<&str>,
    ) -> Result<Url> {
        let goal = match post_logout_redirect_uri {
            Some(target) => Goal::Redirect {
                loaded: is_http(target),
                target: strip_query(target).to_owned(),
            },
            None => Goal::Title("Sign-out Success".to_owned()),
        };
        self.drive(url, &goal, "", "").await
    }

    /// Ends the WebDriver session and stops chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        kill_group(&mut self.driver);
    }

    async fn performance_log(&self) -> Result<Vec<Value>> {
        let value = self
            .client
            .issue_cmd(GetLog("performance"))
            .await
            .map_err(|e| HarnessError::webdriver("reading Chromium's performance log", e))?;
        Ok(match value {
            Value::Array(entries) => entries,
            _ => Vec::new(),
        })
    }

    /// Goes to `start` and acts on the provider's pages until `goal`.
    async fn drive(
        &self,
        start: &str,
        goal: &Goal,
        login_name: &str,
        password: &str,
    ) -> Result<Url> {
        if !start.starts_with("http://127.0.0.1") && !start.starts_with("http://localhost") {
            return Err(HarnessError::Other(format!(
                "the harness only browses loopback, not {start}"
            )));
        }
        // Forget what happened before this drive.
        self.performance_log().await?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut last = PageState::default();
        let mut last_url = String::new();
        let mut goto = Some(start.to_owned());
        // When the harness last acted on a page, and whether the browser has
        // started a navigation since: a click that did not submit (seen rarely,
        // right after a redirect to a scheme Chromium cannot open) is retried.
        let mut acted_at: Option<tokio::time::Instant> = None;
        let mut navigated_since_act = false;
        let mut retries = 0;
        loop {
            if let Some(url) = goto.take() {
                // A navigation that ends on a scheme Chromium cannot open may
                // report an error; what counts is where the browser went.
                if let Err(e) = self.client.goto(&url).await {
                    last_url = format!("(goto {url} failed: {e})");
                }
            }
            if let Goal::Redirect { target, .. } = goal
                && let Ok(url) = self.client.current_url().await
            {
                if strip_query(url.as_str()) == target {
                    return Ok(url);
                }
                last_url = url.to_string();
            }
            for entry in self.performance_log().await? {
                if debug_enabled() {
                    eprintln!("[harness] perf: {entry}");
                }
                if is_navigation_start(&entry) {
                    navigated_since_act = true;
                }
                let Goal::Redirect { target, loaded } = goal else {
                    continue;
                };
                let found = if *loaded {
                    answered_in_log_entry(&entry, target)
                } else {
                    redirect_in_log_entry(&entry, target)
                };
                if let Some(url) = found {
                    if !*loaded {
                        // Leave the tab whose navigation went nowhere for a fresh
                        // one: a click in it may otherwise be swallowed later.
                        self.fresh_tab().await;
                    }
                    return Url::parse(&url).map_err(|e| {
                        HarnessError::Other(format!("redirected to an invalid URL {url}: {e}"))
                    });
                }
            }
            if tokio::time::Instant::now() >= deadline {
                let what = match goal {
                    Goal::Redirect { target, .. } => format!("a redirect to {target}"),
                    Goal::Title(title) => format!("the page {title:?}"),
                };
                return Err(HarnessError::Timeout {
                    what,
                    after: self.timeout,
                    seen: format!("{last_url} {}", last.describe()),
                });
            }
            // While a page is loading or unloading, scripts may fail: just retry.
            let state = match self.client.execute(PAGE_STATE_JS, vec![]).await {
                Ok(value) => serde_json::from_value::<PageState>(value).unwrap_or_default(),
                Err(_) => {
                    tokio::time::sleep(POLL).await;
                    continue;
                }
            };
            if let Goal::Title(title) = goal
                && &state.title == title
            {
                return self.current_url().await;
            }
            if debug_enabled() {
                eprintln!("[harness] page: acted={} {}", state.acted, state.describe());
            }
            let mut acted = state.acted;
            let kind = state.kind.clone();
            last = state;
            if acted
                && !navigated_since_act
                && retries < 3
                && acted_at.is_some_and(|t| t.elapsed() > Duration::from_secs(3))
            {
                // Acted on this page a while ago and the browser never started
                // to navigate: act again.
                retries += 1;
                acted = false;
                if debug_enabled() {
                    eprintln!("[harness] no navigation after acting: acting again");
                    if let Ok(console) = self.client.issue_cmd(GetLog("browser")).await {
                        eprintln!("[harness] console: {console}");
                    }
                }
            }
            if acted {
                // Still the page already acted on: wait for the navigation.
                tokio::time::sleep(POLL).await;
                continue;
            }
            let button = match kind.as_str() {
                "login" => {
                    Some(r#"form input[name="prompt"][value="login"] ~ button[type="submit"]"#)
                }
                "consent" => {
                    Some(r#"form input[name="prompt"][value="consent"] ~ button[type="submit"]"#)
                }
                "device_confirm" => Some(r#"button[autofocus][form="op.deviceConfirmForm"]"#),
                "logout" => Some(r#"button[name="logout"][value="yes"]"#),
                "device_input" | "error" => {
                    return Err(HarnessError::UnexpectedPage {
                        url: last.url.clone(),
                        detail: last.describe(),
                    });
                }
                _ => None,
            };
            let Some(button) = button else {
                tokio::time::sleep(POLL).await;
                continue;
            };
            let mut result = Ok(());
            if kind == "login" {
                result = self.fill_login(login_name, password).await;
            }
            if result.is_ok() {
                navigated_since_act = false;
                acted_at = Some(tokio::time::Instant::now());
                result = if retries == 0 {
                    self.act_on(button).await
                } else {
                    self.submit_by_script(button).await
                };
            }
            if let Err(e) = result {
                // The page may have gone away under us (a navigation): retry
                // until the deadline, then report this error.
                last_url = format!("(last action failed: {e})");
                tokio::time::sleep(POLL).await;
            }
        }
    }

    /// Replaces the current tab with a new one (same profile and cookies).
    async fn fresh_tab(&self) {
        let Ok(new) = self.client.new_window(true).await else {
            return;
        };
        let _ = self.client.close_window().await;
        let _ = self.client.switch_to_window(new.handle).await;
    }

    /// Marks the current page as acted on, so the loop waits for the next one.
    async fn mark_acted(&self) -> Result<()> {
        self.client
            .execute("window.__harnessActed = true;", vec![])
            .await
            .map(|_| ())
            .map_err(|e| HarnessError::webdriver("marking the page", e))
    }

    async fn act_on(&self, button: &str) -> Result<()> {
        let element = self
            .client
            .find(Locator::Css(button))
            .await
            .map_err(|e| HarnessError::webdriver(format!("finding {button}"), e))?;
        self.mark_acted().await?;
        element
            .click()
            .await
            .map_err(|e| HarnessError::webdriver(format!("clicking {button}"), e))
    }

    /// Submits the button's form from script (`requestSubmit`), for when a
    /// real click did not start a navigation.
    async fn submit_by_script(&self, button: &str) -> Result<()> {
        self.mark_acted().await?;
        self.client
            .execute(
                "const b = document.querySelector(arguments[0]); \
                 if (b.form) { b.form.requestSubmit(b); } else { b.click(); }",
                vec![json!(button)],
            )
            .await
            .map(|_| ())
            .map_err(|e| HarnessError::webdriver(format!("submitting {button} from script"), e))
    }

    async fn fill_login(&self, login_name: &str, password: &str) -> Result<()> {
        if login_name.is_empty() {
            return Err(HarnessError::Other(
                "the provider asks for a login, but no login name was given".to_owned(),
            ));
        }
        for (selector, value) in [
            (r#"input[name="login"]"#, login_name),
            (r#"input[name="password"]"#, password),
        ] {
            let input = self
                .client
                .find(Locator::Css(selector))
                .await
                .map_err(|e| HarnessError::webdriver(format!("finding {selector}"), e))?;
            input
                .clear()
                .await
                .map_err(|e| HarnessError::webdriver(format!("clearing {selector}"), e))?;
            input
                .send_keys(value)
                .await
                .map_err(|e| HarnessError::webdriver(format!("typing into {selector}"), e))?;
        }
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
    }
}

/// Kills chromedriver's process group (chromedriver and the Chromium it
/// started), then chromedriver itself, and reaps it.
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// How often the drive loop looks at the browser.
const POLL: Duration = Duration::from_millis(100);

/// Whether a performance-log entry says the browser started a navigation.
fn is_navigation_start(entry: &Value) -> bool {
    let Some(message) = entry
        .get("message")
        .and_then(Value::as_str)
        .and_then(|m| serde_json::from_str::<Value>(m).ok())
    else {
        return false;
    };
    matches!(
        message.pointer("/message/method").and_then(Value::as_str),
        Some(
            "Page.frameRequestedNavigation"
                | "Page.frameScheduledNavigation"
                | "Page.frameStartedNavigating"
                | "Page.frameStartedLoading"
        )
    )
}

/// `HARNESS_DEBUG=1` prints every page state and performance-log entry seen.
fn debug_enabled() -> bool {
    std::env::var_os("HARNESS_DEBUG").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The first `name` in a directory of `PATH`.
fn find_in_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn chromium_binary() -> Option<String> {
    if let Some(binary) = std::env::var_os("CHROMIUM") {
        return Some(binary.to_string_lossy().into_owned());
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .find(|p| Path::new(p).exists())
        .map(|p| (*p).to_owned())
}

fn strip_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

fn is_http(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// The value of the query parameter `name` (a redirect URI) of `url`.
fn redirect_uri_of(url: &str, name: &str) -> Result<Option<String>> {
    let parsed =
        Url::parse(url).map_err(|e| HarnessError::Other(format!("not a URL: {url}: {e}")))?;
    Ok(parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned()))
}

/// The URL of a response from `target` (without query) in one performance-log
/// entry: the page there was answered, possibly with a redirect elsewhere (so
/// the browser may no longer show it).
fn answered_in_log_entry(entry: &Value, target: &str) -> Option<String> {
    let message: Value = serde_json::from_str(entry.get("message")?.as_str()?).ok()?;
    let message = message.get("message")?;
    let url = match message.get("method")?.as_str()? {
        "Network.responseReceived" => message.pointer("/params/response/url"),
        "Network.requestWillBeSent" => message.pointer("/params/redirectResponse/url"),
        _ => None,
    }?
    .as_str()?;
    (strip_query(url) == target).then(|| url.to_owned())
}

/// A URL in one performance-log entry that goes to `target` (without query):
/// a request Chromium was about to send, or the `Location` of a redirect.
fn redirect_in_log_entry(entry: &Value, target: &str) -> Option<String> {
    let message: Value = serde_json::from_str(entry.get("message")?.as_str()?).ok()?;
    let params = message.get("message")?.get("params")?;
    let mut candidates: Vec<&str> = Vec::new();
    if let Some(url) = params.pointer("/request/url").and_then(Value::as_str) {
        candidates.push(url);
    }
    if let Some(url) = params.get("url").and_then(Value::as_str) {
        candidates.push(url);
    }
    for headers in [
        params.pointer("/redirectResponse/headers"),
        params.pointer("/response/headers"),
        params.get("headers"),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(map) = headers.as_object() {
            for (name, value) in map {
                if name.eq_ignore_ascii_case("location")
                    && let Some(url) = value.as_str()
                {
                    candidates.push(url);
                }
            }
        }
    }
    candidates
        .into_iter()
        .find(|url| strip_query(url) == target)
        .map(str::to_owned)
}
