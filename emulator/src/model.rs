//! The emulator's data model. Everything lives in one [`State`] behind a
//! mutex; the types are plain data so a later persistence layer can store
//! them (see README, "Persistence").

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::keys::KeySet;
use crate::util::{IdGen, ct_eq, now, random_token, sha256_hex};

/// An organization.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Org {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) primary_domain: String,
    /// Brand colour used by the hosted login pages.
    pub(crate) primary_color: String,
}

/// A project with its roles.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Project {
    pub(crate) id: String,
    pub(crate) org_id: String,
    pub(crate) name: String,
    pub(crate) roles: Vec<String>,
    /// Display name and group of roles added through the management API
    /// (roles without an entry show their key as display name).
    #[serde(default)]
    pub(crate) role_info: HashMap<String, RoleInfo>,
}

/// Display name and group of a project role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RoleInfo {
    pub(crate) display_name: String,
    pub(crate) group: String,
}

/// The OIDC application type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AppType {
    /// Public client (auth method NONE + PKCE), may use custom schemes and loopback.
    Native,
    /// Confidential web client (client secret).
    Web,
    /// API application (client secret; introspection only).
    Api,
}

/// An OIDC/API application.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct App {
    pub(crate) id: String,
    pub(crate) project_id: String,
    pub(crate) name: String,
    pub(crate) client_id: String,
    pub(crate) app_type: AppType,
    /// SHA-256 hex of the client secret, for confidential clients.
    pub(crate) secret_hash: Option<String>,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) post_logout_redirect_uris: Vec<String>,
    pub(crate) refresh_token_grant: bool,
    pub(crate) device_code_grant: bool,
}

impl App {
    /// Checks a client secret.
    pub(crate) fn secret_matches(&self, secret: &str) -> bool {
        self.secret_hash
            .as_deref()
            .is_some_and(|h| ct_eq(h, &sha256_hex(secret)))
    }
}

/// Human user data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Human {
    pub(crate) given_name: String,
    pub(crate) family_name: String,
    pub(crate) display_name: String,
    pub(crate) nick_name: String,
    pub(crate) preferred_language: String,
    /// `GENDER_*` (empty: unspecified).
    #[serde(default)]
    pub(crate) gender: String,
    pub(crate) email: String,
    pub(crate) email_verified: bool,
    pub(crate) phone: String,
    pub(crate) phone_verified: bool,
    /// Salted SHA-256 of the password: `salt$hex` (ZITADEL uses bcrypt).
    pub(crate) password_hash: Option<String>,
    /// Failed password checks since the last success.
    #[serde(default)]
    pub(crate) password_failed_attempts: u32,
    /// When the user last skipped the MFA set-up prompt.
    #[serde(default)]
    pub(crate) mfa_init_skipped_at: Option<i64>,
    /// Pending email verification code.
    #[serde(default)]
    pub(crate) email_code: Option<PendingCode>,
    /// Pending password reset code.
    #[serde(default)]
    pub(crate) password_code: Option<PendingCode>,
    /// TOTP second factor (base32 secret; `ready` once verified).
    #[serde(default)]
    pub(crate) totp: Option<TotpFactor>,
    /// Whether one-time codes by email are a second factor of this user.
    #[serde(default)]
    pub(crate) otp_email: bool,
    /// Whether one-time codes by SMS are a second factor of this user.
    #[serde(default)]
    pub(crate) otp_sms: bool,
    /// Pending phone verification code.
    #[serde(default)]
    pub(crate) phone_code: Option<PendingCode>,
    /// Unused recovery codes (SHA-256 hex).
    #[serde(default)]
    pub(crate) recovery_codes: Vec<String>,
    /// Failed one-time-code checks since the last success.
    #[serde(default)]
    pub(crate) otp_failed_attempts: u32,
    /// U2F security keys and passkeys (pending and verified).
    #[serde(default)]
    pub(crate) webauthn: Vec<WebAuthnToken>,
    /// Unused passkey registration codes.
    #[serde(default)]
    pub(crate) passkey_codes: Vec<PasskeyCode>,
    /// The pending invite code.
    #[serde(default)]
    pub(crate) invite: Option<InviteCode>,
}

/// An invite code (CreateInviteCode) and what a resend reuses.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct InviteCode {
    pub(crate) code: PendingCode,
    pub(crate) url_template: Option<String>,
    pub(crate) application_name: Option<String>,
    /// Returned to the caller instead of sent (cannot be resent).
    pub(crate) returned: bool,
}

impl Human {
    /// The verified credentials of one kind.
    pub(crate) fn webauthn_credentials(&self, kind: WebAuthnKind) -> Vec<serde_json::Value> {
        self.webauthn
            .iter()
            .filter(|t| t.kind == kind)
            .filter_map(|t| t.credential.clone())
            .collect()
    }

    /// Whether the user has a verified credential of this kind.
    pub(crate) fn has_webauthn(&self, kind: WebAuthnKind) -> bool {
        self.webauthn
            .iter()
            .any(|t| t.kind == kind && t.credential.is_some())
    }
}

/// The two uses of a WebAuthn credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum WebAuthnKind {
    /// A second-factor security key (user presence).
    U2f,
    /// A passwordless credential (user verification required).
    Passkey,
}

/// A WebAuthn credential of a user, pending until its registration is
/// verified.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WebAuthnToken {
    pub(crate) id: String,
    pub(crate) kind: WebAuthnKind,
    /// The name given at verification.
    pub(crate) name: String,
    /// The registration state (webauthn-rs, as JSON) until verified.
    pub(crate) registration: Option<serde_json::Value>,
    /// The verified credential (webauthn-rs `SecurityKey` or `Passkey`, as JSON).
    pub(crate) credential: Option<serde_json::Value>,
    pub(crate) created: i64,
    /// The caller who started the registration with a registration code.
    #[serde(default)]
    pub(crate) started_by: Option<String>,
}

