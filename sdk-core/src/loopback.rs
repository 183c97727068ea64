//! The loopback redirect receiver for desktop apps (RFC 8252 §7.3): listens
//! on an ephemeral port of the loopback interface, answers the browser with
//! a short page, and hands the callback URL to the login.

use crate::error::{Error, ErrorKind, Result};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use url::Url;

const MAX_REQUEST: usize = 16 * 1024;
/// How long one connection may take to send its request and get its answer.
const PER_CONNECTION: Duration = Duration::from_secs(10);
/// Connections served at once; more are closed unanswered.
const MAX_CONNECTIONS: usize = 64;
/// The longest wait (a day); a longer timeout is cut to it.
const MAX_WAIT_SECS: u64 = 24 * 3600;

/// A bound loopback listener waiting for one authorization callback.
#[derive(Debug)]
pub struct LoopbackReceiver {
    listener: TcpListener,
    redirect_uri: Url,
}

impl LoopbackReceiver {
    /// Binds an ephemeral port on the loopback address named by `template`
    /// (e.g. `http://127.0.0.1/callback`) and returns the receiver with the
    /// redirect URI including the port. A `localhost` template is rewritten
    /// to `127.0.0.1` (RFC 8252 §8.3): `localhost` may resolve to `::1` or to
    /// another process's listener, so the browser is sent to the very
    /// address that is listened on.
    ///
    /// # Errors
    /// The template is not a loopback HTTP URL, or binding fails.
    pub async fn bind(template: &Url) -> Result<Self> {
        if template.scheme() != "http" || !crate::http::is_loopback_host(template) {
            return Err(Error::config(
                "a loopback redirect URI must be http://127.0.0.1/…, http://[::1]/… or http://localhost/…",
            ));
        }
        let ip: IpAddr = match template.host() {
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        let port = template.port().unwrap_or(0);
        let listener = TcpListener::bind(SocketAddr::new(ip, port))
            .await
            .map_err(|e| Error::from(ErrorKind::Io(e)))?;
        let bound = listener
            .local_addr()
            .map_err(|e| Error::from(ErrorKind::Io(e)))?;
        let mut redirect_uri = template.clone();
        redirect_uri
            .set_ip_host(bound.ip())
            .and_then(|()| redirect_uri.set_port(Some(bound.port())))
            .map_err(|()| Error::internal("cannot set the redirect address"))?;
        Ok(LoopbackReceiver {
            listener,
            redirect_uri,
        })
    }

    /// The redirect URI to send in the authorization request.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Waits for the callback whose `state` is `expected_state` and returns
    /// its full URL. Connections are served concurrently, each bounded in
    /// time and size, so an idle or slow connection never delays the real
    /// callback, a cancel or the deadline. Requests to other paths get a 404;
    /// a callback with another state gets an error page, and the wait goes
    /// on for the right one until the deadline.
    ///
    /// # Errors
    /// Cancelled, timed out, or the listener failing.
    pub async fn wait(
        &self,
        expected_state: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Url> {
        let deadline =
            tokio::time::Instant::now() + timeout.min(Duration::from_secs(MAX_WAIT_SECS));
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Err(ErrorKind::Cancelled.into()),
                _ = tokio::time::sleep_until(deadline) => return Err(ErrorKind::Expired("the wait for the browser").into()),
                accepted = self.listener.accept() => {
                    let (stream, _) = accepted.map_err(|e| Error::from(ErrorKind::Io(e)))?;
                    // Past the cap a connection is dropped unanswered; the browser retries.
                    if connections.len() < MAX_CONNECTIONS {
                        let redirect = self.redirect_uri.clone();
                        let state = expected_state.to_owned();
                        connections.spawn(async move {
                            tokio::time::timeout(PER_CONNECTION, handle(stream, &redirect, &state))
                                .await
                                .ok()
                                .flatten()
                        });
                    }
                }
                Some(done) = connections.join_next(), if !connections.is_empty() => {
                    if let Ok(Some(url)) = done {
                        return Ok(url);
                    }
                }
            }
        }
    }
}

