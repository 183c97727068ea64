//! One reqwest + rustls client for every call the SDK makes.
//!
//! Redirects are never followed (an OAuth endpoint that redirects is an
//! error, not something to chase), every request has a timeout, HTTPS is
//! required except on loopback, responses are size-limited, and
//! `Accept-Language` carries the configured locales.

use crate::error::{Error, ErrorKind, Result, redact_url};
use crate::platform::Clock;
use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, HeaderMap, HeaderValue, USER_AGENT};
use serde::de::DeserializeOwned;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use url::Url;

/// Responses larger than this are refused (1 MiB): no OAuth answer is that big.
pub(crate) const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Whether `url` may be used: HTTPS anywhere, plain HTTP only on loopback
/// (127.0.0.0/8, `::1`, `localhost`).
pub fn is_secure_or_loopback(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => is_loopback_host(url),
        _ => false,
    }
}

/// Whether the URL's host is a loopback address or `localhost`.
pub(crate) fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Returns an error unless `url` is HTTPS or loopback HTTP.
pub(crate) fn require_secure(url: &Url) -> Result<()> {
    if is_secure_or_loopback(url) {
        Ok(())
    } else {
        Err(ErrorKind::InsecureUrl(redact_url(url)).into())
    }
}

/// The SDK's HTTP client. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Http {
    client: Arc<OnceLock<reqwest::Client>>,
    timeout: Duration,
    headers: HeaderMap,
    clock: Arc<dyn Clock>,
    /// The server's clock minus ours, in seconds, from the last `Date` header.
    skew: Arc<AtomicI64>,
    /// HTTP requests sent so far (for request counts in demos and benchmarks).
    requests: Arc<std::sync::atomic::AtomicU64>,
}

/// The largest clock skew the SDK corrects for (10 minutes): a `Date` header
/// further off moves the correction only this far.
pub(crate) const MAX_SKEW: i64 = 10 * 60;

impl Http {
    /// Builds the client: rustls with the ring provider and the platform's
    /// certificate verifier, no redirects, timeouts, `Accept-Language`.
    pub(crate) fn new(
        timeout: Duration,
        locales: &[String],
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(lang) = accept_language(locales) {
            let v = HeaderValue::from_str(&lang)
                .map_err(|_| Error::input("locales must be language tags such as de-CH"))?;
            headers.insert(ACCEPT_LANGUAGE, v);
        }
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("zitadel-sdk/", env!("CARGO_PKG_VERSION"))),
        );
        Ok(Http {
            client: Arc::new(OnceLock::new()),
            timeout,
            headers,
            clock,
            skew: Arc::new(AtomicI64::new(0)),
            requests: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        })
    }

    /// The server's clock minus ours, in seconds, as last seen in a `Date`
    /// header of the issuer (0 until one is seen). ID token times are checked
    /// against our clock corrected by this, so a device whose clock is off
    /// by minutes or hours still validates fresh tokens.
    pub(crate) fn server_skew(&self) -> i64 {
        self.skew.load(Ordering::Relaxed)
    }

    /// Learns the server's clock from the `Date` of a successful token
    /// endpoint response: only that answer is trusted to move the skew (error
    /// responses, discovery, JWKS and other hosts never do), and the skew is
    /// capped at ±[`MAX_SKEW`] so a lying server cannot shift token times by hours.
    pub(crate) fn learn_skew(&self, server_date: Option<i64>) {
        if let Some(server) = server_date {
            let skew = server.saturating_sub(self.clock.now());
            self.skew
                .store(skew.clamp(-MAX_SKEW, MAX_SKEW), Ordering::Relaxed);
        }
    }

    /// How many HTTP requests this client has sent.
    pub(crate) fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The reqwest client, built on first use: loading the platform's
    /// certificate store costs milliseconds, which a call that needs no
    /// request (a valid stored token) must not pay.
    fn client(&self) -> Result<&reqwest::Client> {
        // Every caller of this sends exactly one request with the client.
        self.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::internal(format!("TLS setup: {e}")))?;
        let tls = with_verifier(tls)?.with_no_client_auth();
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .default_headers(self.headers.clone())
            .build()
            .map_err(|e| Error::internal(format!("HTTP client setup: {e}")))?;
        // Two first callers may both build one; either is fine.
        Ok(self.client.get_or_init(|| client))
    }

    /// GET a JSON document. Non-2xx answers and malformed bodies are typed errors.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<T> {
        self.get_json_with(url, None).await
    }

    /// GET a JSON document, optionally with a bearer token.
    pub(crate) async fn get_json_with<T: DeserializeOwned>(
        &self,
        url: &Url,
        bearer: Option<&str>,
    ) -> Result<T> {
        require_secure(url)?;
        let mut req = self.client()?.get(url.clone());
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.map_err(|e| network(url, e))?;
        let status = resp.status();
        if status.as_u16() == 401 && bearer.is_some() {
            return Err(ErrorKind::NotSignedIn.into());
        }
        if !status.is_success() {
            return Err(ErrorKind::HttpStatus {
                url: redact_url(url),
                status: status.as_u16(),
            }
            .into());
        }
        let body = read_limited(resp).await?;
        serde_json::from_slice(&body).map_err(|e| {
            Error::malformed(
                url,
                format!("invalid JSON at line {} column {}", e.line(), e.column()),
            )
        })
    }

    /// A POST of a form, returning status, body (size-limited) and the
    /// server's `Date`; used for the OAuth endpoints, whose error bodies matter.
    pub(crate) async fn post_form(&self, url: &Url, form: &[(&str, &str)]) -> Result<FormResponse> {
        require_secure(url)?;
        let resp = self
            .client()?
            .post(url.clone())
            .form(form)
            .send()
            .await
            .map_err(|e| network(url, e))?;
        let status = resp.status().as_u16();
        let date = resp
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_secs()).ok());
        let body = read_limited(resp).await?;
        Ok(FormResponse { status, body, date })
    }
}

