//! The third-party OpenID provider (`oidc-provider`) as a child process.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::util::tail_of_file;
use crate::{HarnessError, Result};

/// How to start a [`Provider`].
#[derive(Debug, Clone)]
pub struct ProviderOptions {
    /// The port on 127.0.0.1; 0 (the default) picks a free one.
    pub port: u16,
    /// The access-token lifetime in seconds (default 3600).
    pub access_token_ttl_secs: u64,
    /// How long to wait for the provider to be ready (default [`crate::timeout`]).
    pub startup_timeout: Duration,
}

impl Default for ProviderOptions {
    fn default() -> Self {
        Self {
            port: 0,
            access_token_ttl_secs: 3600,
            startup_timeout: crate::timeout(),
        }
    }
}

impl ProviderOptions {
    /// The defaults with another access-token lifetime.
    pub fn with_access_token_ttl(secs: u64) -> Self {
        Self {
            access_token_ttl_secs: secs,
            ..Self::default()
        }
    }
}

/// One line of the provider's request log.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LoggedRequest {
    /// The HTTP method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The response status.
    pub status: u16,
}

#[derive(Debug, Deserialize)]
struct ReadyLine {
    issuer: String,
    port: u16,
    kid: String,
}

/// A running `oidc-provider` on `127.0.0.1` (see `tests/provider/server.mjs`),
/// with the native public client [`crate::CLIENT_ID`].
///
/// Any login name and password are accepted on its login page; the subject is
/// the login name. Its state (sessions, codes, tokens) is in memory: a restart
/// forgets it. Killed when dropped.
#[derive(Debug)]
pub struct Provider {
    child: Option<Child>,
    issuer: String,
    port: u16,
    kid: String,
    options: ProviderOptions,
    dir: tempfile::TempDir,
}

