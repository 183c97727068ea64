//! Registration of new users: in the browser (the hosted registration,
//! `prompt=create`), natively for login-client hosts (the rules first, then
//! AddHumanUser with the terms accepted, the email code, and the sign-in
//! through the Session API), and through an external identity provider
//! (a draft pre-filled from the provider's profile, or a sign-in when the
//! account is already linked).

use super::links::{IdpIntentResult, run_intent};
use super::native_login::{SignedIn, create_session, finish_with_session, mfa_setup_needed};
use super::s;
use super::settings::{LegalSettings, LoginSettings, PasswordPolicy};
use super::verification::{
    CodeDelivery, looks_like_email, resend_email, returned_code, verify_email,
};
use crate::Client;
use crate::api::{Auth, seg};
use crate::error::{Error, Result};
use crate::oidc::LoginOptions;
use crate::platform::BrowserLauncher;
use crate::secret::Secret;
use crate::session::SessionInfo;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What an app shows before registration: whether it is allowed, the
/// password rules, the legal links the user must accept, and whether a
/// second factor will be required.
#[derive(Clone, Debug, Serialize)]
pub struct RegistrationRules {
    /// The login policy.
    pub login: LoginSettings,
    /// The password complexity policy.
    pub password: PasswordPolicy,
    /// Terms of service and privacy policy links (show them; the user must accept).
    pub legal: LegalSettings,
}

/// A new local account. `Debug` hides the password.
#[derive(Clone, Default, Deserialize)]
pub struct NewUser {
    /// Given name (required).
    pub given_name: String,
    /// Family name (required).
    pub family_name: String,
    /// Email address (required; it must be verified with a code).
    pub email: String,
    /// User name (default: the email address).
    pub username: Option<String>,
    /// Preferred language, e.g. `de`.
    pub preferred_language: Option<String>,
    /// The password (checked against the policy before anything is sent).
    pub password: String,
    /// The user accepted the terms of service and the privacy policy.
    /// Registration is refused without it.
    pub accepted_terms: bool,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("given_name", &self.given_name)
            .field("family_name", &self.family_name)
            .field("accepted_terms", &self.accepted_terms)
            .finish_non_exhaustive()
    }
}

impl NewUser {
    fn validate(&self, rules: &RegistrationRules) -> Result<()> {
        if !self.accepted_terms {
            return Err(Error::input(
                "the user must accept the terms of service and the privacy policy",
            ));
        }
        for (name, v) in [
            ("given name", &self.given_name),
            ("family name", &self.family_name),
        ] {
            if v.trim().is_empty() || v.chars().count() > 200 {
                return Err(Error::input(format!(
                    "the {name} is required (at most 200 characters)"
                )));
            }
        }
        if !looks_like_email(self.email.trim()) {
            return Err(Error::input("the email address is not valid"));
        }
        rules.password.check(&self.password)
    }
}

/// The organization a registration goes to.
fn org_member(client: &Client) -> Option<Value> {
    client.inner.scopes.iter().find_map(|sc| {
        if let Some(id) = sc.strip_prefix("urn:zitadel:iam:org:id:") {
            Some(json!({"orgId": id}))
        } else {
            sc.strip_prefix("urn:zitadel:iam:org:domain:primary:")
                .map(|d| json!({"orgDomain": d}))
        }
    })
}

/// The configured organization id, if the client was built with one.
pub(crate) fn org_id(client: &Client) -> Option<String> {
    client.inner.scopes.iter().find_map(|sc| {
        sc.strip_prefix("urn:zitadel:iam:org:id:")
            .map(str::to_owned)
    })
}

/// Registration. From [`Client::registration`].
#[derive(Clone, Debug)]
pub struct RegistrationClient(pub(crate) Client);

