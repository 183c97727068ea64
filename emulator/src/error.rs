//! ZITADEL-style API errors and OAuth errors.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A gRPC status code as ZITADEL returns it in REST error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // the full table is kept; later API groups use the rest
pub(crate) enum GrpcCode {
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    Unauthenticated = 16,
}

impl GrpcCode {
    /// The HTTP status grpc-gateway maps this code to (ENDPOINTS.md §8).
    pub(crate) fn http_status(self) -> StatusCode {
        match self {
            Self::Cancelled => StatusCode::REQUEST_TIMEOUT,
            Self::Unknown | Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::InvalidArgument | Self::FailedPrecondition | Self::OutOfRange => {
                StatusCode::BAD_REQUEST
            }
            Self::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::AlreadyExists | Self::Aborted => StatusCode::CONFLICT,
            Self::PermissionDenied => StatusCode::FORBIDDEN,
            Self::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Self::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
        }
    }
}

/// An error of the ZITADEL REST gateway: `google.rpc.Status` with a
/// `zitadel.v1.ErrorDetail`.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) code: GrpcCode,
    /// The ZITADEL error id, e.g. `QUERY-Dfbg2`; empty for errors without details.
    pub(crate) id: &'static str,
    pub(crate) message: String,
    /// Overrides the HTTP status (only for the gateway's own 405).
    pub(crate) status: Option<StatusCode>,
    /// Set for credential checks: the detail becomes
    /// `zitadel.v1.CredentialsCheckError` with `failedAttempts`.
    pub(crate) failed_attempts: Option<u32>,
}

impl ApiError {
    /// An error with a ZITADEL error id and an English message.
    pub(crate) fn new(code: GrpcCode, id: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            id,
            message: message.into(),
            status: None,
            failed_attempts: None,
        }
    }

    /// A credentials check error carrying the failed attempts so far.
    pub(crate) fn credentials(
        code: GrpcCode,
        id: &'static str,
        message: impl Into<String>,
        failed: u32,
    ) -> Self {
        Self {
            failed_attempts: Some(failed),
            ..Self::new(code, id, message)
        }
    }

    /// The gateway's "Not Found" for unknown routes (no details).
    pub(crate) fn route_not_found() -> Self {
        Self::new(GrpcCode::NotFound, "", "Not Found")
    }

    /// The gateway's answer to a known path with the wrong method.
    pub(crate) fn method_not_allowed() -> Self {
        Self {
            status: Some(StatusCode::METHOD_NOT_ALLOWED),
            ..Self::new(GrpcCode::Unimplemented, "", "Method Not Allowed")
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or_else(|| self.code.http_status());
        let body = if self.id.is_empty() {
            json!({"code": self.code as i32, "message": self.message, "details": []})
        } else if let Some(failed) = self.failed_attempts {
            json!({
                "code": self.code as i32,
                "message": format!("{} ({})", self.message, self.id),
                "details": [{
                    "@type": "type.googleapis.com/zitadel.v1.CredentialsCheckError",
                    "id": self.id,
                    "message": self.message,
                    "failedAttempts": failed,
                }]
            })
        } else {
            json!({
                "code": self.code as i32,
                "message": format!("{} ({})", self.message, self.id),
                "details": [{
                    "@type": "type.googleapis.com/zitadel.v1.ErrorDetail",
                    "id": self.id,
                    "message": self.message,
                }]
            })
        };
        (status, Json(body)).into_response()
    }
}

/// An OAuth 2.0 / OIDC error answered as JSON (`error`, `error_description`).
#[derive(Debug, Clone)]
pub(crate) struct OAuthError {
    pub(crate) status: StatusCode,
    pub(crate) error: &'static str,
    pub(crate) description: String,
}

impl OAuthError {
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    pub(crate) fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub(crate) fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    pub(crate) fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            Json(json!({"error": self.error, "error_description": self.description})),
        )
            .into_response();
        resp.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        resp
    }
}
