//! Token endpoint, device authorization (RFC 8628) and revocation (RFC 7009) requests.

use crate::error::{Error, ErrorKind, Result, TokenValidationError, redact_url};
use crate::http::Http;
use crate::secret::Secret;
use serde::Deserialize;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use url::Url;

/// A successful token endpoint response.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: Secret,
    pub token_type: String,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    #[serde(default)]
    pub id_token: Option<Secret>,
    #[serde(default)]
    pub scope: Option<String>,
}

impl TokenResponse {
    /// `token_type` must be Bearer (case-insensitive, RFC 6749 §5.1).
    pub(crate) fn check_bearer(&self) -> Result<()> {
        if self.token_type.eq_ignore_ascii_case("bearer") {
            Ok(())
        } else {
            Err(Error::token(TokenValidationError::TokenType(
                crate::error::sanitize(&self.token_type),
            )))
        }
    }
}

#[derive(Debug, Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Turns a non-2xx answer into an error: the OAuth error body when there is
/// one, else the HTTP status.
fn error_from(url: &Url, status: u16, body: &[u8]) -> Error {
    match serde_json::from_slice::<OAuthErrorBody>(body) {
        Ok(e) => Error::oauth(e.error, e.error_description),
        Err(_) => ErrorKind::HttpStatus {
            url: redact_url(url),
            status,
        }
        .into(),
    }
}

fn parse_ok<T: serde::de::DeserializeOwned>(url: &Url, body: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        // The serde message names the field and position, never the body's content.
        let detail = match e.classify() {
            serde_json::error::Category::Data => format!("{what}: missing or invalid field"),
            _ => format!("{what}: not JSON"),
        };
        Error::malformed(url, detail)
    })
}

/// POSTs a token request; 2xx bodies are parsed as a token response.
pub(crate) async fn token_request(
    http: &Http,
    url: &Url,
    form: &[(&str, &str)],
) -> Result<TokenResponse> {
    let resp = http.post_form(url, form).await?;
    if !(200..300).contains(&resp.status) {
        return Err(error_from(url, resp.status, &resp.body));
    }
    let t: TokenResponse = parse_ok(url, &resp.body, "token response")?;
    t.check_bearer()?;
    // Only a successful token response teaches the client the server's clock.
    http.learn_skew(resp.date);
    Ok(t)
}

/// A device authorization (RFC 8628 §3.2): show `user_code` and
/// `verification_uri` (or `verification_uri_complete`) to the user.
#[derive(Clone, Debug, Deserialize)]
pub struct DeviceAuthorization {
    #[serde(rename = "device_code")]
    pub(crate) device_code: Secret,
    /// The code the user types on the verification page.
    pub user_code: String,
    /// The page where the user enters the code.
    pub verification_uri: String,
    /// The page with the code already filled in (for a QR code), when offered.
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    /// Seconds until the codes expire.
    pub expires_in: u64,
    /// Minimum seconds between polls.
    #[serde(default = "default_interval")]
    pub interval: u64,
}

fn default_interval() -> u64 {
    5
}

/// The polling interval the SDK accepts from a server, in seconds (RFC 8628's default is 5).
pub(crate) const DEVICE_INTERVAL_RANGE: (u64, u64) = (1, 60);
/// The longest device-code lifetime the SDK waits for (30 minutes), whatever the server says.
pub(crate) const DEVICE_MAX_EXPIRY: u64 = 30 * 60;

impl DeviceAuthorization {
    /// Bounds the server's numbers (interval 1–60 s, expiry at most 30 min)
    /// and requires the verification pages to be HTTPS (or loopback), so a
    /// hostile server can neither stall the poller nor have an app show or
    /// draw as a QR code a link to a plain-HTTP page.
    fn checked(mut self, url: &Url) -> Result<Self> {
        if self.user_code.is_empty() || self.expires_in == 0 {
            return Err(Error::malformed(
                url,
                "device authorization response: empty user code or expiry",
            ));
        }
        let secure = |s: &str| Url::parse(s).is_ok_and(|u| crate::http::is_secure_or_loopback(&u));
        if !secure(&self.verification_uri)
            || !self.verification_uri_complete.as_deref().is_none_or(secure)
        {
            return Err(Error::malformed(
                url,
                "device authorization response: the verification URI is not HTTPS",
            ));
        }
        self.expires_in = self.expires_in.min(DEVICE_MAX_EXPIRY);
        self.interval = self
            .interval
            .clamp(DEVICE_INTERVAL_RANGE.0, DEVICE_INTERVAL_RANGE.1);
        Ok(self)
    }
}