/// A passkey registration code (`CreatePasskeyRegistrationLink`), single use.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PasskeyCode {
    pub(crate) id: String,
    pub(crate) code: PendingCode,
}

/// A TOTP registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TotpFactor {
    pub(crate) secret: String,
    pub(crate) ready: bool,
}

/// A one-time code waiting to be verified (stored by hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingCode {
    pub(crate) hash: String,
    pub(crate) expires: i64,
}

impl PendingCode {
    /// Creates a code of `len` characters (upper-case letters and digits)
    /// valid for `lifetime` seconds; returns it with its plain text.
    pub(crate) fn generate(len: usize, lifetime: i64) -> (Self, String) {
        let code = crate::util::random_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", len);
        (
            Self {
                hash: sha256_hex(&code),
                expires: now() + lifetime,
            },
            code,
        )
    }

    /// Whether `code` matches and has not expired.
    pub(crate) fn matches(&self, code: &str) -> bool {
        !self.expired() && ct_eq(&self.hash, &sha256_hex(code.trim()))
    }

    /// Whether the code's lifetime is over (ZITADEL checks this first and
    /// answers `CODE-QvUQ4P`, whatever was typed).
    pub(crate) fn expired(&self) -> bool {
        self.expires <= now()
    }
}

/// Lockout policy (0 = no lockout, ZITADEL's default).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct LockoutPolicy {
    pub(crate) max_password_attempts: u64,
    pub(crate) max_otp_attempts: u64,
}

/// `SecondFactorType` TOTP.
pub(crate) const SECOND_FACTOR_OTP: &str = "SECOND_FACTOR_TYPE_OTP";
/// `SecondFactorType` U2F security key.
pub(crate) const SECOND_FACTOR_U2F: &str = "SECOND_FACTOR_TYPE_U2F";
/// `SecondFactorType` one-time code by email.
pub(crate) const SECOND_FACTOR_OTP_EMAIL: &str = "SECOND_FACTOR_TYPE_OTP_EMAIL";
/// `SecondFactorType` one-time code by SMS.
pub(crate) const SECOND_FACTOR_OTP_SMS: &str = "SECOND_FACTOR_TYPE_OTP_SMS";
/// The `SecondFactorType` names in enum order (number = position + 1).
pub(crate) const SECOND_FACTOR_TYPES: [&str; 5] = [
    SECOND_FACTOR_OTP,
    SECOND_FACTOR_U2F,
    SECOND_FACTOR_OTP_EMAIL,
    SECOND_FACTOR_OTP_SMS,
    "SECOND_FACTOR_TYPE_RECOVERY_CODES",
];
/// `MultiFactorType` passkey (WebAuthn with user verification).
pub(crate) const MULTI_FACTOR_U2F_WITH_VERIFICATION: &str =
    "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION";
/// The `MultiFactorType` names in enum order (number = position + 1).
pub(crate) const MULTI_FACTOR_TYPES: [&str; 1] = [MULTI_FACTOR_U2F_WITH_VERIFICATION];

/// The instance default's second factors: every one the hosted login offers.
pub(crate) fn default_second_factors() -> Vec<String> {
    SECOND_FACTOR_TYPES[..4]
        .iter()
        .map(|f| (*f).to_owned())
        .collect()
}

/// The instance default's multi factors.
pub(crate) fn default_multi_factors() -> Vec<String> {
    vec![MULTI_FACTOR_U2F_WITH_VERIFICATION.to_owned()]
}

/// Login policy (the fields the emulator uses or reports).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LoginPolicy {
    pub(crate) allow_username_password: bool,
    pub(crate) allow_register: bool,
    pub(crate) allow_external_idp: bool,
    pub(crate) force_mfa: bool,
    pub(crate) force_mfa_local_only: bool,
    pub(crate) passwordless_allowed: bool,
    pub(crate) hide_password_reset: bool,
    pub(crate) ignore_unknown_usernames: bool,
    pub(crate) allow_domain_discovery: bool,
    pub(crate) disable_login_with_email: bool,
    pub(crate) disable_login_with_phone: bool,
    pub(crate) default_redirect_uri: String,
    /// How long skipping the MFA set-up prompt lasts (seconds; 0 = no prompt).
    #[serde(default)]
    pub(crate) mfa_init_skip_lifetime: i64,
    /// IdPs activated in this policy (ids). The instance default policy
    /// activates every instance IdP instead (the emulator has no admin API).
    #[serde(default)]
    pub(crate) idps: Vec<String>,
    /// Allowed second factors (`SecondFactorType` names); snapshots
    /// without the field get the instance default.
    #[serde(default = "default_second_factors")]
    pub(crate) second_factors: Vec<String>,
    /// Allowed multi factors (`MultiFactorType` names).
    #[serde(default = "default_multi_factors")]
    pub(crate) multi_factors: Vec<String>,
}

impl LoginPolicy {
    /// Whether the policy lists this second factor (`SecondFactorType` name).
    pub(crate) fn allows(&self, second_factor: &str) -> bool {
        self.second_factors.iter().any(|f| f == second_factor)
    }

