//! Errors: a rich internal kind, and a small public [`Error`] carrying a
//! stable numeric [`ErrorCode`] that tells the app what to do.
//!
//! # Security
//! No message produced here contains a token, a code, a password or the
//! query string of a URL: URLs are reduced to scheme, host, port and path
//! before they enter an error, and server bodies are never copied in.

use std::fmt;

/// What the app should do about an error. The numbers are stable and never
/// reused; they are the same across Rust, Kotlin, Swift and the C ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A bug or an unexpected state in the SDK. Report it.
    Internal = 1,
    /// A transient network or server problem. Retry later.
    RetryLater = 2,
    /// The input given by the user or the app is invalid. Fix it.
    InvalidInput = 3,
    /// There is no signed-in session for this account. Log in.
    NotSignedIn = 4,
    /// The session ended on the server (refresh token expired or revoked). Log in again.
    SessionExpired = 5,
    /// The operation was cancelled by the app or the user.
    Cancelled = 6,
    /// The SDK is configured wrongly (issuer, client id, redirect URI, insecure URL).
    Misconfigured = 7,
    /// The server refused the request (an OAuth error other than the ones above).
    ServerRejected = 8,
    /// The server's answer is malformed or fails a security check (e.g. ID token validation).
    InvalidServerResponse = 9,
    /// The token store failed or holds data that cannot be read.
    Storage = 10,
    /// The user did not finish in time (device code or login wait expired). Start again.
    Expired = 11,
    /// The user or the server denied the authorization (`access_denied`).
    AccessDenied = 12,
}

impl ErrorCode {
    /// The stable number of this code.
    pub fn as_u16(self) -> u16 {
        self as u16
    }

    /// A stable, machine-readable name, e.g. `"session_expired"`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::Internal => "internal",
            ErrorCode::RetryLater => "retry_later",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::NotSignedIn => "not_signed_in",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::Misconfigured => "misconfigured",
            ErrorCode::ServerRejected => "server_rejected",
            ErrorCode::InvalidServerResponse => "invalid_server_response",
            ErrorCode::Storage => "storage",
            ErrorCode::Expired => "expired",
            ErrorCode::AccessDenied => "access_denied",
        }
    }
}

/// Why an ID token (or a token response) was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenValidationError {
    /// The token is not a well-formed JWS.
    Malformed,
    /// The `alg` is not on the allow-list (e.g. `none` or an HMAC algorithm).
    DisallowedAlgorithm(String),
    /// No key in the JWKS matches the token's `kid`, even after a refetch.
    UnknownKey,
    /// The key found does not fit the algorithm.
    KeyMismatch,
    /// The signature does not verify.
    BadSignature,
    /// `iss` differs from the issuer.
    Issuer,
    /// `aud` does not contain the client id.
    Audience,
    /// `azp` is missing with several audiences, or names another client.
    AuthorizedParty,
    /// `exp` is missing or in the past.
    Expired,
    /// `iat` is missing or in the future.
    IssuedAt,
    /// `nbf` is in the future: the token is not valid yet.
    NotYetValid,
    /// `sub` is missing or empty.
    Subject,
    /// `nonce` does not match the one sent.
    Nonce,
    /// `at_hash` does not match the access token.
    AccessTokenHash,
    /// `auth_time` is missing or too old for the `max_age` asked for.
    AuthTime,
    /// `token_type` is not `Bearer`.
    TokenType(String),
    /// A refreshed ID token names another subject than the session's.
    SubjectChanged,
    /// A userinfo `sub` differs from the ID token's.
    UserinfoSubject,
}

impl fmt::Display for TokenValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TokenValidationError::*;
        match self {
            Malformed => f.write_str("the ID token is not a well-formed JWT"),
            DisallowedAlgorithm(a) => write!(f, "the ID token algorithm {a:?} is not allowed"),
            UnknownKey => f.write_str("no signing key matches the ID token's key id"),
            KeyMismatch => f.write_str("the signing key does not fit the ID token algorithm"),
            BadSignature => f.write_str("the ID token signature is invalid"),
            Issuer => f.write_str("the ID token issuer does not match"),
            Audience => f.write_str("the ID token audience does not contain this client"),
            AuthorizedParty => f.write_str("the ID token authorized party (azp) is wrong"),
            Expired => f.write_str("the ID token is expired or has no expiry"),
            IssuedAt => f.write_str("the ID token issue time is missing or in the future"),
            NotYetValid => f.write_str("the ID token is not valid yet (nbf is in the future)"),
            Subject => f.write_str("the ID token has no subject"),
            Nonce => f.write_str("the ID token nonce does not match"),
            AccessTokenHash => f.write_str("the ID token at_hash does not match the access token"),
            AuthTime => f.write_str("the ID token auth_time is missing or older than max_age"),
            TokenType(t) => write!(f, "the token type {t:?} is not Bearer"),
            SubjectChanged => f.write_str("the refreshed ID token names another subject"),
            UserinfoSubject => f.write_str("the userinfo subject differs from the ID token's"),
        }
    }
}