/// Requests device and user codes.
pub(crate) async fn device_authorization(
    http: &Http,
    url: &Url,
    client_id: &str,
    scope: &str,
) -> Result<DeviceAuthorization> {
    let resp = http
        .post_form(url, &[("client_id", client_id), ("scope", scope)])
        .await?;
    if !(200..300).contains(&resp.status) {
        return Err(error_from(url, resp.status, &resp.body));
    }
    let d: DeviceAuthorization = parse_ok(url, &resp.body, "device authorization response")?;
    d.checked(url)
}

/// Polls the token endpoint until the user approves (RFC 8628 §3.4–3.5):
/// waits `interval` before each poll, adds 5 s on `slow_down` (never beyond
/// 60 s), stops at expiry, on `access_denied`/`expired_token`, or when
/// `cancel` fires. The device authorization's numbers are bounded again
/// here (an app may build one by hand), so no server value can overflow.
pub(crate) async fn poll_device_token(
    http: &Http,
    token_url: &Url,
    client_id: &str,
    device: &DeviceAuthorization,
    cancel: &CancellationToken,
) -> Result<TokenResponse> {
    let max_interval = Duration::from_secs(DEVICE_INTERVAL_RANGE.1);
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(device.expires_in.min(DEVICE_MAX_EXPIRY));
    let mut interval = Duration::from_secs(
        device
            .interval
            .clamp(DEVICE_INTERVAL_RANGE.0, DEVICE_INTERVAL_RANGE.1),
    );
    loop {
        let wake = tokio::time::Instant::now() + interval;
        if wake > deadline {
            return Err(ErrorKind::Expired("the device code").into());
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(ErrorKind::Cancelled.into()),
            _ = tokio::time::sleep_until(wake) => {}
        }
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device.device_code.expose()),
            ("client_id", client_id),
        ];
        let res = tokio::select! {
            _ = cancel.cancelled() => return Err(ErrorKind::Cancelled.into()),
            r = token_request(http, token_url, &form) => r,
        };
        match res {
            Ok(t) => return Ok(t),
            Err(e) => match e.oauth_error() {
                Some("authorization_pending") => {}
                Some("slow_down") => {
                    interval = (interval + Duration::from_secs(5)).min(max_interval);
                }
                Some("expired_token") => return Err(ErrorKind::Expired("the device code").into()),
                _ if e.code() == crate::ErrorCode::RetryLater => {
                    // Network trouble: back off (RFC 8628 §3.5) but keep the deadline.
                    interval = interval.saturating_mul(2).min(max_interval);
                }
                _ => return Err(e),
            },
        }
    }
}

