//! Users as a manager sees them (users v2): search, read, create humans
//! and machines, lock, unlock, deactivate, reactivate, delete; invite
//! codes; removing a user's second factor; service-user credentials
//! (secret, personal access token, key file).

use super::service::ServiceKey;
use super::{ManagerClient, id_of, items};
use crate::api::seg;
use crate::error::{Error, Result};
use crate::flows::Page;
use crate::flows::mfa::{AuthMethod, SecurityKey};
use crate::flows::profile::User;
use crate::flows::settings::PasswordPolicy;
use crate::flows::verification::{CodeDelivery, returned_code};
use crate::secret::Secret;
use base64::Engine;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A user's state, to search by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserState {
    /// Active.
    Active,
    /// Deactivated.
    Inactive,
    /// Locked (by a manager or after too many wrong passwords).
    Locked,
    /// Created, not yet initialized (no password or verified email).
    Initial,
}

impl UserState {
    fn proto_name(self) -> &'static str {
        match self {
            UserState::Active => "USER_STATE_ACTIVE",
            UserState::Inactive => "USER_STATE_INACTIVE",
            UserState::Locked => "USER_STATE_LOCKED",
            UserState::Initial => "USER_STATE_INITIAL",
        }
    }
}

/// A user search: every criterion given must match (text criteria match
/// case-insensitively anywhere in the value). Paged by `offset` and
/// `limit` (0 means the server's default).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSearch {
    /// Part of the user name.
    pub username: Option<String>,
    /// Part of the email address.
    pub email: Option<String>,
    /// Part of a login name (`user@domain`).
    pub login_name: Option<String>,
    /// Part of the display name.
    pub display_name: Option<String>,
    /// The state.
    pub state: Option<UserState>,
    /// How many matches to skip.
    pub offset: u64,
    /// How many to return at most (0: the server's default).
    pub limit: u32,
}

impl UserSearch {
    fn to_json(&self) -> Result<Value> {
        let mut queries = Vec::new();
        for (query, field, value) in [
            ("userNameQuery", "userName", &self.username),
            ("emailQuery", "emailAddress", &self.email),
            ("loginNameQuery", "loginName", &self.login_name),
            ("displayNameQuery", "displayName", &self.display_name),
        ] {
            if let Some(v) = value {
                let v = v.trim();
                if v.is_empty() || v.len() > 200 {
                    return Err(Error::input(format!(
                        "{field} must have 1 to 200 characters"
                    )));
                }
                queries.push(json!({query: {field: v,
                    "method": "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE"}}));
            }
        }
        if let Some(st) = self.state {
            queries.push(json!({"stateQuery": {"state": st.proto_name()}}));
        }
        let mut query = json!({"offset": self.offset.to_string(), "asc": true});
        if self.limit > 0 {
            query["limit"] = json!(self.limit);
        }
        Ok(
            json!({"query": query, "sortingColumn": "USER_FIELD_NAME_USER_NAME",
                  "queries": queries}),
        )
    }
}

/// A new human user. `Debug` hides the password.
#[derive(Clone, Default, Deserialize)]
pub struct NewHuman {
    /// User name (default: the email address).
    pub username: Option<String>,
    /// Given name (required).
    pub given_name: String,
    /// Family name (required).
    pub family_name: String,
    /// Email address (required).
    pub email: String,
    /// Mark the email as verified (no code is sent).
    pub email_verified: bool,
    /// Preferred language, e.g. `de`.
    pub preferred_language: Option<String>,
    /// An initial password, checked against the org's policy first.
    /// Without one the user sets it later (an invite code).
    pub password: Option<String>,
    /// The user must change the initial password at the first login.
    pub password_change_required: bool,
}

impl std::fmt::Debug for NewHuman {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewHuman")
            .field("username", &self.username)
            .field("given_name", &self.given_name)
            .field("family_name", &self.family_name)
            .field("email", &self.email)
            .field("email_verified", &self.email_verified)
            .finish_non_exhaustive()
    }
}

impl NewHuman {
    fn to_json(&self, org: &str, delivery: &CodeDelivery) -> Result<Value> {
        for (name, v) in [
            ("given name", &self.given_name),
            ("family name", &self.family_name),
        ] {
            if v.trim().is_empty() || v.chars().count() > 200 {
                return Err(Error::input(format!(
                    "the {name} must have 1 to 200 characters"
                )));
            }
        }
        let email = self.email.trim();
        if !crate::flows::verification::looks_like_email(email) {
            return Err(Error::input("the email address is not valid"));
        }
        let mut profile = json!({"givenName": self.given_name.trim(),
                                 "familyName": self.family_name.trim()});
        if let Some(l) = self.preferred_language.as_deref().filter(|l| !l.is_empty()) {
            profile["preferredLanguage"] = json!(l);
        }
        let mut mail = json!({"email": email});
        if self.email_verified {
            mail["isVerified"] = json!(true);
        } else {
            let (k, v) = delivery.member(true);
            mail[k] = v;
        }
        let mut human = json!({"profile": profile, "email": mail});
        if let Some(p) = &self.password {
            human["password"] =
                json!({"password": p, "changeRequired": self.password_change_required});
        }
        let mut body = json!({"organizationId": org, "human": human});
        if let Some(u) = self
            .username
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            body["username"] = json!(u);
        }
        Ok(body)
    }
}