    /// Whether passkey (passwordless) logins are allowed: `passwordlessType`
    /// allows them and multi factor U2F_WITH_VERIFICATION is listed.
    pub(crate) fn allows_passkey(&self) -> bool {
        self.passwordless_allowed
            && self
                .multi_factors
                .iter()
                .any(|f| f == MULTI_FACTOR_U2F_WITH_VERIFICATION)
    }
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            allow_username_password: true,
            allow_register: true,
            allow_external_idp: true,
            force_mfa: false,
            force_mfa_local_only: false,
            passwordless_allowed: true,
            hide_password_reset: false,
            ignore_unknown_usernames: false,
            allow_domain_discovery: true,
            disable_login_with_email: false,
            disable_login_with_phone: false,
            default_redirect_uri: String::new(),
            mfa_init_skip_lifetime: 0,
            idps: Vec::new(),
            second_factors: default_second_factors(),
            multi_factors: default_multi_factors(),
        }
    }
}

/// An org's custom policies (`None` = inherit the instance default).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct OrgPolicies {
    pub(crate) login: Option<LoginPolicy>,
    pub(crate) password: Option<PasswordComplexity>,
    pub(crate) lockout: Option<LockoutPolicy>,
    /// The custom label (branding) policy: the preview that POST/PUT
    /// change, and the active one that `_activate` copies it to.
    #[serde(default)]
    pub(crate) label: Option<CustomLabelPolicy>,
}

/// Label (branding) policy: colours and switches; `theme_mode` is the enum
/// name (`THEME_MODE_*`), empty for unspecified.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct LabelPolicy {
    pub(crate) primary_color: String,
    pub(crate) background_color: String,
    pub(crate) warn_color: String,
    pub(crate) font_color: String,
    pub(crate) primary_color_dark: String,
    pub(crate) background_color_dark: String,
    pub(crate) warn_color_dark: String,
    pub(crate) font_color_dark: String,
    pub(crate) hide_login_name_suffix: bool,
    pub(crate) disable_watermark: bool,
    pub(crate) theme_mode: String,
}

impl LabelPolicy {
    /// The instance default (the colours of ZITADEL's default branding).
    pub(crate) fn instance_default() -> Self {
        Self {
            primary_color: "#5469d4".to_owned(),
            background_color: "#fafafa".to_owned(),
            warn_color: "#cd3d56".to_owned(),
            font_color: "#000000".to_owned(),
            primary_color_dark: "#bbbafa".to_owned(),
            background_color_dark: "#111827".to_owned(),
            warn_color_dark: "#ff3b5b".to_owned(),
            font_color_dark: "#ffffff".to_owned(),
            ..Self::default()
        }
    }
}

/// An org's custom label policy: ZITADEL changes a preview and activates it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CustomLabelPolicy {
    pub(crate) preview: LabelPolicy,
    /// `None` until the first activation.
    #[serde(default)]
    pub(crate) active: Option<LabelPolicy>,
}

/// Password complexity policy (ZITADEL's default: 8 characters with upper,
/// lower, number and symbol).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PasswordComplexity {
    pub(crate) min_length: usize,
    pub(crate) has_uppercase: bool,
    pub(crate) has_lowercase: bool,
    pub(crate) has_number: bool,
    pub(crate) has_symbol: bool,
}

impl Default for PasswordComplexity {
    fn default() -> Self {
        Self {
            min_length: 8,
            has_uppercase: true,
            has_lowercase: true,
            has_number: true,
            has_symbol: true,
        }
    }
}

impl PasswordComplexity {
    /// The i18n key of the first rule the password breaks.
    pub(crate) fn violation(&self, pw: &str) -> Option<&'static str> {
        // ZITADEL's order: length, lower, upper, number, symbol.
        if pw.chars().count() < self.min_length {
            Some("password.too_short")
        } else if self.has_lowercase && !pw.chars().any(char::is_lowercase) {
            Some("password.no_lower")
        } else if self.has_uppercase && !pw.chars().any(char::is_uppercase) {
            Some("password.no_upper")
        } else if self.has_number && !pw.chars().any(|c| c.is_ascii_digit()) {
            Some("password.no_number")
        } else if self.has_symbol && pw.chars().all(char::is_alphanumeric) {
            Some("password.no_symbol")
        } else {
            None
        }
    }
}

/// Machine (service) user data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Machine {
    pub(crate) name: String,
    pub(crate) description: String,
    /// SHA-256 hex of the client secret (client_credentials), if one is set.
    #[serde(default)]
    pub(crate) secret_hash: Option<String>,
}

/// An identity provider: the built-in test IdP, or a generic OIDC / OAuth
/// IdP template configured by a manager.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Idp {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) linking_allowed: bool,
    pub(crate) creation_allowed: bool,
    pub(crate) auto_creation: bool,
    pub(crate) auto_update: bool,
    /// `AUTO_LINKING_OPTION_*` name, empty for unspecified.
    #[serde(default)]
    pub(crate) auto_linking: String,
    /// The owning org; `None` for an instance IdP.
    #[serde(default)]
    pub(crate) org_id: Option<String>,
    #[serde(default)]
    pub(crate) config: IdpConfig,
    /// Creation and last change (Unix seconds; 0 for old snapshots).
    #[serde(default)]
    pub(crate) created: i64,
    #[serde(default)]
    pub(crate) changed: i64,
}

/// What kind of IdP and how it is reached.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) enum IdpConfig {
    /// The emulator's own test IdP page.
    #[default]
    Test,
    /// A generic OIDC provider.
    Oidc {
        issuer: String,
        client_id: String,
        /// SHA-256 hex of the client secret.
        client_secret_hash: String,
        scopes: Vec<String>,
        is_id_token_mapping: bool,
        use_pkce: bool,
    },
    /// A provider of a known vendor (Google, GitHub, Azure AD, Apple): kept
    /// and listed as ZITADEL lists it; the emulator cannot reach the vendor.
    Vendor {
        /// The `ProviderConfig` field and type: `google`, `github`, `azureAd`, `apple`.
        field: String,
        /// The public part of the config as ZITADEL lists it (no secret).
        config: serde_json::Value,
        /// SHA-256 hex of the client secret or Apple private key.
        secret_hash: String,
    },
    /// A generic OAuth 2.0 provider.
    OAuth {
        client_id: String,
        client_secret_hash: String,
        authorization_endpoint: String,
        token_endpoint: String,
        user_endpoint: String,
        scopes: Vec<String>,
        id_attribute: String,
        use_pkce: bool,
    },
}

