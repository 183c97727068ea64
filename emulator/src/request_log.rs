//! `--request-log FILE`: one JSON object per request, secrets redacted.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use serde_json::{Map, Value, json};

use crate::server::BODY_LIMIT;

/// Replacement for secret values.
const REDACTED: &str = "[redacted]";

/// An append-only request log.
#[derive(Debug)]
pub(crate) struct RequestLog {
    file: Mutex<File>,
}

impl RequestLog {
    pub(crate) fn open(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            file: Mutex::new(file),
        })
    }

    fn write(&self, line: &Value) {
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = writeln!(file, "{line}");
    }
}

/// Whether a JSON key or form field holds a secret.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['_', '-'], "");
    // Descriptive fields that merely mention a secret kind.
    if [
        "type",
        "typehint",
        "endpoint",
        "uri",
        "supported",
        "expiresin",
        "lifetime",
        "method",
        "attempts",
    ]
    .iter()
    .any(|suffix| k.ends_with(suffix))
    {
        return false;
    }
    k.contains("password")
        || k.contains("secret")
        || k.contains("token")
        || k.contains("assertion")
        || k == "code"
        || k.ends_with("code") && !k.ends_with("statuscode")
        || k == "codeverifier"
        || k == "csrf"
        || k == "totp"
        || k == "authorization"
}

/// Replaces secret values in a JSON document, keeping the keys.
pub(crate) fn redact(value: &mut Value) {
    match value {
        // A ZITADEL / gRPC-gateway error body (`code`, `message`, `details`) holds no
        // secret: its integer `code` is the gRPC status and stays as it is.
        Value::Object(map) if is_error_body(map) => {}
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                // Only scalar secrets are replaced: objects under a secret-sounding key
                // (`password: {password: ...}`, `factors.password`) are searched instead,
                // and booleans (`hasSecret`, `allowUsernamePassword`) are no secrets.
                if is_secret_key(k) && (v.is_string() || v.is_number()) {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Whether `map` is an error body: an integer `code` beside a string `message`.
fn is_error_body(map: &Map<String, Value>) -> bool {
    map.get("code").is_some_and(Value::is_u64)
        && map.get("message").is_some_and(Value::is_string)
        && map
            .keys()
            .all(|k| matches!(k.as_str(), "code" | "message" | "details"))
}

/// Redacts secret query parameters of a path.
fn redact_path(path_and_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return path_and_query.to_owned();
    };
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if is_secret_key(&k) {
            ser.append_pair(&k, REDACTED);
        } else {
            ser.append_pair(&k, &v);
        }
    }
    format!("{path}?{}", ser.finish())
}

/// Parses a body as JSON, or a form body into a JSON object of strings.
fn parse_body(bytes: &[u8], content_type: Option<&str>) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return v;
    }
    if content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
        let map: Map<String, Value> = url::form_urlencoded::parse(bytes)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        return Value::Object(map);
    }
    Value::Null
}

pub(crate) async fn middleware(
    State(log): State<Arc<RequestLog>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().to_string();
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let req_type = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (parts, body) = request.into_parts();
    // The body limit applies here too: an over-long body is answered with 413.
    let (bytes, response) = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes.clone())))
                .await;
            (bytes, response)
        }
        Err(_) => (
            Bytes::new(),
            axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        ),
    };
    let mut request_body = parse_body(&bytes, req_type.as_deref());
    let status = response.status().as_u16();
    let resp_type = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_else(|_| Bytes::new());
    let mut response_body = if resp_type
        .as_deref()
        .is_some_and(|c| c.starts_with("application/json"))
    {
        parse_body(&bytes, None)
    } else {
        Value::Null
    };
    redact(&mut request_body);
    redact(&mut response_body);
    log.write(&json!({
        "method": method,
        "path": redact_path(&path),
        "status": status,
        "request_body": request_body,
        "response_body": response_body,
    }));
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_nested_secrets_and_keeps_keys() {
        let mut v = json!({"checks": {"password": {"password": "x"}}, "sessionToken": "t", "userId": "1",
                           "refresh_token": "r", "emailCode": "123", "expires_in": 5});
        redact(&mut v);
        assert_eq!(v["checks"]["password"]["password"], json!(REDACTED));
        assert_eq!(v["sessionToken"], json!(REDACTED));
        assert_eq!(v["refresh_token"], json!(REDACTED));
        assert_eq!(v["emailCode"], json!(REDACTED));
        assert_eq!(v["userId"], json!("1"));
        assert_eq!(v["expires_in"], json!(5));
        let mut v = json!({"token_type": "Bearer", "grant_type": "refresh_token", "code_challenge_method": "S256",
                           "hasSecret": true, "factors": {"password": {"verifiedAt": "2030-01-01T00:00:00Z"}},
                           "maxPasswordAttempts": 5});
        redact(&mut v);
        assert_eq!(v["maxPasswordAttempts"], json!(5));
        assert_eq!(v["token_type"], json!("Bearer"));
        assert_eq!(v["grant_type"], json!("refresh_token"));
        assert_eq!(v["hasSecret"], json!(true));
        assert_eq!(
            v["factors"]["password"]["verifiedAt"],
            json!("2030-01-01T00:00:00Z")
        );
    }

    #[test]
    fn error_bodies_keep_their_integer_code_message_and_details() {
        let body = json!({"code": 5, "message": "User could not be found (COMMAND-uXHNj)",
                          "details": [{"@type": "type.googleapis.com/zitadel.v1.ErrorDetail",
                                       "id": "COMMAND-uXHNj", "message": "User could not be found"}]});
        let mut v = body.clone();
        redact(&mut v);
        assert_eq!(v, body);
        // A secret beside a `code` is still a secret: only real error bodies are kept.
        let mut v = json!({"code": "123456", "message": "m", "userId": "1"});
        redact(&mut v);
        assert_eq!(v["code"], json!(REDACTED));
    }

    #[test]
    fn redacts_query_secrets() {
        assert_eq!(
            redact_path("/cb?code=abc&state=s"),
            "/cb?code=%5Bredacted%5D&state=s"
        );
    }
}