impl RegistrationClient {
    /// Registration in the system browser: the hosted registration form
    /// (`prompt=create`) of the configured organization, ending signed in
    /// like a browser login.
    ///
    /// # Errors
    /// As [`Client::login_with_loopback`].
    pub async fn in_browser(
        &self,
        browser: &dyn BrowserLauncher,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<SessionInfo> {
        let opts = LoginOptions {
            prompt: Some("create".into()),
            ..Default::default()
        };
        self.0
            .login_with_loopback(browser, &opts, timeout, cancel)
            .await
    }

    /// The rules of the configured organization (the instance default
    /// otherwise): read with the login client, cached for five minutes.
    ///
    /// # Errors
    /// No login client configured; server errors.
    pub async fn rules(&self) -> Result<RegistrationRules> {
        let org = org_id(&self.0);
        let settings = self.0.settings();
        Ok(RegistrationRules {
            login: settings.login(org.as_deref()).await?,
            password: settings.password_complexity(org.as_deref()).await?,
            legal: settings.legal(org.as_deref()).await?,
        })
    }

    /// Creates a local account (the terms must be accepted, the names and
    /// email given, the password must meet the policy — all checked before
    /// anything is sent), asks ZITADEL to send (or return) the email code,
    /// and opens a Session API session with the password for the sign-in
    /// that follows the verification.
    ///
    /// # Errors
    /// `InvalidInput` (terms not accepted, missing fields); `PasswordPolicy`
    /// listing every unmet rule; `FailedPrecondition` when the policy does
    /// not allow registration; `AlreadyExists` for a taken user name.
    pub async fn register(
        &self,
        user: &NewUser,
        delivery: &CodeDelivery,
    ) -> Result<PendingRegistration> {
        let rules = self.rules().await?;
        if !rules.login.allow_register {
            return Err(Error::host(
                crate::ErrorCode::FailedPrecondition,
                "the organization does not allow registration",
            ));
        }
        user.validate(&rules)?;
        let (k, v) = delivery.member(true);
        let mut profile =
            json!({"givenName": user.given_name.trim(), "familyName": user.family_name.trim()});
        if let Some(l) = user.preferred_language.as_deref().filter(|l| !l.is_empty()) {
            profile["preferredLanguage"] = json!(l);
        }
        let mut body = json!({
            "profile": profile,
            "email": {"email": user.email.trim(), k: v},
            "password": {"password": user.password, "changeRequired": false},
        });
        if let Some(u) = user.username.as_deref().filter(|u| !u.trim().is_empty()) {
            body["username"] = json!(u.trim());
        }
        if let Some(org) = org_member(&self.0) {
            body["organization"] = org;
        }
        let created: Value = self
            .0
            .api(
                Auth::LoginClient,
                Method::POST,
                "/v2/users/human",
                Some(body),
            )
            .await?;
        let user_id = s(&created, "userId");
        seg(&user_id)?;
        let (session_id, session_token) = create_session(
            &self.0,
            json!({"user": {"userId": user_id}, "password": {"password": user.password}}),
        )
        .await?;
        Ok(PendingRegistration {
            client: self.0.clone(),
            email_code: returned_code(&created, "emailCode"),
            user_id,
            session_id,
            session_token,
            verified: false,
        })
    }

    /// Registration through an external identity provider: opens it in the
    /// browser (loopback redirect), then either signs in (the account is
    /// linked already) or returns a draft pre-filled from the provider's
    /// profile for the app to show and edit, then
    /// [`create_from_draft`](Self::create_from_draft).
    ///
    /// # Errors
    /// No login client; the user cancelled at the provider (`AccessDenied`);
    /// timeouts and cancellation.
    pub async fn with_idp(
        &self,
        idp_id: &str,
        browser: &dyn BrowserLauncher,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<IdpRegistration> {
        let r = run_intent(&self.0, Auth::LoginClient, idp_id, browser, timeout, cancel).await?;
        if let Some(user_id) = r.linked_user_id.clone() {
            let signed_in = sign_in_with_intent(&self.0, &user_id, &r).await?;
            return Ok(IdpRegistration::SignedIn(signed_in));
        }
        Ok(IdpRegistration::Draft(RegistrationDraft::from_intent(r)))
    }

    /// Creates the user from an (edited) IdP draft, linked to the provider
    /// account, and signs in with the intent.
    ///
    /// # Errors
    /// `InvalidInput` when the terms are not accepted or a field is missing.
    pub async fn create_from_draft(&self, draft: &RegistrationDraft) -> Result<SignedIn> {
        if !draft.accepted_terms {
            return Err(Error::input(
                "the user must accept the terms of service and the privacy policy",
            ));
        }
        if draft.given_name.trim().is_empty()
            || draft.family_name.trim().is_empty()
            || !looks_like_email(draft.email.trim())
        {
            return Err(Error::input(
                "given name, family name and a valid email are required",
            ));
        }
        let mut body = json!({
            "profile": {"givenName": draft.given_name.trim(), "familyName": draft.family_name.trim()},
            "email": {"email": draft.email.trim(), "isVerified": draft.email_verified_by_idp},
            "idpLinks": [{"idpId": draft.intent.idp_id, "userId": draft.intent.external_user_id,
                          "userName": draft.intent.external_user_name}],
        });
        if !draft.username.trim().is_empty() {
            body["username"] = json!(draft.username.trim());
        }
        if let Some(org) = org_member(&self.0) {
            body["organization"] = org;
        }
        let created: Value = self
            .0
            .api(
                Auth::LoginClient,
                Method::POST,
                "/v2/users/human",
                Some(body),
            )
            .await?;
        sign_in_with_intent(&self.0, &s(&created, "userId"), &draft.intent).await
    }
}

/// Signs `user_id` in with a finished IdP intent (a session with the user
/// and the intent checked, then CreateCallback and the code exchange).
async fn sign_in_with_intent(
    client: &Client,
    user_id: &str,
    intent: &IdpIntentResult,
) -> Result<SignedIn> {
    let (sid, token) = create_session(
        client,
        json!({"user": {"userId": user_id},
               "idpIntent": {"idpIntentId": intent.intent_id,
                             "idpIntentToken": intent.intent_token.expose()}}),
    )
    .await?;
    let session = finish_with_session(client, &sid, &token).await?;
    Ok(SignedIn {
        session,
        mfa_setup_required: None,
    })
}

/// What a registration through an identity provider led to.
#[derive(Debug)]
pub enum IdpRegistration {
    /// The provider account was linked already: signed in.
    SignedIn(SignedIn),
    /// A new user: the draft to show, edit and confirm.
    Draft(RegistrationDraft),
}

/// A registration pre-filled from an identity provider's profile.
#[derive(Clone, Debug, Serialize)]
pub struct RegistrationDraft {
    /// Given name (editable).
    pub given_name: String,
    /// Family name (editable).
    pub family_name: String,
    /// Email (editable).
    pub email: String,
    /// User name (editable; empty → the email).
    pub username: String,
    /// Whether the provider asserted the email as verified.
    pub email_verified_by_idp: bool,
    /// Set when the user accepted the terms of service and privacy policy.
    pub accepted_terms: bool,
    #[serde(skip)]
    intent: IdpIntentResult,
}

impl RegistrationDraft {
    fn from_intent(intent: IdpIntentResult) -> Self {
        let add = intent.add_human_user.clone().unwrap_or(Value::Null);
        let profile = add.get("profile").cloned().unwrap_or(Value::Null);
        let email = add.get("email").cloned().unwrap_or(Value::Null);
        RegistrationDraft {
            given_name: s(&profile, "givenName"),
            family_name: s(&profile, "familyName"),
            email: s(&email, "email"),
            username: s(&add, "username"),
            email_verified_by_idp: super::b(&email, "isVerified"),
            accepted_terms: false,
            intent,
        }
    }

    /// The identity provider's id.
    pub fn idp_id(&self) -> &str {
        &self.intent.idp_id
    }
}

/// A created account waiting for its email code. `Debug` shows no secret.
pub struct PendingRegistration {
    client: Client,
    user_id: String,
    session_id: String,
    session_token: Secret,
    email_code: Option<Secret>,
    verified: bool,
}

impl std::fmt::Debug for PendingRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingRegistration")
            .field("user_id", &self.user_id)
            .field("verified", &self.verified)
            .finish_non_exhaustive()
    }
}

