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
const PER_CONNECTION: Duration = Duration::from_secs(10);

/// A bound loopback listener waiting for one authorization callback.
#[derive(Debug)]
pub struct LoopbackReceiver {
    listener: TcpListener,
    redirect_uri: Url,
}

impl LoopbackReceiver {
    /// Binds an ephemeral port on the loopback address named by `template`
    /// (e.g. `http://127.0.0.1/callback`; `localhost` binds 127.0.0.1) and
    /// returns the receiver with the redirect URI including the port.
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
            .set_port(Some(bound.port()))
            .map_err(|_| Error::internal("cannot set the redirect port"))?;
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
    /// its full URL. Requests to other paths get a 404 and are ignored; a
    /// callback with another state is answered with an error page and
    /// fails at once with a state-mismatch error.
    ///
    /// # Errors
    /// Cancelled, timed out, a state mismatch, or an I/O failure.
    pub async fn wait(
        &self,
        expected_state: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Url> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let (stream, _) = tokio::select! {
                _ = cancel.cancelled() => return Err(ErrorKind::Cancelled.into()),
                _ = tokio::time::sleep_until(deadline) => return Err(ErrorKind::Expired("the wait for the browser").into()),
                r = self.listener.accept() => r.map_err(|e| Error::from(ErrorKind::Io(e)))?,
            };
            let handled =
                tokio::time::timeout(PER_CONNECTION, self.handle(stream, expected_state)).await;
            match handled {
                Ok(Ok(Some(url))) => return Ok(url),
                Ok(Ok(None)) | Err(_) => continue,
                Ok(Err(e)) => return Err(e),
            }
        }
    }

    async fn handle(&self, mut stream: TcpStream, expected_state: &str) -> Result<Option<Url>> {
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream
                .read(&mut chunk)
                .await
                .map_err(|e| Error::from(ErrorKind::Io(e)))?;
            if n == 0 {
                return Ok(None);
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.len() > MAX_REQUEST {
                respond(&mut stream, 431, "Request too large", "").await;
                return Ok(None);
            }
        }
        let head = String::from_utf8_lossy(&buf);
        let mut parts = head.lines().next().unwrap_or_default().split(' ');
        let (method, target) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        let Ok(url) = self.redirect_uri.join(target) else {
            respond(&mut stream, 400, "Bad request", "").await;
            return Ok(None);
        };
        if method != "GET" || url.path() != self.redirect_uri.path() {
            respond(&mut stream, 404, "Not found", "").await;
            return Ok(None);
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
            return Err(ErrorKind::StateMismatch.into());
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
        Ok(Some(url))
    }
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

    #[tokio::test]
    async fn callback_with_a_foreign_state_fails_at_once() {
        let r = LoopbackReceiver::bind(&template())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let base = r.redirect_uri().to_string();
        let client =
            tokio::spawn(async move { get(&format!("{base}?code=abc&state=forged")).await });
        let started = std::time::Instant::now();
        let e = r
            .wait("st-1", Duration::from_secs(30), &CancellationToken::new())
            .await
            .err();
        assert!(
            matches!(e.as_ref().map(|e| e.kind()), Some(ErrorKind::StateMismatch)),
            "{e:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "must not wait for the timeout"
        );
        let (status, _) = client.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(status, 400);
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