/// A link between a ZITADEL user and a user at an IdP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IdpLink {
    pub(crate) idp_id: String,
    pub(crate) user_id: String,
    pub(crate) external_user_id: String,
    pub(crate) external_user_name: String,
}

/// The user the test IdP authenticated.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ExternalUser {
    pub(crate) id: String,
    pub(crate) username: String,
    pub(crate) email: String,
    pub(crate) given_name: String,
    pub(crate) family_name: String,
}

/// State of an IdP intent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum IntentState {
    Started,
    Succeeded {
        user: ExternalUser,
        token_hash: String,
    },
    Failed,
}

/// An IdP intent (`/v2/idp_intents`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IdpIntent {
    pub(crate) id: String,
    pub(crate) idp_id: String,
    pub(crate) success_url: String,
    pub(crate) failure_url: String,
    pub(crate) created: i64,
    pub(crate) state: IntentState,
    /// One-time code of the test IdP's callback.
    pub(crate) callback_code: Option<String>,
}

/// A service user's public key for the JWT-bearer grant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MachineKey {
    pub(crate) id: String,
    pub(crate) user_id: String,
    /// SPKI PEM of the public key.
    pub(crate) public_pem: String,
    pub(crate) created: i64,
    pub(crate) expires: i64,
}

/// A user's kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)] // plain data, a handful of users; boxing buys nothing
pub(crate) enum UserKind {
    Human(Human),
    Machine(Machine),
}

/// ZITADEL user states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum UserState {
    Active,
    Inactive,
    Locked,
}

/// A user (human or machine).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) org_id: String,
    pub(crate) username: String,
    pub(crate) kind: UserKind,
    pub(crate) state: UserState,
    pub(crate) created: i64,
    pub(crate) changed: i64,
    /// Metadata: key → (base64 value, creation time, change time).
    #[serde(default)]
    pub(crate) metadata: std::collections::BTreeMap<String, (String, i64, i64)>,
}

impl User {
    pub(crate) fn human(&self) -> Option<&Human> {
        match &self.kind {
            UserKind::Human(h) => Some(h),
            UserKind::Machine(_) => None,
        }
    }

    /// Whether the user has a ready second factor (TOTP, OTP by email or
    /// SMS, or a U2F security key).
    pub(crate) fn has_second_factor(&self, policy: &LoginPolicy) -> bool {
        self.human().is_some_and(|h| {
            (h.otp_email && policy.allows(SECOND_FACTOR_OTP_EMAIL))
                || (h.otp_sms && policy.allows(SECOND_FACTOR_OTP_SMS))
                || (h.totp.as_ref().is_some_and(|t| t.ready) && policy.allows(SECOND_FACTOR_OTP))
                || (h.has_webauthn(WebAuthnKind::U2f) && policy.allows(SECOND_FACTOR_U2F))
        })
    }

    /// Checks the password.
    pub(crate) fn password_matches(&self, password: &str) -> bool {
        let Some(stored) = self.human().and_then(|h| h.password_hash.as_deref()) else {
            return false;
        };
        let Some((salt, hash)) = stored.split_once('$') else {
            return false;
        };
        ct_eq(hash, &sha256_hex(&format!("{salt}{password}")))
    }
}

/// Hashes a password with a fresh salt.
pub(crate) fn hash_password(password: &str) -> String {
    let salt = random_token(12);
    format!("{salt}${}", sha256_hex(&format!("{salt}{password}")))
}

/// Where a membership applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum MemberResource {
    Instance,
    Org(String),
    Project(String),
}

/// Manager roles of a user on a resource.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Membership {
    pub(crate) user_id: String,
    pub(crate) resource: MemberResource,
    pub(crate) roles: Vec<String>,
}

/// Project roles granted to a user ("authorization", user grant).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UserGrant {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) project_id: String,
    pub(crate) roles: Vec<String>,
}

/// A personal access token (stored by hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Pat {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) token_hash: String,
    pub(crate) expires: i64,
    /// Creation time (0 in snapshots from before it was stored).
    #[serde(default)]
    pub(crate) created: i64,
}

/// A session (ZITADEL session API model; the hosted login uses it too).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) user_id: String,
    /// The browser (user agent cookie) that created the session, if any.
    pub(crate) user_agent_id: Option<String>,
    pub(crate) token_hash: String,
    pub(crate) created: i64,
    pub(crate) changed: i64,
    pub(crate) user_verified_at: i64,
    pub(crate) password_verified_at: Option<i64>,
    pub(crate) terminated: bool,
    /// Expiry set through the session API's `lifetime`.
    pub(crate) expires: Option<i64>,
    /// Event sequence of the last change.
    pub(crate) sequence: u64,
    /// The user who created the session through the API, if any.
    pub(crate) creator_id: Option<String>,
    /// When a TOTP code was last checked.
    #[serde(default)]
    pub(crate) totp_verified_at: Option<i64>,
    /// Pending email OTP challenge.
    #[serde(default)]
    pub(crate) otp_email_challenge: Option<PendingCode>,
    /// When an email OTP was last checked.
    #[serde(default)]
    pub(crate) otp_email_verified_at: Option<i64>,
    /// Pending SMS OTP challenge.
    #[serde(default)]
    pub(crate) otp_sms_challenge: Option<PendingCode>,
    /// When an SMS OTP was last checked.
    #[serde(default)]
    pub(crate) otp_sms_verified_at: Option<i64>,
    /// When an IdP intent was last checked.
    #[serde(default)]
    pub(crate) intent_verified_at: Option<i64>,
    /// When a recovery code was last used.
    #[serde(default)]
    pub(crate) recovery_code_verified_at: Option<i64>,
    /// WebAuthn challenge and check.
    #[serde(default)]
    pub(crate) webauthn: SessionWebAuthn,
    /// The login name typed for an unknown user when the login policy
    /// ignores unknown usernames (the session has no user and never
    /// authenticates).
    #[serde(default)]
    pub(crate) unknown_login_name: Option<String>,
    /// Metadata and user agent given through the session API.
    #[serde(default)]
    pub(crate) info: SessionInfo,
}

