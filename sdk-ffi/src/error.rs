//! [`FfiError`]: the one error type that crosses uniffi (a Kotlin exception,
//! a Swift error), with the stable numeric code of [`zitadel_sdk::ErrorCode`].

use std::fmt;
use zitadel_sdk::ErrorCode;

macro_rules! ffi_error {
    ($($(#[$doc:meta])* $variant:ident => $code:ident,)*) => {
        /// An SDK error: one variant per [`zitadel_sdk::ErrorCode`], each with
        /// the stable numeric `code`, its machine-readable `name` (e.g.
        /// `"session_expired"`) and a `detail` message that is safe to log (no
        /// token, code, password or query string).
        #[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]
        pub enum FfiError {
            $(
                $(#[$doc])*
                $variant {
                    /// The stable number of the error code (same in Rust, Kotlin, Swift and C).
                    code: u16,
                    /// The stable name of the error code, e.g. `"session_expired"`.
                    name: String,
                    /// A human-readable message, safe to log.
                    detail: String,
                    /// For a wrong password or a locked user: the failed attempts
                    /// counted by the server, when it told them.
                    failed_attempts: Option<u32>,
                    /// For `password_policy`: the unmet rules (`"min_length"`, `"lowercase"`,
                    /// `"uppercase"`, `"number"`, `"symbol"`); empty otherwise.
                    unmet_password_rules: Vec<String>,
                },
            )*
        }

        impl FfiError {
            /// The error for `code` with a safe `detail` message.
            pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
                let (c, name, detail) = (code.as_u16(), code.name().to_owned(), detail.into());
                let (failed_attempts, unmet_password_rules) = (None, Vec::new());
                match code {
                    $(ErrorCode::$code => FfiError::$variant {
                        code: c, name, detail, failed_attempts, unmet_password_rules,
                    },)*
                    // A code added to sdk-core before it got its own variant here
                    // keeps its number and name.
                    _ => FfiError::Internal {
                        code: c, name, detail, failed_attempts, unmet_password_rules,
                    },
                }
            }

            /// The stable numeric error code.
            pub fn code(&self) -> u16 {
                match self {
                    $(FfiError::$variant { code, .. })|* => *code,
                }
            }

            /// The stable error name, e.g. `"session_expired"`.
            pub fn name(&self) -> &str {
                match self {
                    $(FfiError::$variant { name, .. })|* => name,
                }
            }

            /// The safe message.
            pub fn detail(&self) -> &str {
                match self {
                    $(FfiError::$variant { detail, .. })|* => detail,
                }
            }

            /// The failed attempts the server counted (wrong password, locked user).
            pub fn failed_attempts(&self) -> Option<u32> {
                match self {
                    $(FfiError::$variant { failed_attempts, .. })|* => *failed_attempts,
                }
            }

            /// The unmet password rules (`password_policy`), by their stable names.
            pub fn unmet_password_rules(&self) -> &[String] {
                match self {
                    $(FfiError::$variant { unmet_password_rules, .. })|* => unmet_password_rules,
                }
            }

            fn with_extras(mut self, attempts: Option<u32>, rules: Vec<String>) -> Self {
                match &mut self {
                    $(FfiError::$variant { failed_attempts, unmet_password_rules, .. })|* => {
                        *failed_attempts = attempts;
                        *unmet_password_rules = rules;
                    }
                }
                self
            }
        }
    };
}

ffi_error! {
    /// A bug or an unexpected state in the SDK. Report it.
    Internal => Internal,
    /// A transient network or server problem. Retry later.
    RetryLater => RetryLater,
    /// The input given by the user or the app is invalid. Fix it.
    InvalidInput => InvalidInput,
    /// There is no signed-in session for this account. Log in.
    NotSignedIn => NotSignedIn,
    /// The session ended on the server. Log in again.
    SessionExpired => SessionExpired,
    /// The operation was cancelled by the app or the user.
    Cancelled => Cancelled,
    /// The SDK is configured wrongly (issuer, client id, redirect URI, insecure URL).
    Misconfigured => Misconfigured,
    /// The server refused the request.
    ServerRejected => ServerRejected,
    /// The server's answer is malformed or fails a security check.
    InvalidServerResponse => InvalidServerResponse,
    /// The token store failed or holds data that cannot be read.
    Storage => Storage,
    /// The user did not finish in time. Start again.
    Expired => Expired,
    /// The user or the server denied the authorization.
    AccessDenied => AccessDenied,
    /// The caller lacks the permission.
    PermissionDenied => PermissionDenied,
    /// The user, session or other object does not exist.
    NotFound => NotFound,
    /// The object exists already.
    AlreadyExists => AlreadyExists,
    /// The user is locked.
    UserLocked => UserLocked,
    /// A one-time or verification code is wrong.
    WrongCode => WrongCode,
    /// A one-time or verification code has expired.
    CodeExpired => CodeExpired,
    /// The password does not meet the complexity policy.
    PasswordPolicy => PasswordPolicy,
    /// The login name or password is wrong.
    InvalidCredentials => InvalidCredentials,
    /// The object is not in a state that allows this.
    FailedPrecondition => FailedPrecondition,
}

impl FfiError {
    pub(crate) fn internal(detail: impl Into<String>) -> Self {
        FfiError::new(ErrorCode::Internal, detail)
    }

    pub(crate) fn invalid_input(detail: impl Into<String>) -> Self {
        FfiError::new(ErrorCode::InvalidInput, detail)
    }

    /// The error as JSON for the C ABI: `{"code":5,"name":"session_expired","message":"..."}`.
    pub(crate) fn to_json(&self) -> String {
        let mut v =
            serde_json::json!({"code": self.code(), "name": self.name(), "message": self.detail()});
        if let Some(n) = self.failed_attempts() {
            v["failed_attempts"] = n.into();
        }
        if !self.unmet_password_rules().is_empty() {
            v["unmet_password_rules"] = self.unmet_password_rules().into();
        }
        v.to_string()
    }

    /// This error as an sdk-core error (for failures of host callbacks: a
    /// foreign token store or browser launcher), keeping what it means.
    pub(crate) fn into_core(self) -> zitadel_sdk::Error {
        let code = ErrorCode::from_u16(self.code()).unwrap_or(ErrorCode::Internal);
        zitadel_sdk::Error::host(code, self.detail())
    }
}

impl fmt::Display for FfiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.name(), self.code(), self.detail())
    }
}

