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
    /// The caller lacks the permission (e.g. a plain user calling a manager operation).
    PermissionDenied = 13,
    /// The user, session, IdP or other object does not exist.
    NotFound = 14,
    /// The object exists already (user name taken, factor already set up, member already added).
    AlreadyExists = 15,
    /// The user is locked (too many failed attempts, or by a manager). See [`Error::failed_attempts`].
    UserLocked = 16,
    /// A one-time or verification code is wrong. Let the user type it again.
    WrongCode = 17,
    /// A one-time or verification code has expired. Ask for a new one (resend).
    CodeExpired = 18,
    /// The password does not meet the complexity policy. See [`Error::unmet_password_rules`].
    PasswordPolicy = 19,
    /// The login name or password is wrong (see [`Error::failed_attempts`]),
    /// or a passkey or security key did not verify.
    InvalidCredentials = 20,
    /// The object is not in a state that allows this (email already verified,
    /// phone not verified yet, no code pending, nothing to remove).
    FailedPrecondition = 21,
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
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::NotFound => "not_found",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::UserLocked => "user_locked",
            ErrorCode::WrongCode => "wrong_code",
            ErrorCode::CodeExpired => "code_expired",
            ErrorCode::PasswordPolicy => "password_policy",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::FailedPrecondition => "failed_precondition",
        }
    }

    /// Every code, in numeric order (for bindings and documentation).
    pub const ALL: [ErrorCode; 21] = [
        ErrorCode::Internal,
        ErrorCode::RetryLater,
        ErrorCode::InvalidInput,
        ErrorCode::NotSignedIn,
        ErrorCode::SessionExpired,
        ErrorCode::Cancelled,
        ErrorCode::Misconfigured,
        ErrorCode::ServerRejected,
        ErrorCode::InvalidServerResponse,
        ErrorCode::Storage,
        ErrorCode::Expired,
        ErrorCode::AccessDenied,
        ErrorCode::PermissionDenied,
        ErrorCode::NotFound,
        ErrorCode::AlreadyExists,
        ErrorCode::UserLocked,
        ErrorCode::WrongCode,
        ErrorCode::CodeExpired,
        ErrorCode::PasswordPolicy,
        ErrorCode::InvalidCredentials,
        ErrorCode::FailedPrecondition,
    ];

    /// The code with this number, if there is one.
    pub fn from_u16(n: u16) -> Option<ErrorCode> {
        Self::ALL.iter().copied().find(|c| c.as_u16() == n)
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

/// The internal, detailed reason of an [`Error`]. Private: its variants
/// carry third-party types; the public surface is [`Error`] and [`ErrorCode`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum ErrorKind {
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
    /// An error answered by a ZITADEL API (`google.rpc.Status` with details).
    #[error("{}", api_message(.0))]
    Api(ApiError),
    /// The password does not meet the complexity policy.
    #[error("the password does not meet the policy: {}", .0.iter().map(|r| r.describe()).collect::<Vec<_>>().join(", "))]
    PasswordPolicy(Vec<PasswordRule>),
    /// An error raised by host code (a store, a browser, an authenticator).
    #[error("{message}")]
    Host {
        /// The code the host chose.
        code: ErrorCode,
        /// The host's safe message.
        message: String,
    },
}

/// What a ZITADEL API answered with an error: the gRPC code, the error id
/// of its details (`COMMAND-3M0fs`), its message (without secrets; it is
/// ZITADEL's own text, localized by `Accept-Language`), and the failed
/// attempts of a credentials check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// The endpoint, without query.
    pub url: String,
    /// The HTTP status.
    pub status: u16,
    /// The numeric gRPC code of the body (`code`), 2 (unknown) when missing.
    pub grpc: i32,
    /// `details[0].id`, when given.
    pub id: Option<String>,
    /// The server's message, sanitized and bounded.
    pub message: String,
    /// `failedAttempts` of a `zitadel.v1.CredentialsCheckError`.
    pub failed_attempts: Option<u32>,
}

fn api_message(e: &ApiError) -> String {
    if e.message.is_empty() {
        format!("{} answered HTTP {}", e.url, e.status)
    } else {
        e.message.clone()
    }
}

/// A rule of the password complexity policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordRule {
    /// At least the policy's minimum length.
    MinLength,
    /// At least one lower-case letter.
    Lowercase,
    /// At least one upper-case letter.
    Uppercase,
    /// At least one digit.
    Number,
    /// At least one symbol (not a letter or digit).
    Symbol,
}