/// What a session API caller attaches to a session.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct SessionInfo {
    /// Metadata values as standard base64 (protobuf `bytes`).
    pub(crate) metadata: std::collections::BTreeMap<String, String>,
    /// `CreateSessionRequest.userAgent`.
    pub(crate) user_agent: Option<SessionUserAgent>,
}

/// `zitadel.session.v2.UserAgent`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct SessionUserAgent {
    pub(crate) fingerprint_id: Option<String>,
    pub(crate) ip: Option<String>,
    pub(crate) description: Option<String>,
    /// Header name → `{"values": [...]}`.
    pub(crate) header: std::collections::BTreeMap<String, HeaderValues>,
}

/// `UserAgent.HeaderValues`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct HeaderValues {
    pub(crate) values: Vec<String>,
}

/// The WebAuthn part of a session.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct SessionWebAuthn {
    /// Pending challenge: the kind of credential asked for and the
    /// webauthn-rs authentication state (JSON).
    pub(crate) challenge: Option<(WebAuthnKind, serde_json::Value)>,
    /// When an assertion was last verified.
    pub(crate) verified_at: Option<i64>,
    /// Whether that assertion verified the user.
    pub(crate) user_verified: bool,
    /// Whether it was made with a passkey (passwordless login).
    pub(crate) passkey: bool,
}

impl Session {
    /// Whether the session can still be used.
    pub(crate) fn is_active(&self, now: i64) -> bool {
        !self.terminated && self.expires.is_none_or(|e| e > now)
    }

    /// The last time a factor that proves the user was checked.
    pub(crate) fn auth_time(&self) -> Option<i64> {
        self.password_verified_at
            .max(self.intent_verified_at)
            .max(self.totp_verified_at)
            .max(self.otp_email_verified_at)
            .max(self.otp_sms_verified_at)
            .max(self.recovery_code_verified_at)
            .max(self.webauthn.verified_at)
    }

    /// Whether a passkey with user verification was checked.
    fn passwordless(&self) -> bool {
        self.webauthn.verified_at.is_some() && self.webauthn.passkey && self.webauthn.user_verified
    }

    /// Authentication method references for tokens.
    pub(crate) fn amr(&self) -> Vec<String> {
        if self.passwordless() {
            // As ZITADEL: a passkey alone is multi-factor.
            return vec!["user".to_owned(), "mfa".to_owned()];
        }
        let mut amr = Vec::new();
        if self.password_verified_at.is_some() {
            amr.push("pwd".to_owned());
        }
        if self.intent_verified_at.is_some() {
            amr.push("fed".to_owned());
        }
        if self.totp_verified_at.is_some()
            || self.otp_email_verified_at.is_some()
            || self.otp_sms_verified_at.is_some()
        {
            amr.push("otp".to_owned());
        }
        if self.webauthn.verified_at.is_some() {
            amr.push("user".to_owned());
        }
        if amr.len() > 1 {
            amr.push("mfa".to_owned());
        }
        amr
    }

    /// Whether the session satisfies the user's login requirements under
    /// the org's login `policy`: a password, IdP or passkey check (a passkey
    /// only when the policy allows passwordless logins; it counts as both
    /// factors), plus a second factor when the user has one the policy
    /// allows. Only checks of second factors the policy lists count;
    /// recovery codes always do.
    pub(crate) fn is_authenticated_for(&self, user: &User, policy: &LoginPolicy) -> bool {
        if self.passwordless() && policy.allows_passkey() {
            return true;
        }
        (self.password_verified_at.is_some() || self.intent_verified_at.is_some())
            && (!user.has_second_factor(policy)
                || (self.webauthn.verified_at.is_some() && policy.allows(SECOND_FACTOR_U2F))
                || (self.totp_verified_at.is_some() && policy.allows(SECOND_FACTOR_OTP))
                || (self.otp_email_verified_at.is_some() && policy.allows(SECOND_FACTOR_OTP_EMAIL))
                || (self.otp_sms_verified_at.is_some() && policy.allows(SECOND_FACTOR_OTP_SMS))
                || self.recovery_code_verified_at.is_some())
    }
}

/// The `prompt` values of an auth request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Prompt {
    None,
    Login,
    Consent,
    SelectAccount,
    Create,
}

/// An OIDC auth request created by `/oauth/v2/authorize` (id `V2_<n>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AuthRequest {
    pub(crate) id: String,
    pub(crate) created: i64,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) state: Option<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) code_challenge: Option<String>,
    pub(crate) response_mode: Option<String>,
    pub(crate) prompt: Vec<Prompt>,
    pub(crate) ui_locales: Vec<String>,
    pub(crate) login_hint: Option<String>,
    pub(crate) max_age: Option<i64>,
    /// The org the login is restricted to (from the reserved org scopes).
    pub(crate) org_id: Option<String>,
    /// Set once the callback was created (CreateCallback works only once).
    pub(crate) handled: bool,
}

