//! The typed ZITADEL REST layer: every call is built from a proto's
//! `google.api.http` rule (method + path, JSON body with the proto's
//! lowerCamelCase field names, int64 as strings), sent with one of three
//! credentials, and its error body decoded into a typed [`crate::Error`]
//! that branches on `details[].id` and the gRPC code, never on the
//! translated text.

use crate::Client;
use crate::error::{ApiError, Error, ErrorKind, Result, redact_url, sanitize};
use crate::secret::Secret;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

/// Which credential authorizes a call.
#[derive(Clone)]
pub(crate) enum Auth {
    /// The signed-in user's access token (refreshed when needed).
    User,
    /// The configured login-client token (`IAM_LOGIN_CLIENT`).
    LoginClient,
    /// A token the caller holds: a service user's, a PAT, a session token.
    #[allow(dead_code, reason = "for the manager flows' service-user tokens")]
    Bearer(Secret),
}

/// One percent-encoded path segment (ids come from the server or the user
/// and must not change the path: empty, `.` and `..` are refused).
pub(crate) fn seg(s: &str) -> Result<String> {
    if s.is_empty() || s == "." || s == ".." || s.len() > 200 {
        return Err(Error::input("an id is empty, too long, or a dot segment"));
    }
    Ok(url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20"))
}

impl Client {
    /// The token for `auth`.
    async fn api_token(&self, auth: &Auth) -> Result<Secret> {
        match auth {
            Auth::User => self.access_token().await,
            Auth::LoginClient => self.login_client_token().cloned(),
            Auth::Bearer(t) => Ok(t.clone()),
        }
    }

    /// The configured login-client token, or a typed configuration error.
    pub(crate) fn login_client_token(&self) -> Result<&Secret> {
        self.inner.login_client.as_ref().ok_or_else(|| {
            Error::config(
                "this operation needs a login-client token (ClientBuilder::login_client_token); \
                 it is for trusted hosts only, never for apps shipped to users",
            )
        })
    }

    /// The API URL for `path` (which starts with `/`) on the issuer's host.
    pub(crate) fn api_url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url> {
        let mut url = self
            .inner
            .issuer
            .join(path)
            .map_err(|_| Error::internal("an API path does not form a URL"))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Calls a ZITADEL API and decodes the JSON answer (an empty body as `{}`).
    ///
    /// # Errors
    /// Network failures; ZITADEL error bodies as typed errors; a 401 with
    /// the user's token as `NotSignedIn`, with a login-client token as
    /// `Misconfigured`; malformed answers.
    pub(crate) async fn api<T: DeserializeOwned>(
        &self,
        auth: Auth,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<T> {
        self.api_query(auth, method, path, &[], body).await
    }

    /// As [`api`](Self::api), with query parameters.
    pub(crate) async fn api_query<T: DeserializeOwned>(
        &self,
        auth: Auth,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<T> {
        self.api_with(auth, method, path, query, &[], body).await
    }

    /// As [`api_query`](Self::api_query), with extra headers (such as
    /// `x-zitadel-orgid` for management v1 calls on another org).
    pub(crate) async fn api_with<T: DeserializeOwned>(
        &self,
        auth: Auth,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&'static str, String)],
        body: Option<Value>,
    ) -> Result<T> {
        let url = self.api_url(path, query)?;
        let token = self.api_token(&auth).await?;
        let (status, bytes) = self
            .inner
            .http
            .send_json(method, &url, token.expose(), headers, body.as_ref())
            .await?;
        if !(200..300).contains(&status) {
            let err = decode_error(&url, status, &bytes);
            if status == 401 {
                return Err(match auth {
                    Auth::LoginClient => Error::config(
                        "the login-client token was refused (expired, revoked or wrong)",
                    ),
                    _ => err,
                });
            }
            return Err(err);
        }
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes).map_err(|e| {
            Error::malformed(
                &url,
                format!("unexpected JSON at line {} column {}", e.line(), e.column()),
            )
        })
    }
}

/// Decodes a ZITADEL error body (`google.rpc.Status` as JSON: `code`,
/// `message`, `details[]` with `id` and, for credential checks,
/// `failedAttempts`). Anything else becomes an error with the HTTP status.
pub(crate) fn decode_error(url: &Url, status: u16, body: &[u8]) -> Error {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let grpc = v
        .get("code")
        .and_then(Value::as_i64)
        .and_then(|c| i32::try_from(c).ok())
        .unwrap_or_else(|| grpc_from_http(status));
    let detail = v
        .get("details")
        .and_then(Value::as_array)
        .and_then(|d| d.first());
    let id = detail
        .and_then(|d| d.get("id"))
        .and_then(Value::as_str)
        .map(sanitize);
    let failed_attempts = detail
        .and_then(|d| d.get("failedAttempts"))
        .and_then(|n| {
            n.as_u64()
                .or_else(|| n.as_str().and_then(|s| s.parse().ok()))
        })
        .and_then(|n| u32::try_from(n).ok());
    let message = v
        .get("message")
        .and_then(Value::as_str)
        .map(sanitize)
        .unwrap_or_default();
    ErrorKind::Api(ApiError {
        url: redact_url(url),
        status,
        grpc,
        id,
        message,
        failed_attempts,
    })
    .into()
}

/// The gRPC code grpc-gateway maps to `status`, for bodies without one.
fn grpc_from_http(status: u16) -> i32 {
    match status {
        400 => 3,
        401 => 16,
        403 => 7,
        404 => 5,
        409 => 6,
        429 => 8,
        501 => 12,
        503 => 14,
        504 => 4,
        _ => 2,
    }
}

/// A protojson `int64` (a string) or a number, as `u64`.
pub(crate) fn int64(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorCode, PasswordRule};

    fn url() -> Url {
        Url::parse("https://idp.example/v2/sessions?sessionToken=SECRET").unwrap()
    }

    fn err(status: u16, body: Value) -> Error {
        decode_error(&url(), status, body.to_string().as_bytes())
    }

    fn body(code: i32, id: &str) -> Value {
        serde_json::json!({"code": code, "message": format!("text ({id})"),
            "details": [{"@type": "type.googleapis.com/zitadel.v1.ErrorDetail", "id": id, "message": "text"}]})
    }

    #[test]
    fn zitadel_errors_map_to_codes_by_id_and_grpc_code() {
        let cases = [
            (403, body(7, "AUTH-5mWD2"), ErrorCode::PermissionDenied),
            (404, body(5, "QUERY-Dfbg2"), ErrorCode::NotFound),
            (409, body(6, "V3-DKcYh"), ErrorCode::AlreadyExists),
            (400, body(3, "COMMAND-eis9R"), ErrorCode::WrongCode),
            (400, body(3, "EVENT-8isk2"), ErrorCode::WrongCode),
            (400, body(9, "CODE-QvUQ4P"), ErrorCode::CodeExpired),
            (400, body(3, "COMMA-ZBv4H"), ErrorCode::PasswordPolicy),
            (400, body(9, "COMMAND-qx4ls"), ErrorCode::FailedPrecondition),
            (400, body(9, "COMMAND-JLK35"), ErrorCode::UserLocked),
            (400, body(3, "SOME-other"), ErrorCode::InvalidInput),
            (503, body(14, "X-1"), ErrorCode::RetryLater),
            (401, body(16, "AUTH-7fs1e"), ErrorCode::NotSignedIn),
        ];
        for (status, b, code) in cases {
            let e = err(status, b.clone());
            assert_eq!(e.code(), code, "{b}");
        }
    }

    #[test]
    fn a_wrong_password_carries_the_failed_attempts_and_a_lockout_is_user_locked() {
        let wrong = serde_json::json!({"code": 3, "message": "Password is invalid (COMMAND-3M0fs)",
            "details": [{"@type": "type.googleapis.com/zitadel.v1.CredentialsCheckError",
                         "id": "COMMAND-3M0fs", "message": "Password is invalid", "failedAttempts": 2}]});
        let e = err(400, wrong);
        assert_eq!(e.code(), ErrorCode::InvalidCredentials);
        assert_eq!(e.failed_attempts(), Some(2));
        assert_eq!(e.api_error_id(), Some("COMMAND-3M0fs"));
        let locked = serde_json::json!({"code": 9, "message": "User is locked (X-9)",
            "details": [{"@type": "type.googleapis.com/zitadel.v1.CredentialsCheckError",
                         "id": "X-9", "message": "locked", "failedAttempts": "3"}]});
        let e = err(400, locked);
        assert_eq!(e.code(), ErrorCode::UserLocked);
        assert_eq!(e.failed_attempts(), Some(3));
    }

    #[test]
    fn a_complexity_error_names_the_unmet_rule() {
        let e = err(400, body(3, "COMMA-VoaRj"));
        assert_eq!(e.unmet_password_rules(), vec![PasswordRule::Uppercase]);
    }

    #[test]
    fn bodies_that_are_not_zitadel_errors_fall_back_to_the_http_status() {
        let e = decode_error(&url(), 404, b"<html>not found</html>");
        assert_eq!(e.code(), ErrorCode::NotFound);
        assert!(!e.message().contains("SECRET"), "{}", e.message());
        let e = decode_error(&url(), 500, b"");
        assert_eq!(e.code(), ErrorCode::RetryLater);
    }

    #[test]
    fn server_messages_are_sanitized_and_never_carry_the_query() {
        let b = serde_json::json!({"code": 3, "message": "bad\u{1b}[31m\ninput"});
        let e = err(400, b);
        assert!(!e.message().contains('\u{1b}') && !e.message().contains('\n'));
        let e = err(400, serde_json::json!({"code": 3}));
        assert!(!e.message().contains("SECRET"));
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(seg("abc-123").unwrap(), "abc-123");
        assert_eq!(seg("../x y/?#").unwrap(), "..%2Fx%20y%2F%3F%23");
        for bad in ["", ".", ".."] {
            assert_eq!(
                seg(bad).err().map(|e| e.code()),
                Some(ErrorCode::InvalidInput)
            );
        }
    }
}