/// Serves one connection; returns the callback URL when it carries the expected state.
async fn handle(mut stream: TcpStream, redirect_uri: &Url, expected_state: &str) -> Option<Url> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_REQUEST {
            respond(&mut stream, 431, "Request too large", "").await;
            return None;
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next().unwrap_or_default().split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let Ok(url) = redirect_uri.join(target) else {
        respond(&mut stream, 400, "Bad request", "").await;
        return None;
    };
    if method != "GET" || url.path() != redirect_uri.path() {
        respond(&mut stream, 404, "Not found", "").await;
        return None;
    }
    let state = crate::oidc::authorize::callback_state(&url);
    if state.as_deref() != Some(expected_state) {
        respond(
            &mut stream,
            400,
            "Sign-in failed",
            "This sign-in response does not belong to the sign-in the app started. Return to the app and try again.",
        )
        .await;
        return None;
    }
    let failed = url.query_pairs().any(|(k, _)| k == "error");
    if failed {
        respond(
            &mut stream,
            200,
            "Sign-in did not complete",
            "Return to the app for details. You can close this window.",
        )
        .await;
    } else {
        respond(
            &mut stream,
            200,
            "Signed in",
            "You can close this window and return to the app.",
        )
        .await;
    }
    Some(url)
}

async fn respond(stream: &mut TcpStream, status: u16, title: &str, text: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Request Header Fields Too Large",
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;text-align:center;margin-top:4em\"><h1>{title}</h1><p>{text}</p></body></html>"
    );
    let resp = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(resp.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(url: &str) -> (u16, String) {
        let u = Url::parse(url).unwrap_or_else(|e| panic!("{e}"));
        let addr = format!(
            "{}:{}",
            u.host_str().unwrap_or_default(),
            u.port().unwrap_or(80)
        );
        let mut s = TcpStream::connect(addr.trim_start_matches('[').replace("]:", ":").as_str())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let path = &url[u.origin().ascii_serialization().len()..];
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .ok();
        let mut out = String::new();
        s.read_to_string(&mut out).await.ok();
        let status = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, out)
    }

    fn template() -> Url {
        Url::parse("http://127.0.0.1/callback").unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn callback_with_the_right_state_is_answered_and_returned() {
        let r = LoopbackReceiver::bind(&template())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let port = r.redirect_uri().port().unwrap_or(0);
        assert_ne!(port, 0);
        let base = r.redirect_uri().to_string();
        let client = tokio::spawn(async move {
            let (s404, _) = get(&format!("http://127.0.0.1:{port}/favicon.ico")).await;
            let (s200, body) = get(&format!("{base}?code=abc&state=st-1")).await;
            (s404, s200, body)
        });
        let url = r
            .wait("st-1", Duration::from_secs(10), &CancellationToken::new())
            .await;
        let url = url.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url.query(), Some("code=abc&state=st-1"));
        let (s404, s200, body) = client.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s404, s200), (404, 200));
        assert!(body.contains("close this window"));
    }

    fn bound(r: &LoopbackReceiver) -> String {
        format!("127.0.0.1:{}", r.redirect_uri().port().unwrap_or(0))
    }

    #[tokio::test]
    async fn a_foreign_state_gets_an_error_page_and_the_wait_goes_on_for_the_right_one() {
        let r = LoopbackReceiver::bind(&template())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let base = r.redirect_uri().to_string();
        let client = tokio::spawn(async move {
            let forged = get(&format!("{base}?code=evil&state=forged")).await;
            let real = get(&format!("{base}?code=abc&state=st-1")).await;
            (forged, real)
        });
        let url = r
            .wait("st-1", Duration::from_secs(30), &CancellationToken::new())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url.query(), Some("code=abc&state=st-1"));
        let ((forged, page), (real, _)) = client.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((forged, real), (400, 200));
        assert!(page.contains("does not belong"));
    }

    #[tokio::test]
    async fn idle_and_slow_connections_do_not_delay_the_real_callback() {
        let r = LoopbackReceiver::bind(&template())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = bound(&r);
        let base = r.redirect_uri().to_string();
        // One connection sends nothing, one sends half a request line: both stay open.
        let idle = TcpStream::connect(&addr)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut slow = TcpStream::connect(&addr)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        slow.write_all(b"GET /callback?sta").await.ok();
        let client = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            get(&format!("{base}?code=abc&state=st-1")).await
        });
        let started = std::time::Instant::now();
        let url = r
            .wait("st-1", Duration::from_secs(30), &CancellationToken::new())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url.query(), Some("code=abc&state=st-1"));
        assert!(
            started.elapsed() < PER_CONNECTION / 2,
            "the callback waited for the idle connections: {:?}",
            started.elapsed()
        );
        assert_eq!(client.await.map(|r| r.0).unwrap_or(0), 200);
        drop((idle, slow));
    }

    #[tokio::test]
    async fn an_idle_connection_does_not_delay_a_cancel_or_the_deadline() {
        let r = LoopbackReceiver::bind(&template())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let _idle = TcpStream::connect(bound(&r))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            c.cancel();
        });
        let started = std::time::Instant::now();
        let e = r.wait("s", Duration::from_secs(30), &cancel).await.err();
        assert_eq!(e.map(|e| e.code()), Some(crate::ErrorCode::Cancelled));
        assert!(started.elapsed() < PER_CONNECTION / 2);
        let _idle2 = TcpStream::connect(bound(&r))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let started = std::time::Instant::now();
        let e = r
            .wait("s", Duration::from_millis(300), &CancellationToken::new())
            .await
            .err();
        assert_eq!(e.map(|e| e.code()), Some(crate::ErrorCode::Expired));
        assert!(started.elapsed() < PER_CONNECTION / 2);
    }

    #[tokio::test]
    async fn a_localhost_redirect_uri_is_rewritten_to_the_address_listened_on() {
        let t = Url::parse("http://localhost/callback").unwrap_or_else(|e| panic!("{e}"));
        let r = LoopbackReceiver::bind(&t)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.redirect_uri().host_str(), Some("127.0.0.1"));
        assert_eq!(r.redirect_uri().path(), "/callback");
        assert_eq!(
            r.listener.local_addr().map(|a| a.port()).ok(),
            r.redirect_uri().port()
        );
    }

    #[tokio::test]
    async fn a_timeout_of_any_size_is_accepted() {
        let r = LoopbackReceiver::bind(&template())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let cancel = CancellationToken::new();
        cancel.cancel();
        let e = r.wait("s", Duration::MAX, &cancel).await.err();
        assert_eq!(e.map(|e| e.code()), Some(crate::ErrorCode::Cancelled));
    }

    #[tokio::test]
    async fn waiting_can_be_cancelled_and_times_out() {
        let r = LoopbackReceiver::bind(&template())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let cancel = CancellationToken::new();
        cancel.cancel();
        let e = r.wait("s", Duration::from_secs(30), &cancel).await.err();
        assert_eq!(e.map(|e| e.code()), Some(crate::ErrorCode::Cancelled));
        let e = r
            .wait("s", Duration::from_millis(50), &CancellationToken::new())
            .await
            .err();
        assert_eq!(e.map(|e| e.code()), Some(crate::ErrorCode::Expired));
    }

    #[tokio::test]
    async fn non_loopback_templates_are_refused() {
        for t in [
            "https://127.0.0.1/cb",
            "http://example.com/cb",
            "com.example.app:/cb",
        ] {
            let u = Url::parse(t).unwrap_or_else(|e| panic!("{e}"));
            assert!(LoopbackReceiver::bind(&u).await.is_err(), "{t}");
        }
    }
}
