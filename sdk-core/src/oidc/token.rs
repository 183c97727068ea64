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
    let (status, body) = http.post_form(url, form).await?;
    if !(200..300).contains(&status) {
        return Err(error_from(url, status, &body));
    }
    let t: TokenResponse = parse_ok(url, &body, "token response")?;
    t.check_bearer()?;
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

/// Requests device and user codes.
pub(crate) async fn device_authorization(
    http: &Http,
    url: &Url,
    client_id: &str,
    scope: &str,
) -> Result<DeviceAuthorization> {
    let (status, body) = http
        .post_form(url, &[("client_id", client_id), ("scope", scope)])
        .await?;
    if !(200..300).contains(&status) {
        return Err(error_from(url, status, &body));
    }
    let d: DeviceAuthorization = parse_ok(url, &body, "device authorization response")?;
    if d.user_code.is_empty() || d.expires_in == 0 {
        return Err(Error::malformed(
            url,
            "device authorization response: empty user code or expiry",
        ));
    }
    Ok(d)
}

/// Polls the token endpoint until the user approves (RFC 8628 §3.4–3.5):
/// waits `interval` before each poll, adds 5 s on `slow_down`, stops at
/// expiry, on `access_denied`/`expired_token`, or when `cancel` fires.
pub(crate) async fn poll_device_token(
    http: &Http,
    token_url: &Url,
    client_id: &str,
    device: &DeviceAuthorization,
    cancel: &CancellationToken,
) -> Result<TokenResponse> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(device.expires_in);
    let mut interval = Duration::from_secs(device.interval.max(1));
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
                Some("slow_down") => interval += Duration::from_secs(5),
                Some("expired_token") => return Err(ErrorKind::Expired("the device code").into()),
                _ if e.code() == crate::ErrorCode::RetryLater => {
                    // Network trouble: back off (RFC 8628 §3.5) but keep the deadline.
                    interval = (interval * 2).min(Duration::from_secs(60));
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
    let (status, body) = http
        .post_form(
            url,
            &[
                ("token", token.expose()),
                ("token_type_hint", hint),
                ("client_id", client_id),
            ],
        )
        .await?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(error_from(url, status, &body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://idp.example/token?x=SECRET").unwrap_or_else(|e| panic!("{e}"))
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