/// A new service (machine) user.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMachine {
    /// User name (the client id of the `client_credentials` grant).
    pub username: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
}

/// A created user.
#[derive(Clone, Debug, Serialize)]
pub struct CreatedUser {
    /// The new user's id.
    pub user_id: String,
    /// The email code, with [`CodeDelivery::Return`].
    pub email_code: Option<Secret>,
}

/// A second factor of a user that a manager removes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactor {
    /// The authenticator app (TOTP).
    Totp,
    /// One-time passwords by SMS.
    OtpSms,
    /// One-time passwords by email.
    OtpEmail,
    /// The security key with this id.
    U2f(String),
}

/// A personal access token of a service user (shown once).
#[derive(Clone, Debug, Serialize)]
pub struct MachinePat {
    /// The token's id (to remove it).
    pub token_id: String,
    /// The token.
    pub token: Secret,
}

/// A key of a service user, generated by ZITADEL (shown once).
#[derive(Clone, Debug)]
pub struct MachineKey {
    /// The key's id.
    pub key_id: String,
    /// The key file, for [`super::ServiceCredential::KeyFile`].
    pub key: ServiceKey,
    /// The key file's JSON, to store.
    pub key_file: Secret,
}

impl ManagerClient {
    /// Searches the users the caller may read.
    ///
    /// # Errors
    /// `InvalidInput` for an empty or too long criterion; `PermissionDenied`.
    pub async fn search_users(&self, search: &UserSearch) -> Result<Page<User>> {
        let body = search.to_json()?;
        let v = self.call(Method::POST, "/v2/users", Some(body)).await?;
        Ok(Page {
            items: items(&v, "result", User::from_json),
            total: crate::flows::total(&v),
        })
    }

    /// Reads a user.
    ///
    /// # Errors
    /// `NotFound`; `PermissionDenied`.
    pub async fn user(&self, user_id: &str) -> Result<User> {
        let v = self.user_call(Method::GET, user_id, "", None).await?;
        v.get("user")
            .map(User::from_json)
            .ok_or_else(|| Error::internal("GetUserByID answered without a user"))
    }

    /// Creates a human user in the org; the password, when given, is
    /// checked against the org's complexity policy first (a
    /// `PasswordPolicy` error lists each unmet rule). Unless the email is
    /// marked verified, a code goes out as `delivery` says.
    ///
    /// # Errors
    /// `InvalidInput` (checked before any request); `PasswordPolicy`;
    /// `AlreadyExists` for a taken user name; `PermissionDenied`.
    pub async fn create_human(
        &self,
        user: &NewHuman,
        delivery: &CodeDelivery,
    ) -> Result<CreatedUser> {
        user.to_json("-", delivery)?;
        let org = self.org_id().await?;
        if let Some(p) = &user.password {
            self.password_policy_of(&org).await?.check(p)?;
        }
        let v = self
            .call(
                Method::POST,
                "/v2/users/new",
                Some(user.to_json(&org, delivery)?),
            )
            .await?;
        Ok(CreatedUser {
            user_id: id_of(&v, "id")?,
            email_code: returned_code(&v, "emailCode"),
        })
    }

    /// Creates a service (machine) user in the org; returns its id.
    ///
    /// # Errors
    /// `InvalidInput` for an empty user name or name; `AlreadyExists`;
    /// `PermissionDenied`.
    pub async fn create_machine(&self, user: &NewMachine) -> Result<String> {
        let (username, name) = (user.username.trim(), user.name.trim());
        if username.is_empty() || name.is_empty() || username.len() > 200 || name.len() > 200 {
            return Err(Error::input(
                "user name and name must have 1 to 200 characters",
            ));
        }
        let mut machine = json!({"name": name});
        if let Some(d) = user.description.as_deref().filter(|d| !d.is_empty()) {
            machine["description"] = json!(d);
        }
        let org = self.org_id().await?;
        let body = json!({"organizationId": org, "username": username, "machine": machine});
        let v = self.call(Method::POST, "/v2/users/new", Some(body)).await?;
        id_of(&v, "id")
    }

