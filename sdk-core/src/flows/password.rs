//! Password change and reset (users v2 SetPassword, PasswordReset; the
//! complexity policy from auth v1 for the user, settings v2 for the login
//! client).

use super::settings::PasswordPolicy;
use crate::Client;
use crate::api::{Auth, seg};
use crate::error::{Error, Result};
use crate::secret::Secret;
use reqwest::Method;
use serde_json::{Value, json};

/// How a password reset code reaches the user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ResetDelivery {
    /// ZITADEL emails a link, built from the template when one is given
    /// (placeholders `{{.UserID}}`, `{{.OrgID}}`, `{{.Code}}`).
    #[default]
    Email,
    /// ZITADEL emails a link built from this template.
    EmailWithUrl(String),
    /// ZITADEL sends the code by SMS.
    Sms,
    /// ZITADEL returns the code to the caller.
    Return,
}

impl ResetDelivery {
    fn body(&self) -> Value {
        match self {
            ResetDelivery::Email => {
                json!({"sendLink": {"notificationType": "NOTIFICATION_TYPE_Email"}})
            }
            ResetDelivery::EmailWithUrl(t) => {
                json!({"sendLink": {"notificationType": "NOTIFICATION_TYPE_Email", "urlTemplate": t}})
            }
            ResetDelivery::Sms => {
                json!({"sendLink": {"notificationType": "NOTIFICATION_TYPE_SMS"}})
            }
            ResetDelivery::Return => json!({"returnCode": {}}),
        }
    }
}

/// A password reset that was requested.
#[derive(Clone, Debug)]
pub struct PasswordResetStarted {
    /// The user whose password is reset (pass it to [`PasswordClient::set_with_code`]).
    pub user_id: String,
    /// The code, with [`ResetDelivery::Return`].
    pub code: Option<Secret>,
}

/// Password change and reset. From [`Client::password`].
#[derive(Clone, Debug)]
pub struct PasswordClient(pub(crate) Client);

impl PasswordClient {
    /// The complexity policy that applies to the signed-in user.
    ///
    /// # Errors
    /// Not signed in; server errors.
    pub async fn policy(&self) -> Result<PasswordPolicy> {
        let v: Value = self
            .0
            .api(
                Auth::User,
                Method::GET,
                "/auth/v1/policies/passwords/complexity",
                None,
            )
            .await?;
        Ok(PasswordPolicy::from_json(&v))
    }

    /// Changes the signed-in user's password: the new one is checked
    /// against the policy first (a `PasswordPolicy` error lists every
    /// unmet rule and nothing is sent), then set with the current one.
    ///
    /// # Errors
    /// `PasswordPolicy`; `InvalidCredentials` for a wrong current password;
    /// `FailedPrecondition` when the new password equals the old one.
    pub async fn change(&self, current: &str, new: &str) -> Result<()> {
        if current.is_empty() {
            return Err(Error::input("the current password is empty"));
        }
        self.policy().await?.check(new)?;
        let id = self.0.my_id().await?;
        set_password(&self.0, Auth::User, &id, new, ("currentPassword", current)).await
    }

    /// Requests a reset code for the signed-in user.
    ///
    /// # Errors
    /// Not signed in; server errors.
    pub async fn request_reset(&self, delivery: &ResetDelivery) -> Result<PasswordResetStarted> {
        let id = self.0.my_id().await?;
        request(&self.0, Auth::User, &id, delivery).await
    }

    /// Requests a reset code for a user who cannot sign in, found by login
    /// name, through the login client.
    ///
    /// # Errors
    /// No login client configured; `NotFound` for an unknown login name.
    pub async fn request_reset_for(
        &self,
        login_name: &str,
        delivery: &ResetDelivery,
    ) -> Result<PasswordResetStarted> {
        let FoundUser { id, org, .. } = find_user(&self.0, login_name).await?;
        if let (Some(org), Ok(mut known)) = (org, self.0.inner.user_orgs.lock()) {
            known.insert(id.clone(), org);
        }
        request(&self.0, Auth::LoginClient, &seg(&id)?, delivery).await
    }

