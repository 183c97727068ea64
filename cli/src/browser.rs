//! Opening the system browser: `$BROWSER` first (the command gets the URL as
//! its argument), then the platform's opener.
//!
//! # Security
//! A URL is printed only when no browser could be started: an authorization
//! URL in a terminal's scroll-back or a shared screen is one more place for
//! it to leak. A URL that carries a token (the end-session URL with its
//! `id_token_hint`) is never put on a command line, where every local user
//! can read it (`ps`): the browser is sent to a one-time loopback address
//! that redirects to it (see [`open_via_loopback`]).

use crate::output::clean;
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use zitadel_sdk::{BrowserLauncher, Url};

/// Opens URLs in the system browser.
pub struct SystemBrowser;

impl SystemBrowser {
    /// Opens `url`; when no browser can be started, prints it for the user
    /// to open by hand. Returns whether a browser was started.
    pub fn open_url(&self, url: &Url) -> bool {
        let opened = launch(url.as_str());
        if !opened {
            eprintln!(
                "No browser could be started. Open this URL in your browser:\n  {}",
                clean(url.as_str())
            );
        }
        opened
    }
}

#[zitadel_sdk::async_trait]
impl BrowserLauncher for SystemBrowser {
    async fn open(&self, url: &Url, _redirect_uri: &Url) -> zitadel_sdk::Result<Option<Url>> {
        self.open_url(url);
        Ok(None)
    }
}

/// How long a launcher command may take to say it failed; one still running
/// then (a browser started in the foreground) counts as started.
const LAUNCH_GRACE: Duration = Duration::from_millis(1500);

/// Runs `program args...`; false when it cannot be started or exits with a
/// failure within [`LAUNCH_GRACE`].
fn spawn(program: &str, args: &[&str]) -> bool {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    let started = std::time::Instant::now();
    while started.elapsed() < LAUNCH_GRACE {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => return false,
        }
    }
    true
}

fn launch(url: &str) -> bool {
    if let Ok(b) = std::env::var("BROWSER") {
        // Like xdg-open: a colon-separated list of commands; each may carry arguments.
        for cmd in b.split(':').filter(|c| !c.trim().is_empty()) {
            let mut parts = cmd.split_whitespace();
            if let Some(prog) = parts.next() {
                let mut args: Vec<&str> = parts.collect();
                args.push(url);
                if spawn(prog, &args) {
                    return true;
                }
            }
        }
        return false;
    }
    if cfg!(target_os = "macos") {
        spawn("open", &[url])
    } else if cfg!(target_os = "windows") {
        spawn("rundll32", &["url.dll,FileProtocolHandler", url])
    } else {
        spawn("xdg-open", &[url])
    }
}

/// How the hand-off of a secret-carrying URL to the browser ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handoff {
    /// The browser fetched the one-time address and was redirected.
    Redirected,
    /// No browser could be started; the URL was printed instead.
    Printed,
    /// A browser was started but did not come within the time allowed.
    TimedOut,
}

/// Opens `target` in the browser without putting it on a command line: the
/// browser gets `http://127.0.0.1:PORT/handoff/RANDOM`, which answers one
/// request with a `303` to `target` and then closes. Other requests get a
/// 404. Waits at most `timeout` for the browser.
pub async fn open_via_loopback(target: &Url, timeout: Duration) -> Handoff {
    let Ok(listener) = TcpListener::bind(("127.0.0.1", 0)).await else {
        return print_instead(target);
    };
    let Ok(addr) = listener.local_addr() else {
        return print_instead(target);
    };
    let path = format!("/handoff/{:032x}", rand::random::<u128>());
    let local = format!("http://{addr}{path}");
    let opened = tokio::task::spawn_blocking(move || launch(&local))
        .await
        .unwrap_or(false);
    if !opened {
        return print_instead(target);
    }
    let serve = async {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let served = tokio::time::timeout(Duration::from_secs(5), async {
                let head = read_head(&mut stream).await?;
                let request_line = head.lines().next().unwrap_or_default().to_owned();
                let mut parts = request_line.split(' ');
                let hit = parts.next() == Some("GET") && parts.next() == Some(path.as_str());
                let response = if hit {
                    format!(
                        "HTTP/1.1 303 See Other\r\nLocation: {target}\r\nCache-Control: no-store\r\n\
                         Referrer-Policy: no-referrer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()
                };
                stream.write_all(response.as_bytes()).await.ok()?;
                let _ = stream.shutdown().await;
                hit.then_some(())
            })
            .await;
            if let Ok(Some(())) = served {
                return;
            }
        }
    };
    match tokio::time::timeout(timeout, serve).await {
        Ok(()) => Handoff::Redirected,
        Err(_) => Handoff::TimedOut,
    }
}

fn print_instead(target: &Url) -> Handoff {
    eprintln!(
        "No browser could be started. Open this URL in your browser:\n  {}",
        clean(target.as_str())
    );
    Handoff::Printed
}

/// Reads an HTTP request head (at most 8 KiB).
async fn read_head(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() + n > 8 * 1024 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}