impl std::error::Error for FfiError {}

impl From<zitadel_sdk::Error> for FfiError {
    fn from(e: zitadel_sdk::Error) -> Self {
        let rules = e
            .unmet_password_rules()
            .iter()
            .filter_map(|r| match serde_json::to_value(r) {
                Ok(serde_json::Value::String(name)) => Some(name),
                _ => None,
            })
            .collect();
        FfiError::new(e.code(), e.message()).with_extras(e.failed_attempts(), rules)
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for FfiError {
    /// A host callback threw something other than an `FfiError`. Its text is
    /// not kept: it is the host's and could hold anything.
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> Self {
        FfiError::internal("a host callback failed with an unexpected error")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_code_maps_to_its_variant_with_number_and_name() {
        let e = FfiError::new(ErrorCode::SessionExpired, "sign in again");
        assert!(matches!(e, FfiError::SessionExpired { code: 5, .. }));
        assert_eq!(e.name(), "session_expired");
        let e = FfiError::new(ErrorCode::Cancelled, "cancelled");
        assert!(matches!(e, FfiError::Cancelled { code: 6, .. }));
        let e = FfiError::new(ErrorCode::AccessDenied, "no");
        assert_eq!(e.code(), 12);
    }

    #[test]
    fn core_errors_keep_code_and_safe_message() {
        let core = zitadel_sdk::Error::host(ErrorCode::NotSignedIn, "not signed in");
        let e = FfiError::from(core);
        assert_eq!(e.code(), ErrorCode::NotSignedIn.as_u16());
        assert!(e.to_json().contains("\"name\":\"not_signed_in\""));
    }

    #[test]
    fn host_errors_become_core_errors_of_the_same_meaning() {
        let e = FfiError::new(ErrorCode::Storage, "disk full").into_core();
        assert_eq!(e.code(), ErrorCode::Storage);
        let e = FfiError::new(ErrorCode::Cancelled, "closed").into_core();
        assert_eq!(e.code(), ErrorCode::Cancelled);
    }
}