    /// Sets a new password with the reset code, through the login client;
    /// the password is checked against the user's org policy first.
    ///
    /// # Errors
    /// No login client; `PasswordPolicy`; `WrongCode`; `CodeExpired`.
    pub async fn set_with_code(&self, user_id: &str, code: &str, new: &str) -> Result<()> {
        let code = code.trim();
        if code.is_empty() {
            return Err(Error::input("the code is empty"));
        }
        let id = seg(user_id)?;
        // The user's org (remembered from the reset request) picks the
        // policy; otherwise the instance default is checked locally and the
        // server has the last word.
        let org = self
            .0
            .inner
            .user_orgs
            .lock()
            .ok()
            .and_then(|m| m.get(user_id).cloned());
        self.0
            .settings()
            .password_complexity(org.as_deref())
            .await?
            .check(new)?;
        set_password(
            &self.0,
            Auth::LoginClient,
            &id,
            new,
            ("verificationCode", code),
        )
        .await
    }
}

async fn request(
    client: &Client,
    auth: Auth,
    id: &str,
    delivery: &ResetDelivery,
) -> Result<PasswordResetStarted> {
    let r: Value = client
        .api(
            auth,
            Method::POST,
            &format!("/v2/users/{id}/password_reset"),
            Some(delivery.body()),
        )
        .await?;
    Ok(PasswordResetStarted {
        user_id: id.to_owned(),
        code: super::verification::returned_code(&r, "verificationCode"),
    })
}

async fn set_password(
    client: &Client,
    auth: Auth,
    id: &str,
    new: &str,
    proof: (&str, &str),
) -> Result<()> {
    let mut body = json!({"newPassword": {"password": new, "changeRequired": false}});
    body[proof.0] = Value::String(proof.1.to_owned());
    let _: Value = client
        .api(
            auth,
            Method::POST,
            &format!("/v2/users/{id}/password"),
            Some(body),
        )
        .await?;
    Ok(())
}

/// The id and org of the user with this login name or user name (ListUsers
/// through the login client).
pub(crate) async fn find_user(client: &Client, login_name: &str) -> Result<FoundUser> {
    let login_name = login_name.trim();
    if login_name.is_empty() {
        return Err(Error::input("the login name is empty"));
    }
    let v: Value = client
        .api(
            Auth::LoginClient,
            Method::POST,
            "/v2/users",
            Some(json!({
                "query": {"offset": "0", "limit": 2, "asc": true},
                "queries": [{"orQuery": {"queries": [
                    {"loginNameQuery": {"loginName": login_name,
                                        "method": "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE"}},
                    {"userNameQuery": {"userName": login_name,
                                       "method": "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE"}}]}}]
            })),
        )
        .await?;
    let found = v.get("result").and_then(Value::as_array);
    if found.is_some_and(|r| r.len() > 1) {
        return Err(Error::input(
            "this name matches several users: give the full login name (user@domain)",
        ));
    }
    let user = found
        .and_then(|r| r.first())
        .ok_or_else(|| Error::host(crate::ErrorCode::NotFound, "no user has this login name"))?;
    let id = super::s(user, "userId");
    seg(&id)?;
    let org = user
        .get("details")
        .and_then(|d| super::opt(d, "resourceOwner"));
    let state = super::s(user, "state");
    Ok(FoundUser { id, org, state })
}

/// A user found by login name.
pub(crate) struct FoundUser {
    /// The user's id.
    pub id: String,
    /// The organization the user belongs to, when the server said.
    pub org: Option<String>,
    /// The user's state (`USER_STATE_ACTIVE`, `USER_STATE_LOCKED`, …; empty when not given).
    pub state: String,
}