/// An issued authorization code (single use).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AuthCode {
    pub(crate) auth_request: AuthRequest,
    pub(crate) user_id: String,
    pub(crate) session_id: String,
    pub(crate) auth_time: i64,
    pub(crate) amr: Vec<String>,
    pub(crate) expires: i64,
    pub(crate) used: bool,
    /// Hashes of the tokens issued for this code (revoked on code replay).
    pub(crate) issued_access: Option<String>,
    pub(crate) issued_refresh: Option<String>,
}

/// The grant data common to access and refresh tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Grant {
    pub(crate) client_id: String,
    pub(crate) user_id: String,
    pub(crate) session_id: Option<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) audience: Vec<String>,
    pub(crate) auth_time: i64,
    pub(crate) amr: Vec<String>,
}

/// An opaque access token (stored by hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccessToken {
    pub(crate) id: String,
    pub(crate) grant: Grant,
    pub(crate) issued: i64,
    pub(crate) expires: i64,
    /// Hash of the refresh token issued together with it.
    pub(crate) refresh_hash: Option<String>,
}

/// A refresh token (stored by hash; rotates on use).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RefreshToken {
    pub(crate) grant: Grant,
    pub(crate) created: i64,
    pub(crate) idle_expires: i64,
    pub(crate) absolute_expires: i64,
}

/// Outcome of a device authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum DeviceState {
    Pending,
    Approved {
        user_id: String,
        session_id: String,
        auth_time: i64,
        amr: Vec<String>,
    },
    Denied,
    /// Tokens were issued; the device code is spent.
    Done,
}

/// A device authorization request (RFC 8628).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DeviceRequest {
    pub(crate) id: String,
    pub(crate) device_code_hash: String,
    pub(crate) user_code: String,
    pub(crate) client_id: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) expires: i64,
    pub(crate) interval: i64,
    pub(crate) last_poll: Option<i64>,
    pub(crate) state: DeviceState,
    /// `ui_locales` of the code entry page, kept for the login that follows.
    #[serde(default)]
    pub(crate) ui_locales: Vec<String>,
}

/// A pending RP-initiated logout (validated `post_logout_redirect_uri`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LogoutRequest {
    pub(crate) redirect: Option<String>,
    pub(crate) created: i64,
}

/// A message ZITADEL would have sent (email or SMS).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Message id.
    pub id: String,
    /// `email` or `sms`.
    pub channel: String,
    /// Recipient address or phone number.
    pub to: String,
    /// Subject (emails).
    pub subject: String,
    /// Plain text body.
    pub text: String,
    /// The one-time code contained in the message, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// RFC 3339 creation time.
    pub created: String,
}

/// All state of one emulated instance (serializable as a whole for `--data`).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct State {
    pub(crate) ids: IdGen,
    pub(crate) instance_id: String,
    /// ZITADEL's own project (its id goes into `aud` with the zitadel:aud scope).
    pub(crate) zitadel_project_id: String,
    pub(crate) default_org_id: String,
    pub(crate) orgs: Vec<Org>,
    pub(crate) projects: Vec<Project>,
    pub(crate) apps: Vec<App>,
    pub(crate) users: Vec<User>,
    pub(crate) memberships: Vec<Membership>,
    pub(crate) grants: Vec<UserGrant>,
    pub(crate) pats: Vec<Pat>,
    /// Service-user keys.
    #[serde(default)]
    pub(crate) machine_keys: Vec<MachineKey>,
    /// Identity providers.
    #[serde(default)]
    pub(crate) idps: Vec<Idp>,
    /// Links of users to IdP users.
    #[serde(default)]
    pub(crate) idp_links: Vec<IdpLink>,
    /// IdP intents by id.
    #[serde(default)]
    pub(crate) idp_intents: HashMap<String, IdpIntent>,
    pub(crate) sessions: HashMap<String, Session>,
    pub(crate) auth_requests: HashMap<String, AuthRequest>,
    /// By code hash.
    pub(crate) codes: HashMap<String, AuthCode>,
    /// By token hash.
    pub(crate) access_tokens: HashMap<String, AccessToken>,
    /// By token hash.
    pub(crate) refresh_tokens: HashMap<String, RefreshToken>,
    pub(crate) device_requests: Vec<DeviceRequest>,
    pub(crate) logout_requests: HashMap<String, LogoutRequest>,
    pub(crate) outbox: Vec<OutboxMessage>,
    pub(crate) keys: KeySet,
    /// Event sequence (ZITADEL `details.sequence`).
    pub(crate) sequence: u64,
    /// Instance password complexity policy.
    #[serde(default)]
    pub(crate) password_complexity: PasswordComplexity,
    /// Instance login policy.
    #[serde(default)]
    pub(crate) login_policy: LoginPolicy,
    /// Instance lockout policy.
    #[serde(default)]
    pub(crate) lockout_policy: LockoutPolicy,
    /// Custom org policies by org id.
    #[serde(default)]
    pub(crate) org_policies: HashMap<String, OrgPolicies>,
    /// Pending username-less passkey logins of the hosted login.
    #[serde(default)]
    pub(crate) discoverable_logins: Vec<DiscoverableLogin>,
}

/// A username-less passkey login started in the hosted login: the
/// webauthn-rs state, bound to the browser that started it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DiscoverableLogin {
    /// Id of the ceremony (a form field).
    pub(crate) id: String,
    /// The browser's user-agent id.
    pub(crate) agent: String,
    /// webauthn-rs' `DiscoverableAuthentication` (JSON).
    pub(crate) state: serde_json::Value,
    /// Unix time after which it is void.
    pub(crate) expires: i64,
}

impl State {
    /// Advances and returns the event sequence.
    pub(crate) fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    pub(crate) fn org(&self, id: &str) -> Option<&Org> {
        self.orgs.iter().find(|o| o.id == id)
    }