impl Provider {
    /// The directory holding `server.mjs` and its `node_modules`.
    pub fn provider_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("provider")
    }

    /// Starts the provider and waits (bounded) until it is ready.
    pub async fn start(options: ProviderOptions) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("oidc-provider-")
            .tempdir()
            .map_err(|e| HarnessError::io("creating the provider's temporary directory", e))?;
        let mut provider = Self {
            child: None,
            issuer: String::new(),
            port: options.port,
            kid: String::new(),
            options,
            dir,
        };
        provider.spawn().await?;
        Ok(provider)
    }

    /// Starts the provider with [`ProviderOptions::default`].
    pub async fn start_default() -> Result<Self> {
        Self::start(ProviderOptions::default()).await
    }

    /// The issuer, exactly as in discovery and in tokens: `http://127.0.0.1:PORT`
    /// (no trailing slash).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The issuer as a URL (note: `Url` serializes it with a trailing `/`).
    pub fn issuer_url(&self) -> Url {
        Url::parse(&self.issuer).expect("the issuer is a URL")
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `kid` of the current signing key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The options it runs with.
    pub fn options(&self) -> &ProviderOptions {
        &self.options
    }

    /// `issuer + path`, e.g. `endpoint("/token")`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// The discovery document's URL.
    pub fn discovery_url(&self) -> String {
        self.endpoint("/.well-known/openid-configuration")
    }

    /// The authorization endpoint.
    pub fn authorization_endpoint(&self) -> String {
        self.endpoint("/auth")
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> String {
        self.endpoint("/token")
    }

    /// The device authorization endpoint (RFC 8628).
    pub fn device_authorization_endpoint(&self) -> String {
        self.endpoint("/device/auth")
    }

    /// The JWKS URI.
    pub fn jwks_uri(&self) -> String {
        self.endpoint("/jwks")
    }

    /// The userinfo endpoint.
    pub fn userinfo_endpoint(&self) -> String {
        self.endpoint("/me")
    }

    /// The revocation endpoint (RFC 7009).
    pub fn revocation_endpoint(&self) -> String {
        self.endpoint("/token/revocation")
    }

    /// The introspection endpoint (RFC 7662).
    pub fn introspection_endpoint(&self) -> String {
        self.endpoint("/token/introspection")
    }

    /// The end-session endpoint (RP-initiated logout).
    pub fn end_session_endpoint(&self) -> String {
        self.endpoint("/session/end")
    }

    /// The file the provider appends one JSON line per HTTP request to.
    pub fn request_log_path(&self) -> PathBuf {
        self.dir.path().join("requests.jsonl")
    }

    /// The file the provider's stderr goes to (its warnings and errors).
    pub fn stderr_log_path(&self) -> PathBuf {
        self.dir.path().join("provider.stderr.log")
    }

    fn key_file(&self) -> PathBuf {
        self.dir.path().join("signing-key.jwk.json")
    }

    /// Every request the provider has answered so far (across restarts), oldest
    /// first. A request's line is written before its response is finished.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        let Ok(text) = std::fs::read_to_string(self.request_log_path()) else {
            return Vec::new();
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// How many requests went to `path` (without query), any method.
    pub fn request_count(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path == path).count()
    }

    /// Forgets the requests logged so far.
    pub fn clear_requests(&self) -> Result<()> {
        std::fs::write(self.request_log_path(), b"")
            .map_err(|e| HarnessError::io("truncating the request log", e))
    }

    /// Restarts on the same port with the same signing key (all in-memory state
    /// — sessions, codes, tokens — is lost).
    pub async fn restart(&mut self) -> Result<()> {
        self.kill();
        self.spawn().await
    }

    /// Restarts on the same port with a NEW signing key (new `kid`), to test key
    /// rotation. The issuer stays the same; all in-memory state is lost.
    pub async fn restart_with_new_key(&mut self) -> Result<()> {
        self.kill();
        match std::fs::remove_file(self.key_file()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(HarnessError::io("removing the old signing key", e)),
        }
        self.spawn().await
    }

    /// Sets the access-token lifetime. This restarts the provider on the same
    /// port with the same key, so all in-memory state is lost: call it before
    /// the flow under test, or use [`ProviderOptions::access_token_ttl_secs`].
    pub async fn set_access_token_ttl(&mut self, secs: u64) -> Result<()> {
        self.options.access_token_ttl_secs = secs;
        self.restart().await
    }

    /// Stops the provider (also done on drop).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn spawn(&mut self) -> Result<()> {
        let dir = Self::provider_dir();
        let script = dir.join("server.mjs");
        if !dir.join("node_modules").join("oidc-provider").is_dir() {
            return Err(HarnessError::Start {
                what: "the OpenID provider".to_owned(),
                detail: format!(
                    "{} is missing: run scripts/install-test-deps.sh (npm ci in tests/provider)",
                    dir.join("node_modules/oidc-provider").display()
                ),
            });
        }
        let node = std::env::var_os("NODE").unwrap_or_else(|| "node".into());
        let timeout = self.options.startup_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let stderr = std::fs::File::options()
                .create(true)
                .append(true)
                .open(self.stderr_log_path())
                .map_err(|e| HarnessError::io("opening the provider's stderr log", e))?;
            let mut child = Command::new(&node)
                .arg(&script)
                .arg("--port")
                .arg(self.port.to_string())
                .arg("--key-file")
                .arg(self.key_file())
                .arg("--access-token-ttl")
                .arg(self.options.access_token_ttl_secs.to_string())
                .arg("--request-log")
                .arg(self.request_log_path())
                .arg("--exit-with-stdin")
                .current_dir(&dir)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(stderr)
                .spawn()
                .map_err(|e| HarnessError::Start {
                    what: "the OpenID provider".to_owned(),
                    detail: format!("spawning {node:?}: {e} (is Node.js installed?)"),
                })?;
            let stdout = child.stdout.take().expect("stdout is piped");
            let (tx, rx) = tokio::sync::oneshot::channel::<Option<String>>();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stdout);
                let mut line = String::new();
                let first = match reader.read_line(&mut line) {
                    Ok(n) if n > 0 => Some(line.clone()),
                    _ => None,
                };
                let _ = tx.send(first);
                // Keep draining so the child never blocks on a full pipe.
                let _ = std::io::copy(&mut reader, &mut std::io::sink());
            });
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let line = match tokio::time::timeout(left, rx).await {
                Ok(Ok(Some(line))) => line,
                Ok(_) => {
                    // The process exited before it was ready.
                    let _ = child.kill();
                    let status = child.wait().ok();
                    let log = tail_of_file(&self.stderr_log_path(), 2000);
                    let in_use = log.contains("EADDRINUSE");
                    if in_use && self.port != 0 && tokio::time::Instant::now() < deadline {
                        // The old process's port is not free yet: try again shortly.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                    return Err(HarnessError::Start {
                        what: "the OpenID provider".to_owned(),
                        detail: format!(
                            "it exited ({status:?}) before it was ready; stderr: {log}"
                        ),
                    });
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(HarnessError::Timeout {
                        what: "the OpenID provider's ready line".to_owned(),
                        after: timeout,
                        seen: tail_of_file(&self.stderr_log_path(), 2000),
                    });
                }
            };
            let ready: ReadyLine = serde_json::from_str(line.trim()).map_err(|e| {
                let _ = child.kill();
                HarnessError::Start {
                    what: "the OpenID provider".to_owned(),
                    detail: format!("its ready line {line:?} is not the expected JSON: {e}"),
                }
            })?;
            self.issuer = ready.issuer;
            self.port = ready.port;
            self.kid = ready.kid;
            self.child = Some(child);
            return Ok(());
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.kill();
    }
}
