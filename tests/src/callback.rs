//! A tiny loopback HTTP listener that stands in for an app's redirect target.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use url::Url;

use crate::{HarnessError, Result};

/// One request the [`CallbackListener`] received.
#[derive(Debug, Clone)]
pub struct CallbackRequest {
    /// The request method, e.g. `GET`.
    pub method: String,
    /// The request target as sent, e.g. `/callback?code=...&state=...`.
    pub target: String,
}

impl CallbackRequest {
    /// The request target as an absolute URL on the listener's origin.
    pub fn url(&self, port: u16) -> Url {
        Url::parse(&format!("http://127.0.0.1:{port}"))
            .and_then(|base| base.join(&self.target))
            .expect("request target is a valid path")
    }

    /// The first value of a query parameter of the request target.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let url = Url::parse("http://127.0.0.1")
            .and_then(|base| base.join(&self.target))
            .ok()?;
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// A loopback HTTP server on `127.0.0.1:<ephemeral>` that answers every request
/// with `200 OK` and a short HTML page, and records its request line.
///
/// The accept loop runs as a tokio task and stops when the listener is dropped.
#[derive(Debug)]
pub struct CallbackListener {
    port: u16,
    requests: mpsc::UnboundedReceiver<CallbackRequest>,
    task: tokio::task::JoinHandle<()>,
}

impl CallbackListener {
    /// Binds `127.0.0.1:0` and starts answering.
    pub async fn start() -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| HarnessError::io("binding the callback listener", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| HarnessError::io("reading the callback listener's port", e))?
            .port();
        let (tx, requests) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    // Read up to the end of the request head, bounded in size and time.
                    let read_head = async {
                        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 64 * 1024 {
                            match stream.read(&mut chunk).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                    };
                    if tokio::time::timeout(Duration::from_secs(10), read_head)
                        .await
                        .is_err()
                    {
                        return;
                    }
                    let head = String::from_utf8_lossy(&buf);
                    let mut parts = head.lines().next().unwrap_or_default().split(' ');
                    let method = parts.next().unwrap_or_default().to_owned();
                    let target = parts.next().unwrap_or_default().to_owned();
                    if method.is_empty() {
                        return;
                    }
                    let body = "<!DOCTYPE html><html><head><title>Callback received</title></head>\
                                <body><h1>Callback received</h1></body></html>";
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                    let _ = tx.send(CallbackRequest { method, target });
                });
            }
        });
        Ok(Self {
            port,
            requests,
            task,
        })
    }

    /// The port the listener is bound to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:{port}/callback`, a redirect URI the provider accepts.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }

    /// The next request received (in order), waiting at most `timeout`.
    pub async fn next_request(&mut self, timeout: Duration) -> Result<CallbackRequest> {
        match tokio::time::timeout(timeout, self.requests.recv()).await {
            Ok(Some(request)) => Ok(request),
            Ok(None) => Err(HarnessError::Other(
                "the callback listener stopped".to_owned(),
            )),
            Err(_) => Err(HarnessError::Timeout {
                what: format!("a request to the callback listener on port {}", self.port),
                after: timeout,
                seen: "no request".to_owned(),
            }),
        }
    }

    /// The next request whose path is `path` (e.g. `/callback`), skipping
    /// others such as `/favicon.ico`, waiting at most `timeout` in all.
    pub async fn next_request_to(
        &mut self,
        path: &str,
        timeout: Duration,
    ) -> Result<CallbackRequest> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let request = self.next_request(left).await.map_err(|e| match e {
                HarnessError::Timeout { after: _, seen, .. } => HarnessError::Timeout {
                    what: format!("a request to {path} on port {}", self.port),
                    after: timeout,
                    seen,
                },
                other => other,
            })?;
            if request.target.split('?').next() == Some(path) {
                return Ok(request);
            }
        }
    }
}

impl Drop for CallbackListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}