/// Revokes a token (RFC 7009). A 200 means revoked or already invalid.
pub(crate) async fn revoke(
    http: &Http,
    url: &Url,
    client_id: &str,
    token: &Secret,
    hint: &str,
) -> Result<()> {
    let resp = http
        .post_form(
            url,
            &[
                ("token", token.expose()),
                ("token_type_hint", hint),
                ("client_id", client_id),
            ],
        )
        .await?;
    if (200..300).contains(&resp.status) {
        Ok(())
    } else {
        Err(error_from(url, resp.status, &resp.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://idp.example/token?x=SECRET").unwrap_or_else(|e| panic!("{e}"))
    }

    fn device(json: serde_json::Value) -> Result<DeviceAuthorization> {
        let d: DeviceAuthorization = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        d.checked(&url())
    }

    #[test]
    fn device_interval_and_expiry_from_the_server_are_clamped() {
        let d = device(serde_json::json!({"device_code": "d", "user_code": "U", "verification_uri": "https://idp.example/device",
                                          "expires_in": u64::MAX, "interval": u64::MAX}))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((d.expires_in, d.interval), (DEVICE_MAX_EXPIRY, 60));
        let d = device(serde_json::json!({"device_code": "d", "user_code": "U", "verification_uri": "https://idp.example/device",
                                          "expires_in": 300, "interval": 0}))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((d.expires_in, d.interval), (300, 1));
    }

    #[test]
    fn device_verification_pages_must_be_https_or_loopback() {
        for (uri, complete) in [
            ("http://idp.example/device", None),
            ("javascript:alert(1)", None),
            (
                "https://idp.example/device",
                Some("http://idp.example/device?user_code=U"),
            ),
        ] {
            let e = device(serde_json::json!({"device_code": "d", "user_code": "U", "verification_uri": uri,
                                              "verification_uri_complete": complete, "expires_in": 300}))
            .err();
            assert_eq!(
                e.map(|e| e.code()),
                Some(crate::ErrorCode::InvalidServerResponse),
                "{uri}"
            );
        }
        assert!(
            device(serde_json::json!({"device_code": "d", "user_code": "U", "verification_uri": "http://127.0.0.1:8080/device",
                                      "expires_in": 300}))
            .is_ok()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_hand_made_device_authorization_with_huge_numbers_cannot_panic_the_poller() {
        let d = DeviceAuthorization {
            device_code: Secret::new("d"),
            user_code: "U".into(),
            verification_uri: "https://idp.example/device".into(),
            verification_uri_complete: None,
            expires_in: u64::MAX,
            interval: u64::MAX,
        };
        let http = Http::new(
            Duration::from_secs(1),
            &[],
            std::sync::Arc::new(crate::SystemClock),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(10)).await;
            c.cancel();
        });
        let token = Url::parse("http://127.0.0.1:9/token").unwrap_or_else(|e| panic!("{e}"));
        let e = poll_device_token(&http, &token, "app", &d, &cancel)
            .await
            .err();
        assert_eq!(e.map(|e| e.code()), Some(crate::ErrorCode::Cancelled));
    }

    /// Answers one HTTP request on 127.0.0.1 with `status` and `body`, with a
    /// `Date` eight minutes ahead of ours; returns the URL to call.
    async fn answer_once(status: &str, body: &'static str) -> Url {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(480));
        let response = format!(
            "HTTP/1.1 {status}\r\nDate: {date}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        tokio::spawn(async move {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            // The head, then as many body bytes as it announces.
            loop {
                let Ok(n) = s.read(&mut buf).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                req.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&req).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if req.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let _ = s.write_all(response.as_bytes()).await;
        });
        Url::parse(&format!("http://{addr}/oauth/v2/token")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn http() -> Http {
        Http::new(
            Duration::from_secs(5),
            &[],
            std::sync::Arc::new(crate::SystemClock),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn only_a_successful_token_response_moves_the_clock_skew() {
        let http = http();
        let form = [("grant_type", "refresh_token")];
        // An error answer of the token endpoint does not move it...
        let url = answer_once("400 Bad Request", r#"{"error":"invalid_grant"}"#).await;
        assert!(token_request(&http, &url, &form).await.is_err());
        assert_eq!(http.server_skew(), 0);
        // ...nor does any other response (discovery, JWKS, userinfo)...
        let url = answer_once("200 OK", r#"{"issuer":"x"}"#).await;
        let _: serde_json::Value = http.get_json(&url).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(http.server_skew(), 0);
        // ...but a successful token response does.
        let url = answer_once("200 OK", r#"{"access_token":"a","token_type":"Bearer"}"#).await;
        assert!(token_request(&http, &url, &form).await.is_ok());
        assert!(
            (478..=482).contains(&http.server_skew()),
            "{}",
            http.server_skew()
        );
    }

    #[test]
    fn token_type_must_be_bearer_in_any_case() {
        let mk = |tt: &str| TokenResponse {
            access_token: Secret::new("a"),
            token_type: tt.into(),
            expires_in: None,
            refresh_token: None,
            id_token: None,
            scope: None,
        };
        assert!(mk("Bearer").check_bearer().is_ok());
        assert!(mk("bearer").check_bearer().is_ok());
        assert_eq!(
            mk("DPoP").check_bearer().err().map(|e| e.code()),
            Some(crate::ErrorCode::InvalidServerResponse)
        );
    }

    #[test]
    fn oauth_error_bodies_are_decoded_and_others_keep_the_status() {
        let e = error_from(
            &url(),
            400,
            br#"{"error":"invalid_grant","error_description":"gone"}"#,
        );
        assert_eq!(e.oauth_error(), Some("invalid_grant"));
        let e = error_from(&url(), 503, b"<html>down</html>");
        assert_eq!(e.code(), crate::ErrorCode::RetryLater);
        assert!(!e.message().contains("SECRET"));
        let e = error_from(&url(), 404, b"");
        assert_eq!(e.code(), crate::ErrorCode::ServerRejected);
    }

    #[test]
    fn malformed_token_response_error_does_not_echo_the_body() {
        let body = br#"{"access_token":"LEAKED-TOKEN"}"#;
        let e = parse_ok::<TokenResponse>(&url(), body, "token response").err();
        let e = e.unwrap_or_else(|| panic!("expected an error"));
        assert_eq!(e.code(), crate::ErrorCode::InvalidServerResponse);
        assert!(!e.message().contains("LEAKED") && !format!("{e:?}").contains("LEAKED"));
    }

    #[test]
    fn token_response_debug_hides_tokens() {
        let t: TokenResponse = serde_json::from_str(
            r#"{"access_token":"AT-1","token_type":"Bearer","refresh_token":"RT-1","id_token":"ID-1"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let d = format!("{t:?}");
        assert!(!d.contains("AT-1") && !d.contains("RT-1") && !d.contains("ID-1"));
    }
}