impl PasswordRule {
    /// A short English description, e.g. "a lower-case letter".
    pub fn describe(self) -> &'static str {
        match self {
            PasswordRule::MinLength => "the minimum length",
            PasswordRule::Lowercase => "a lower-case letter",
            PasswordRule::Uppercase => "an upper-case letter",
            PasswordRule::Number => "a number",
            PasswordRule::Symbol => "a symbol",
        }
    }

    /// The rule a ZITADEL complexity error id names.
    pub(crate) fn from_error_id(id: &str) -> Option<PasswordRule> {
        Some(match id {
            "COMMA-HuJf6" => PasswordRule::MinLength,
            "COMMA-co3Xw" => PasswordRule::Lowercase,
            "COMMA-VoaRj" => PasswordRule::Uppercase,
            "COMMA-ZBv4H" => PasswordRule::Number,
            "COMMA-ZDLwA" => PasswordRule::Symbol,
            _ => return None,
        })
    }
}

/// ZITADEL error ids of a wrong verification or one-time code.
const WRONG_CODE_IDS: &[&str] = &[
    "CODE-woT0xc",
    "COMMAND-eis9R",
    "COMMAND-Gdsgs",
    "EVENT-8isk2",
    "COMMAND-Wgn4q",
    "EMU-USER07",
];
/// ZITADEL error ids of an expired code.
const EXPIRED_CODE_IDS: &[&str] = &["CODE-QvUQ4P"];
/// ZITADEL error ids of a check refused because the user is locked.
const LOCKED_IDS: &[&str] = &["COMMAND-JLK35", "COMMAND-SF3fg", "COMMAND-S6h4R"];
/// ZITADEL error ids of a wrong password, or a WebAuthn assertion that
/// does not verify (unknown credential, wrong signature, stale challenge;
/// ZITADEL answers these with an internal error).
const WRONG_PASSWORD_IDS: &[&str] = &["COMMAND-3M0fs", "WEBAU-3M9si", "WEBAU-ADgv4"];
/// ZITADEL error ids of a WebAuthn credential refused at registration.
const BAD_CREDENTIAL_IDS: &[&str] = &["WEBAU-3Vb9s", "WEBAU-sEr8c"];

impl ApiError {
    /// What the app should do, from the gRPC code and the error id (never the text).
    fn code(&self) -> ErrorCode {
        let id = self.id.as_deref().unwrap_or("");
        if PasswordRule::from_error_id(id).is_some() {
            return ErrorCode::PasswordPolicy;
        }
        if WRONG_CODE_IDS.contains(&id) {
            return ErrorCode::WrongCode;
        }
        if EXPIRED_CODE_IDS.contains(&id) {
            return ErrorCode::CodeExpired;
        }
        if LOCKED_IDS.contains(&id) || (self.grpc == 9 && self.failed_attempts.is_some()) {
            return ErrorCode::UserLocked;
        }
        if WRONG_PASSWORD_IDS.contains(&id) {
            return ErrorCode::InvalidCredentials;
        }
        if BAD_CREDENTIAL_IDS.contains(&id) {
            return ErrorCode::InvalidInput;
        }
        match self.grpc {
            3 | 11 => ErrorCode::InvalidInput,
            5 => ErrorCode::NotFound,
            6 | 10 => ErrorCode::AlreadyExists,
            7 => ErrorCode::PermissionDenied,
            9 => ErrorCode::FailedPrecondition,
            16 => ErrorCode::NotSignedIn,
            1 | 4 | 8 | 14 => ErrorCode::RetryLater,
            _ if self.status >= 500 || self.status == 429 => ErrorCode::RetryLater,
            _ => ErrorCode::ServerRejected,
        }
    }
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
            Api(e) => e.code(),
            PasswordPolicy(_) => ErrorCode::PasswordPolicy,
            Host { code, .. } => *code,
        }
    }

    /// The detailed reason.
    pub(crate) fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// An error raised by host code — a token store, a browser launcher, a
    /// passkey authenticator — with the code the host chose. The message
    /// must not contain secrets or personal data.
    pub fn host(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorKind::Host {
            code,
            message: sanitize(&message.into()),
        }
        .into()
    }

    /// The ZITADEL error id (`details[].id`, e.g. `COMMAND-3M0fs`) when a
    /// ZITADEL API answered with this error. Stable per code path of the
    /// server, unlike the translated message.
    pub fn api_error_id(&self) -> Option<&str> {
        match &*self.kind {
            ErrorKind::Api(e) => e.id.as_deref(),
            _ => None,
        }
    }

    /// The failed attempts so far of a wrong password or a lockout
    /// ([`ErrorCode::InvalidCredentials`], [`ErrorCode::UserLocked`]), when
    /// the server told them.
    pub fn failed_attempts(&self) -> Option<u32> {
        match &*self.kind {
            ErrorKind::Api(e) => e.failed_attempts,
            _ => None,
        }
    }

    /// The password rules a refused password breaks ([`ErrorCode::PasswordPolicy`]).
    pub fn unmet_password_rules(&self) -> Vec<PasswordRule> {
        match &*self.kind {
            ErrorKind::PasswordPolicy(rules) => rules.clone(),
            ErrorKind::Api(e) => {
                e.id.as_deref()
                    .and_then(PasswordRule::from_error_id)
                    .into_iter()
                    .collect()
            }
            _ => Vec::new(),
        }
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