    /// Locks a user: no more sign-ins until unlocked.
    ///
    /// # Errors
    /// `FailedPrecondition` when the user is not active; `NotFound`; `PermissionDenied`.
    pub async fn lock_user(&self, user_id: &str) -> Result<()> {
        self.user_post(user_id, "lock").await
    }

    /// Unlocks a locked user (also resets the failed attempts).
    ///
    /// # Errors
    /// `FailedPrecondition` when the user is not locked; `NotFound`; `PermissionDenied`.
    pub async fn unlock_user(&self, user_id: &str) -> Result<()> {
        self.user_post(user_id, "unlock").await
    }

    /// Deactivates a user (its tokens stop working).
    ///
    /// # Errors
    /// `FailedPrecondition` when already inactive; `NotFound`; `PermissionDenied`.
    pub async fn deactivate_user(&self, user_id: &str) -> Result<()> {
        self.user_post(user_id, "deactivate").await
    }

    /// Reactivates a deactivated user.
    ///
    /// # Errors
    /// `FailedPrecondition` when not inactive; `NotFound`; `PermissionDenied`.
    pub async fn reactivate_user(&self, user_id: &str) -> Result<()> {
        self.user_post(user_id, "reactivate").await
    }

    /// Deletes a user with its sessions, grants and memberships.
    ///
    /// # Errors
    /// `NotFound`; `PermissionDenied`.
    pub async fn delete_user(&self, user_id: &str) -> Result<()> {
        self.user_call(Method::DELETE, user_id, "", None)
            .await
            .map(drop)
    }

    /// Creates an invite code for a user without a password, passkey or
    /// IdP link: ZITADEL mails it (with a link from the template of
    /// [`CodeDelivery::SendWithUrl`]) or returns it.
    ///
    /// # Errors
    /// `FailedPrecondition` when the user can already sign in; `NotFound`;
    /// `PermissionDenied`.
    pub async fn invite_user(
        &self,
        user_id: &str,
        delivery: &CodeDelivery,
    ) -> Result<Option<Secret>> {
        let (k, v) = match delivery {
            CodeDelivery::SendWithUrl(t) => ("sendCode", json!({"urlTemplate": t})),
            other => other.member(false),
        };
        let mut body = Map::new();
        body.insert(k.into(), v);
        let r = self
            .user_call(
                Method::POST,
                user_id,
                "/invite_code",
                Some(Value::Object(body)),
            )
            .await?;
        Ok(returned_code(&r, "inviteCode"))
    }

    /// Sends a new invite code the way the previous one went.
    ///
    /// # Errors
    /// `FailedPrecondition` when no sent code is pending; `NotFound`; `PermissionDenied`.
    pub async fn resend_invite(&self, user_id: &str) -> Result<()> {
        self.user_call(
            Method::POST,
            user_id,
            "/invite_code/resend",
            Some(json!({})),
        )
        .await
        .map(drop)
    }

    /// The authentication methods a user has set up.
    ///
    /// # Errors
    /// `NotFound`; `PermissionDenied`.
    pub async fn auth_methods(&self, user_id: &str) -> Result<Vec<AuthMethod>> {
        let id = seg(user_id)?;
        crate::flows::mfa::methods_of(&self.client, self.auth().await?, &id).await
    }

    /// A user's U2F security keys (their ids for
    /// [`SecondFactor::U2f`]).
    ///
    /// # Errors
    /// `NotFound`; `PermissionDenied`.
    pub async fn security_keys(&self, user_id: &str) -> Result<Vec<SecurityKey>> {
        let id = seg(user_id)?;
        crate::flows::mfa::security_keys_of(&self.client, self.auth().await?, &id).await
    }

    /// Removes a user's second factor (e.g. after a lost phone).
    ///
    /// # Errors
    /// `NotFound` when the user has none of that kind; `PermissionDenied`.
    pub async fn remove_second_factor(&self, user_id: &str, factor: &SecondFactor) -> Result<()> {
        let rest = match factor {
            SecondFactor::Totp => "/totp".to_owned(),
            SecondFactor::OtpSms => "/otp_sms".to_owned(),
            SecondFactor::OtpEmail => "/otp_email".to_owned(),
            SecondFactor::U2f(id) => format!("/u2f/{}", seg(id)?),
        };
        self.user_call(Method::DELETE, user_id, &rest, None)
            .await
            .map(drop)
    }

    /// Generates a client secret for a service user (replacing any
    /// earlier one), for [`super::ServiceCredential::ClientCredentials`].
    ///
    /// # Errors
    /// `NotFound`; `PermissionDenied`.
    pub async fn add_machine_secret(&self, user_id: &str) -> Result<Secret> {
        let v = self
            .user_call(Method::POST, user_id, "/secret", Some(json!({})))
            .await?;
        returned_code(&v, "clientSecret")
            .ok_or_else(|| Error::internal("AddSecret answered without a secret"))
    }