    pub(crate) fn org_by_domain(&self, domain: &str) -> Option<&Org> {
        self.orgs
            .iter()
            .find(|o| o.primary_domain.eq_ignore_ascii_case(domain))
    }

    pub(crate) fn app_by_client_id(&self, client_id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }

    pub(crate) fn project(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }

    pub(crate) fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The preferred login name: `username@primary-domain`.
    pub(crate) fn login_name(&self, user: &User) -> String {
        match self.org(&user.org_id) {
            Some(org) => format!("{}@{}", user.username, org.primary_domain),
            None => user.username.clone(),
        }
    }

    /// Finds a user by login name (`user@domain`), username (if unique) or
    /// email, optionally restricted to an org. Case-insensitive.
    pub(crate) fn find_user_by_login_name(
        &self,
        name: &str,
        org_id: Option<&str>,
    ) -> Option<&User> {
        let name = name.trim();
        let in_org = |u: &&User| org_id.is_none_or(|o| u.org_id == o);
        let by_login = self
            .users
            .iter()
            .filter(in_org)
            .find(|u| self.login_name(u).eq_ignore_ascii_case(name));
        if by_login.is_some() {
            return by_login;
        }
        let by_username: Vec<&User> = self
            .users
            .iter()
            .filter(in_org)
            .filter(|u| u.username.eq_ignore_ascii_case(name))
            .collect();
        if by_username.len() == 1 {
            return by_username.first().copied();
        }
        self.users.iter().filter(in_org).find(|u| {
            u.human()
                .is_some_and(|h| h.email.eq_ignore_ascii_case(name))
        })
    }

    /// Project roles granted to a user: `(project_id, role)` pairs.
    pub(crate) fn user_roles(&self, user_id: &str, project_id: &str) -> Vec<String> {
        self.grants
            .iter()
            .filter(|g| g.user_id == user_id && g.project_id == project_id)
            .flat_map(|g| g.roles.iter().cloned())
            .collect()
    }

    /// Resolves an active PAT to its user id.
    pub(crate) fn user_by_pat(&self, token: &str) -> Option<&User> {
        let hash = sha256_hex(token);
        let pat = self
            .pats
            .iter()
            .find(|p| ct_eq(&p.token_hash, &hash) && p.expires > now())?;
        self.user(&pat.user_id)
    }

    /// Active (not terminated) sessions of a browser.
    pub(crate) fn sessions_of_agent(&self, agent: &str) -> Vec<&Session> {
        let mut v: Vec<&Session> = self
            .sessions
            .values()
            .filter(|s| s.is_active(now()) && s.user_agent_id.as_deref() == Some(agent))
            .collect();
        v.sort_by_key(|s| std::cmp::Reverse(s.changed));
        v
    }

    /// Removes a user with everything that belongs to it.
    pub(crate) fn delete_user(&mut self, user_id: &str) {
        let sessions: Vec<String> = self
            .sessions
            .values()
            .filter(|s| s.user_id == user_id)
            .map(|s| s.id.clone())
            .collect();
        for s in sessions {
            self.terminate_session(&s);
        }
        self.users.retain(|u| u.id != user_id);
        self.memberships.retain(|m| m.user_id != user_id);
        self.grants.retain(|g| g.user_id != user_id);
        self.pats.retain(|p| p.user_id != user_id);
        self.machine_keys.retain(|k| k.user_id != user_id);
        self.idp_links.retain(|l| l.user_id != user_id);
        self.access_tokens.retain(|_, t| t.grant.user_id != user_id);
        self.refresh_tokens
            .retain(|_, t| t.grant.user_id != user_id);
    }

    /// Terminates a session and ends the tokens issued from it.
    pub(crate) fn terminate_session(&mut self, session_id: &str) {
        if let Some(s) = self.sessions.get_mut(session_id) {
            s.terminated = true;
        }
        self.access_tokens
            .retain(|_, t| t.grant.session_id.as_deref() != Some(session_id));
        self.refresh_tokens
            .retain(|_, t| t.grant.session_id.as_deref() != Some(session_id));
    }

    /// The effective password policy of an org and whether it is the default.
    pub(crate) fn password_policy(&self, org: &str) -> (PasswordComplexity, bool) {
        match self.org_policies.get(org).and_then(|p| p.password.clone()) {
            Some(p) => (p, false),
            None => (self.password_complexity.clone(), true),
        }
    }

    /// Whether `session` satisfies `user`'s login requirements under the
    /// login policy of the user's org (see [`Session::is_authenticated_for`]).
    pub(crate) fn authenticates(&self, session: &Session, user: &User) -> bool {
        session.is_authenticated_for(user, &self.login_policy_of(&user.org_id).0)
    }

    /// The effective login policy of an org and whether it is the default.
    pub(crate) fn login_policy_of(&self, org: &str) -> (LoginPolicy, bool) {
        match self.org_policies.get(org).and_then(|p| p.login.clone()) {
            Some(p) => (p, false),
            None => (self.login_policy.clone(), true),
        }
    }

    /// The IdPs active in the effective login policy of an org: those of its
    /// custom policy, else every instance IdP (the default policy).
    pub(crate) fn active_idps(&self, org: &str) -> Vec<&Idp> {
        match self.org_policies.get(org).and_then(|p| p.login.as_ref()) {
            Some(p) => p
                .idps
                .iter()
                .filter_map(|id| self.idps.iter().find(|i| i.id == *id))
                .collect(),
            None => self.idps.iter().filter(|i| i.org_id.is_none()).collect(),
        }
    }