impl Http {
    /// Sends a JSON API request (`body` as JSON when given) with a bearer
    /// token and extra headers; returns the status and the body
    /// (size-limited). Statuses are the caller's to judge.
    pub(crate) async fn send_json(
        &self,
        method: reqwest::Method,
        url: &Url,
        bearer: &str,
        headers: &[(&'static str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, Vec<u8>)> {
        require_secure(url)?;
        let mut req = self
            .client()?
            .request(method, url.clone())
            .bearer_auth(bearer);
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| network(url, e))?;
        let status = resp.status().as_u16();
        let body = read_limited(resp).await?;
        Ok((status, body))
    }

    /// A GET that does not follow redirects and returns the status and the
    /// `Location` header (for the authorization endpoint of a native login).
    pub(crate) async fn get_location(
        &self,
        url: &Url,
        headers: &[(&'static str, String)],
    ) -> Result<(u16, Option<String>)> {
        require_secure(url)?;
        let mut req = self.client()?.get(url.clone());
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let resp = req.send().await.map_err(|e| network(url, e))?;
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok((status, location))
    }
}

/// What [`Http::post_form`] received.
pub(crate) struct FormResponse {
    /// The HTTP status.
    pub status: u16,
    /// The body, at most [`MAX_RESPONSE_BYTES`].
    pub body: Vec<u8>,
    /// The `Date` header, seconds since the epoch.
    pub date: Option<i64>,
}

fn network(url: &Url, e: reqwest::Error) -> Error {
    ErrorKind::Network {
        url: redact_url(url),
        source: e.without_url(),
    }
    .into()
}

async fn read_limited(mut resp: reqwest::Response) -> Result<Vec<u8>> {
    let url = resp.url().clone();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| network(&url, e))? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(Error::malformed(&url, "response too large"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `Accept-Language` for the configured locales, with descending q-values.
pub(crate) fn accept_language(locales: &[String]) -> Option<String> {
    if locales.is_empty() {
        return None;
    }
    let parts: Vec<String> = locales
        .iter()
        .take(9)
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.clone()
            } else {
                format!("{l};q=0.{}", 10 - i)
            }
        })
        .collect();
    Some(parts.join(", "))
}

/// The certificate verifier: the operating system's own (trust store,
/// enterprise and user CAs, revocation where the OS checks it).
#[cfg(not(target_os = "android"))]
fn with_verifier(
    b: rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>,
) -> Result<rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>> {
    use rustls_platform_verifier::BuilderVerifierExt;
    b.with_platform_verifier()
        .map_err(|e| Error::internal(format!("TLS verifier setup: {e}")))
}

/// The certificate verifier on Android: Mozilla's root certificates
/// (webpki-roots), compiled in. Android's own verifier needs a JNI set-up
/// with the app's `Context` that a library loaded through JNA does not get;
/// so a server whose certificate chains to a private or user-installed CA
/// is refused on Android.
#[cfg(target_os = "android")]
fn with_verifier(
    b: rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>,
) -> Result<rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Ok(b.with_root_certificates(roots))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|_| panic!("bad test url {s}"))
    }

    #[test]
    fn https_is_allowed_everywhere_http_only_on_loopback() {
        assert!(is_secure_or_loopback(&u("https://idp.example")));
        assert!(is_secure_or_loopback(&u("http://127.0.0.1:8080/x")));
        assert!(is_secure_or_loopback(&u("http://127.9.9.9/x")));
        assert!(is_secure_or_loopback(&u("http://[::1]:9/x")));
        assert!(is_secure_or_loopback(&u("http://localhost:9/x")));
        assert!(!is_secure_or_loopback(&u("http://idp.example")));
        assert!(!is_secure_or_loopback(&u("http://10.0.0.1")));
        assert!(!is_secure_or_loopback(&u("http://localhost.evil.example")));
        assert!(!is_secure_or_loopback(&u("ftp://127.0.0.1")));
    }

    #[derive(Debug)]
    struct At(i64);
    impl Clock for At {
        fn now(&self) -> i64 {
            self.0
        }
    }

    #[test]
    fn learned_skew_is_capped_at_ten_minutes_either_way() {
        let http = Http::new(Duration::from_secs(1), &[], Arc::new(At(1_000_000)))
            .unwrap_or_else(|e| panic!("{e}"));
        http.learn_skew(Some(1_000_000 + 120));
        assert_eq!(http.server_skew(), 120);
        http.learn_skew(Some(1_000_000 + 7200));
        assert_eq!(http.server_skew(), MAX_SKEW);
        http.learn_skew(Some(1_000_000 - 7200));
        assert_eq!(http.server_skew(), -MAX_SKEW);
        http.learn_skew(Some(i64::MIN));
        assert_eq!(http.server_skew(), -MAX_SKEW);
        http.learn_skew(None);
        assert_eq!(http.server_skew(), -MAX_SKEW, "no Date moves nothing");
    }

    #[test]
    fn accept_language_lists_locales_by_preference() {
        assert_eq!(accept_language(&[]), None);
        assert_eq!(
            accept_language(&["de-CH".into(), "de".into(), "en".into()]).as_deref(),
            Some("de-CH, de;q=0.9, en;q=0.8")
        );
    }

    #[test]
    fn insecure_url_error_is_misconfigured_and_has_no_query() {
        let e = require_secure(&u("http://idp.example/token?code=SECRET")).err();
        let e = e.unwrap_or_else(|| panic!("expected error"));
        assert_eq!(e.code(), crate::ErrorCode::Misconfigured);
        assert!(!e.message().contains("SECRET"));
    }
}