impl PendingRegistration {
    /// The new user's id.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The email code ZITADEL returned (with [`CodeDelivery::Return`]); the
    /// app delivers it to the user itself.
    pub fn returned_email_code(&self) -> Option<&Secret> {
        self.email_code.as_ref()
    }

    /// Verifies the email with the code the user typed.
    ///
    /// # Errors
    /// `WrongCode` (type it again); `CodeExpired` (resend).
    pub async fn verify_email(&mut self, code: &str) -> Result<()> {
        let code = code.trim();
        if code.is_empty() || code.len() > 64 {
            return Err(Error::input("the code is empty or too long"));
        }
        verify_email(&self.client, Auth::LoginClient, &seg(&self.user_id)?, code).await?;
        self.verified = true;
        Ok(())
    }

    /// Sends (or returns) a new email code.
    ///
    /// # Errors
    /// `FailedPrecondition` when the email is verified already.
    pub async fn resend_email_code(&mut self, delivery: &CodeDelivery) -> Result<Option<Secret>> {
        let code = resend_email(
            &self.client,
            Auth::LoginClient,
            &seg(&self.user_id)?,
            delivery,
        )
        .await?;
        if code.is_some() {
            self.email_code.clone_from(&code);
        }
        Ok(code)
    }

    /// Signs the new user in (after the email was verified): the same
    /// signed-in session as a browser login. When the login policy forces
    /// MFA, [`SignedIn::mfa_setup_required`] lists the allowed factors.
    ///
    /// # Errors
    /// `FailedPrecondition` when the email is not verified yet.
    pub async fn finish(self) -> Result<SignedIn> {
        if !self.verified {
            return Err(Error::host(
                crate::ErrorCode::FailedPrecondition,
                "verify the email address before signing in",
            ));
        }
        let mfa_setup_required =
            mfa_setup_needed(&self.client, org_id(&self.client).as_deref()).await?;
        let session =
            finish_with_session(&self.client, &self.session_id, &self.session_token).await?;
        Ok(SignedIn {
            session,
            mfa_setup_required,
        })
    }
}