/// The internal, detailed reason of an [`Error`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A configuration value is missing or invalid.
    #[error("configuration error: {0}")]
    Config(String),
    /// A URL is not HTTPS and not on a loopback host.
    #[error("insecure URL {0}: HTTPS is required except on loopback")]
    InsecureUrl(String),
    /// Input from the user or app is invalid.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Network failure or timeout.
    #[error("network error talking to {url}")]
    Network {
        /// The endpoint, without query.
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an unexpected HTTP status.
    #[error("{url} answered HTTP {status}")]
    HttpStatus {
        /// The endpoint, without query.
        url: String,
        /// The status.
        status: u16,
    },
    /// The server answered a body that cannot be understood.
    #[error("malformed response from {url}: {detail}")]
    MalformedResponse {
        /// The endpoint, without query.
        url: String,
        /// What was wrong (no body content).
        detail: String,
    },
    /// Discovery returned another issuer than configured.
    #[error("discovery names issuer {found:?} but {expected:?} is configured")]
    IssuerMismatch {
        /// Configured issuer.
        expected: String,
        /// Issuer in the discovery document.
        found: String,
    },
    /// The server does not offer an endpoint this operation needs.
    #[error("the server does not offer the {0} endpoint")]
    MissingEndpoint(&'static str),
    /// An OAuth error response (`error`, `error_description`).
    #[error("the server rejected the request: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    OAuth {
        /// The `error` code, e.g. `invalid_request`.
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
    },
    /// The refresh token is no longer valid (`invalid_grant`).
    #[error("the session has expired; sign in again")]
    SessionExpired,
    /// No signed-in session.
    #[error("not signed in")]
    NotSignedIn,
    /// No login is in progress, or the callback does not belong to it.
    #[error("no matching login in progress: {0}")]
    NoPendingLogin(&'static str),
    /// The callback's `state` does not match the login in progress.
    #[error("the callback's state does not match the login in progress")]
    StateMismatch,
    /// The callback's `iss` (RFC 9207) is missing or wrong.
    #[error("the callback's iss parameter is missing or does not match the issuer")]
    CallbackIssuer,
    /// ID token or token response validation failed.
    #[error("token validation failed: {0}")]
    Token(TokenValidationError),
    /// The token store failed.
    #[error("token store error: {0}")]
    Store(String),
    /// Stored data cannot be decoded.
    #[error("stored data for {key:?} is corrupt or of an unknown schema: {detail}")]
    StoreCorrupt {
        /// The store key.
        key: String,
        /// What was wrong.
        detail: String,
    },
    /// The operation was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The device code or the login wait expired.
    #[error("{0} expired before the user finished")]
    Expired(&'static str),
    /// The authorization was denied.
    #[error("access denied{}", .0.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    AccessDenied(Option<String>),
    /// An I/O error (loopback listener, files).
    #[error("I/O error: {0}")]
    Io(#[source] std::io::Error),
    /// Something that should not happen.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The SDK's public error: a stable [`ErrorCode`] plus a message safe to log.
/// Cheap to clone (callers waiting on one refresh share its error).
#[derive(Clone)]
pub struct Error {
    kind: std::sync::Arc<ErrorKind>,
}

impl Error {
    /// What the app should do.
    pub fn code(&self) -> ErrorCode {
        use ErrorKind::*;
        match &*self.kind {
            Config(_) | InsecureUrl(_) | IssuerMismatch { .. } | MissingEndpoint(_) => {
                ErrorCode::Misconfigured
            }
            InvalidInput(_) | NoPendingLogin(_) | StateMismatch => ErrorCode::InvalidInput,
            Network { .. } => ErrorCode::RetryLater,
            HttpStatus { status, .. } if *status >= 500 || *status == 429 => ErrorCode::RetryLater,
            HttpStatus { .. } => ErrorCode::ServerRejected,
            MalformedResponse { .. } | CallbackIssuer | Token(_) => {
                ErrorCode::InvalidServerResponse
            }
            OAuth { error, .. } => match error.as_str() {
                "temporarily_unavailable" | "server_error" => ErrorCode::RetryLater,
                "invalid_client"
                | "unauthorized_client"
                | "unsupported_grant_type"
                | "unsupported_response_type"
                | "invalid_scope" => ErrorCode::Misconfigured,
                "login_required"
                | "interaction_required"
                | "consent_required"
                | "account_selection_required" => ErrorCode::NotSignedIn,
                _ => ErrorCode::ServerRejected,
            },
            SessionExpired => ErrorCode::SessionExpired,
            NotSignedIn => ErrorCode::NotSignedIn,
            Store(_) | StoreCorrupt { .. } => ErrorCode::Storage,
            Cancelled => ErrorCode::Cancelled,
            Expired(_) => ErrorCode::Expired,
            AccessDenied(_) => ErrorCode::AccessDenied,
            Io(_) | Internal(_) => ErrorCode::Internal,
        }
    }

    /// The detailed reason.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// A human-readable message, safe to log (no secrets, no query strings).
    pub fn message(&self) -> String {
        self.kind.to_string()
    }

    /// The OAuth `error` code, when the server answered with one.
    pub fn oauth_error(&self) -> Option<&str> {
        match &*self.kind {
            ErrorKind::OAuth { error, .. } => Some(error),
            _ => None,
        }
    }

    /// A storage failure raised by a host-provided [`crate::TokenStore`]
    /// (code [`ErrorCode::Storage`]). The message must not contain stored values.
    pub fn storage(message: impl Into<String>) -> Self {
        Self::store(message)
    }

    pub(crate) fn config(msg: impl Into<String>) -> Self {
        ErrorKind::Config(msg.into()).into()
    }
    pub(crate) fn input(msg: impl Into<String>) -> Self {
        ErrorKind::InvalidInput(msg.into()).into()
    }
    pub(crate) fn internal(msg: impl Into<String>) -> Self {
        ErrorKind::Internal(msg.into()).into()
    }
    pub(crate) fn store(msg: impl Into<String>) -> Self {
        ErrorKind::Store(msg.into()).into()
    }
    pub(crate) fn malformed(url: &url::Url, detail: impl Into<String>) -> Self {
        ErrorKind::MalformedResponse {
            url: redact_url(url),
            detail: detail.into(),
        }
        .into()
    }
    pub(crate) fn token(e: TokenValidationError) -> Self {
        ErrorKind::Token(e).into()
    }
    /// An OAuth error response; `access_denied` and `invalid_grant` get their own kinds
    /// at the call sites that know what they mean.
    pub(crate) fn oauth(error: String, description: Option<String>) -> Self {
        if error == "access_denied" {
            return ErrorKind::AccessDenied(description.map(|d| sanitize(&d))).into();
        }
        ErrorKind::OAuth {
            error: sanitize(&error),
            description: description.map(|d| sanitize(&d)),
        }
        .into()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error {
            kind: std::sync::Arc::new(kind),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("code", &self.code())
            .field("message", &self.message())
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.kind)
    }
}

/// Result with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A URL reduced to what is safe in an error: scheme, host, port and path;
/// never the query, fragment or user info.
pub(crate) fn redact_url(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// Server-supplied text (OAuth `error`, `error_description`) trimmed to a
/// bounded length of printable characters, so it cannot smuggle control
/// characters or megabytes into logs.
pub(crate) fn sanitize(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_numbers() {
        assert_eq!(ErrorCode::Internal.as_u16(), 1);
        assert_eq!(ErrorCode::SessionExpired.as_u16(), 5);
        assert_eq!(ErrorCode::AccessDenied.as_u16(), 12);
        assert_eq!(ErrorCode::SessionExpired.name(), "session_expired");
    }

    #[test]
    fn redacted_url_drops_query_fragment_and_userinfo() {
        let u = url::Url::parse("https://user:pw@idp.example/cb?code=SECRET&state=x#frag")
            .expect("url");
        assert_eq!(redact_url(&u), "https://idp.example/cb");
    }

    #[test]
    fn access_denied_gets_its_own_code() {
        let e = Error::oauth("access_denied".into(), Some("user said no".into()));
        assert_eq!(e.code(), ErrorCode::AccessDenied);
        let e = Error::oauth("invalid_client".into(), None);
        assert_eq!(e.code(), ErrorCode::Misconfigured);
        let e = Error::oauth("temporarily_unavailable".into(), None);
        assert_eq!(e.code(), ErrorCode::RetryLater);
    }

    #[test]
    fn server_text_is_sanitized_and_bounded() {
        let long = format!("a\u{7}b\n{}", "x".repeat(1000));
        let e = Error::oauth("invalid_request".into(), Some(long));
        let m = e.message();
        assert!(!m.contains('\u{7}') && !m.contains('\n'));
        assert!(m.len() < 300);
    }

    #[test]
    fn debug_shows_code_and_message_only() {
        let e: Error = ErrorKind::SessionExpired.into();
        let d = format!("{e:?}");
        assert!(d.contains("SessionExpired") && d.contains("sign in again"));
    }
}
