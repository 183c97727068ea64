//! Remote declarations of sdk-core types that several flows share (the
//! login policy's settings, the password policy, legal links, second-factor
//! and authentication-method kinds, security keys, how a code is
//! delivered). They belong to the settings, MFA and verification flows and
//! live here only so that registration, native login and the manager API
//! can use them before those flows are exported. Each core type may be
//! declared remote only once in this crate: once those flows declare them,
//! delete this file (nothing else refers to it).

use zitadel_sdk::flows::mfa::{AuthMethod, SecurityKey};
use zitadel_sdk::flows::settings::{
    LegalSettings, LoginSettings, PasswordPolicy, SecondFactorType,
};
use zitadel_sdk::flows::verification::CodeDelivery;

/// A second factor type of the login policy.
#[uniffi::remote(Enum)]
pub enum SecondFactorType {
    /// Time-based one-time password (an authenticator app).
    Totp,
    /// A security key (U2F / WebAuthn without user verification).
    U2f,
    /// One-time password by email.
    OtpEmail,
    /// One-time password by SMS.
    OtpSms,
    /// Recovery codes.
    RecoveryCodes,
}

/// The login policy that applies (the org's, else the instance's).
#[uniffi::remote(Record)]
pub struct LoginSettings {
    /// Users may register themselves.
    pub allow_register: bool,
    /// Login with user name and password is allowed.
    pub allow_username_password: bool,
    /// Login with external identity providers is allowed.
    pub allow_external_idp: bool,
    /// Every user must have a second factor.
    pub force_mfa: bool,
    /// Only local (non-IdP) logins must have a second factor.
    pub force_mfa_local_only: bool,
    /// Passwordless login with passkeys is allowed.
    pub passkeys_allowed: bool,
    /// The second factors users may use.
    pub second_factors: Vec<SecondFactorType>,
    /// Password reset is hidden in the login.
    pub hide_password_reset: bool,
    /// Unknown login names fail like wrong passwords.
    pub ignore_unknown_usernames: bool,
}

/// The password complexity policy.
#[uniffi::remote(Record)]
pub struct PasswordPolicy {
    /// Minimum length in characters.
    pub min_length: u64,
    /// An upper-case letter is required.
    pub requires_uppercase: bool,
    /// A lower-case letter is required.
    pub requires_lowercase: bool,
    /// A digit is required.
    pub requires_number: bool,
    /// A symbol is required.
    pub requires_symbol: bool,
}

/// The legal and support links the app shows (terms of service, privacy policy).
#[uniffi::remote(Record)]
pub struct LegalSettings {
    /// The terms of service.
    pub tos_link: Option<String>,
    /// The privacy policy.
    pub privacy_policy_link: Option<String>,
    /// A help page.
    pub help_link: Option<String>,
    /// A support email address.
    pub support_email: Option<String>,
}

/// An authentication method a user has set up.
#[uniffi::remote(Enum)]
pub enum AuthMethod {
    /// A password.
    Password,
    /// A passkey (passwordless).
    Passkey,
    /// An external identity provider link.
    Idp,
    /// TOTP (authenticator app).
    Totp,
    /// A security key (U2F).
    U2f,
    /// One-time password by SMS.
    OtpSms,
    /// One-time password by email.
    OtpEmail,
    /// Recovery codes.
    RecoveryCodes,
}

/// A registered security key.
#[uniffi::remote(Record)]
pub struct SecurityKey {
    /// Its id.
    pub id: String,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// Whether its registration was completed.
    pub ready: bool,
}

/// How a verification code reaches the user.
#[uniffi::remote(Enum)]
pub enum CodeDelivery {
    /// ZITADEL sends it (email or SMS).
    Send,
    /// ZITADEL sends an email with a link built from this template
    /// (placeholders `{{.UserID}}`, `{{.OrgID}}`, `{{.Code}}`).
    SendWithUrl(String),
    /// ZITADEL returns the code to the app, which delivers it itself.
    Return,
}