    /// The effective lockout policy of an org and whether it is the default.
    pub(crate) fn lockout_policy_of(&self, org: &str) -> (LockoutPolicy, bool) {
        match self.org_policies.get(org).and_then(|p| p.lockout.clone()) {
            Some(p) => (p, false),
            None => (self.lockout_policy.clone(), true),
        }
    }

    /// The effective (active) label policy of an org and whether it is the
    /// instance default. An org colour from the seed other than the
    /// default's counts as the org's own branding.
    pub(crate) fn branding_of(&self, org: &str) -> (LabelPolicy, bool) {
        if let Some(active) = self
            .org_policies
            .get(org)
            .and_then(|p| p.label.as_ref())
            .and_then(|l| l.active.clone())
        {
            return (active, false);
        }
        let mut p = LabelPolicy::instance_default();
        match self.org(org) {
            Some(o)
                if !o.primary_color.is_empty()
                    && !o.primary_color.eq_ignore_ascii_case(&p.primary_color) =>
            {
                p.primary_color = o.primary_color.clone();
                (p, false)
            }
            _ => (p, true),
        }
    }

    /// Whether a username is taken in an org (case-insensitive).
    pub(crate) fn username_taken(&self, org_id: &str, username: &str) -> bool {
        self.users
            .iter()
            .any(|u| u.org_id == org_id && u.username.eq_ignore_ascii_case(username))
    }

    /// Sends a new email verification code through the outbox (or only
    /// returns it when `send` is false). Returns the plain code.
    pub(crate) fn new_email_code(
        &mut self,
        user_id: &str,
        send: bool,
        url_template: Option<&str>,
    ) -> Option<String> {
        let (pending, code) = PendingCode::generate(6, 3600);
        let user = self.users.iter_mut().find(|u| u.id == user_id)?;
        let org_id = user.org_id.clone();
        let UserKind::Human(h) = &mut user.kind else {
            return None;
        };
        h.email_code = Some(pending);
        let email = h.email.clone();
        if send {
            let link = url_template.map(|t| {
                t.replace("{{.UserID}}", user_id)
                    .replace("{{.Code}}", &code)
                    .replace("{{.OrgID}}", &org_id)
            });
            let text = match link {
                Some(l) => format!("Your verification code is {code}. Verify your email: {l}"),
                None => format!("Your verification code is {code}."),
            };
            self.push_outbox("email", &email, "Verify email", &text, Some(&code));
        }
        Some(code)
    }

    /// Sends a new phone verification code by SMS through the outbox (or only
    /// returns it when `send` is false). Returns the plain code.
    pub(crate) fn new_phone_code(&mut self, user_id: &str, send: bool) -> Option<String> {
        let (pending, code) = PendingCode::generate(6, 3600);
        let user = self.users.iter_mut().find(|u| u.id == user_id)?;
        let UserKind::Human(h) = &mut user.kind else {
            return None;
        };
        if h.phone.is_empty() {
            return None;
        }
        h.phone_code = Some(pending);
        let phone = h.phone.clone();
        if send {
            self.push_outbox(
                "sms",
                &phone,
                "",
                &format!("Your verification code is {code}."),
                Some(&code),
            );
        }
        Some(code)
    }

    /// Adds an outbox message.
    pub(crate) fn push_outbox(
        &mut self,
        channel: &str,
        to: &str,
        subject: &str,
        text: &str,
        code: Option<&str>,
    ) {
        let id = self.ids.next();
        self.outbox.push(OutboxMessage {
            id,
            channel: channel.to_owned(),
            to: to.to_owned(),
            subject: subject.to_owned(),
            text: text.to_owned(),
            code: code.map(str::to_owned),
            created: crate::util::rfc3339(now()),
        });
    }

    /// Drops expired short-lived objects.
    pub(crate) fn gc(&mut self) {
        let t = now();
        self.codes.retain(|_, c| c.expires > t - 60);
        self.access_tokens.retain(|_, a| a.expires > t);
        self.refresh_tokens
            .retain(|_, r| r.idle_expires > t && r.absolute_expires > t);
        self.device_requests.retain(|d| d.expires > t - 600);
        self.auth_requests.retain(|_, a| a.created > t - 3600);
        self.logout_requests.retain(|_, l| l.created > t - 3600);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_without_idp_templates_or_role_info_still_load() -> Result<(), serde_json::Error> {
        let idp: Idp = serde_json::from_value(serde_json::json!({"id": "1", "name": "Test IdP",
            "linking_allowed": true, "creation_allowed": true, "auto_creation": false, "auto_update": false}))?;
        assert!(matches!(idp.config, IdpConfig::Test));
        assert!(idp.org_id.is_none());
        let project: Project = serde_json::from_value(
            serde_json::json!({"id": "2", "org_id": "3", "name": "Demo", "roles": ["admin"]}),
        )?;
        assert!(project.role_info.is_empty());
        let mut policy = serde_json::to_value(LoginPolicy::default())?;
        if let Some(map) = policy.as_object_mut() {
            map.remove("idps");
        }
        let policy: LoginPolicy = serde_json::from_value(policy)?;
        assert!(policy.idps.is_empty());
        Ok(())
    }

    #[test]
    fn login_policies_saved_without_factors_load_with_the_default_factors()
    -> Result<(), serde_json::Error> {
        let mut policy = serde_json::to_value(LoginPolicy {
            second_factors: Vec::new(),
            multi_factors: Vec::new(),
            ..LoginPolicy::default()
        })?;
        if let Some(map) = policy.as_object_mut() {
            map.remove("second_factors");
            map.remove("multi_factors");
        }
        let policy: LoginPolicy = serde_json::from_value(policy)?;
        assert_eq!(policy.second_factors, default_second_factors());
        assert!(policy.allows(SECOND_FACTOR_OTP) && policy.allows_passkey());
        Ok(())
    }
}