    /// Creates a personal access token for a service user, valid until
    /// `expiration` (RFC 3339, e.g. `2030-01-01T00:00:00Z`).
    ///
    /// # Errors
    /// `InvalidInput` for a malformed date; `NotFound`; `PermissionDenied`.
    pub async fn add_machine_pat(&self, user_id: &str, expiration: &str) -> Result<MachinePat> {
        let body = json!({"expirationDate": check_date(expiration)?});
        let v = self
            .user_call(Method::POST, user_id, "/pats", Some(body))
            .await?;
        Ok(MachinePat {
            token_id: id_of(&v, "tokenId")?,
            token: returned_code(&v, "token").ok_or_else(|| {
                Error::internal("AddPersonalAccessToken answered without a token")
            })?,
        })
    }

    /// Generates a key for a service user, valid until `expiration`
    /// (RFC 3339), and returns its key file.
    ///
    /// # Errors
    /// `InvalidInput` for a malformed date; `NotFound`; `PermissionDenied`.
    pub async fn add_machine_key(&self, user_id: &str, expiration: &str) -> Result<MachineKey> {
        let body = json!({"expirationDate": check_date(expiration)?});
        let v = self
            .user_call(Method::POST, user_id, "/keys", Some(body))
            .await?;
        let content = id_of(&v, "keyContent")?;
        let json = base64::engine::general_purpose::STANDARD
            .decode(content)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| Error::internal("AddKey answered with a key that is not base64 JSON"))?;
        Ok(MachineKey {
            key_id: id_of(&v, "keyId")?,
            key: ServiceKey::from_json(&json)?,
            key_file: Secret::new(json),
        })
    }

    /// `/v2/users/{id}{rest}`.
    async fn user_call(
        &self,
        method: Method,
        user_id: &str,
        rest: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        self.call(method, &format!("/v2/users/{}{rest}", seg(user_id)?), body)
            .await
    }

    async fn user_post(&self, user_id: &str, action: &str) -> Result<()> {
        self.user_call(
            Method::POST,
            user_id,
            &format!("/{action}"),
            Some(json!({})),
        )
        .await
        .map(drop)
    }

    /// The password complexity policy of `org` (settings v2).
    async fn password_policy_of(&self, org: &str) -> Result<PasswordPolicy> {
        let v = self
            .send(
                Method::GET,
                "/v2/settings/password/complexity",
                &[("ctx.orgId", org)],
                false,
                None,
            )
            .await?;
        Ok(PasswordPolicy::from_json(&v))
    }
}

/// An RFC 3339 timestamp, roughly checked (`YYYY-MM-DDTHH:MM:SS…`).
fn check_date(s: &str) -> Result<&str> {
    let s = s.trim();
    let b = s.as_bytes();
    let ok = b.len() >= 20
        && b.len() <= 40
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b't')
        && b[..4].iter().all(u8::is_ascii_digit);
    if ok {
        Ok(s)
    } else {
        Err(Error::input(
            "the expiration date must be RFC 3339, e.g. 2030-01-01T00:00:00Z",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_becomes_v2_queries_that_must_all_match() {
        let s = UserSearch {
            email: Some(" acme ".into()),
            state: Some(UserState::Locked),
            limit: 10,
            ..Default::default()
        };
        let v = s.to_json().unwrap();
        assert_eq!(v["queries"][0]["emailQuery"]["emailAddress"], "acme");
        assert_eq!(v["queries"][1]["stateQuery"]["state"], "USER_STATE_LOCKED");
        assert_eq!(v["query"]["offset"], "0");
        let empty = UserSearch {
            username: Some(" ".into()),
            ..Default::default()
        };
        assert!(empty.to_json().is_err());
    }

    #[test]
    fn a_new_human_is_checked_and_shaped_as_create_user() {
        let mut h = NewHuman {
            given_name: "Ada".into(),
            family_name: "Lovelace".into(),
            email: "ada@example.com".into(),
            password: Some("pw".into()),
            ..Default::default()
        };
        let v = h.to_json("o1", &CodeDelivery::Return).unwrap();
        assert_eq!(v["organizationId"], "o1");
        assert_eq!(v["human"]["email"]["returnCode"], json!({}));
        assert_eq!(v["human"]["password"]["changeRequired"], false);
        assert!(!format!("{h:?}").contains("pw"));
        h.email = "nope".into();
        assert!(h.to_json("o1", &CodeDelivery::Send).is_err());
    }

    #[test]
    fn dates_must_look_like_rfc3339() {
        assert!(check_date("2030-01-01T00:00:00Z").is_ok());
        assert!(check_date("2030-01-01").is_err());
        assert!(check_date("tomorrow at noon, please").is_err());
    }
}
