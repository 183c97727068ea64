//! The signed-in user's profile and metadata (users v2: GetUserByID,
//! UpdateUser, SetUserMetadata, ListUserMetadata, DeleteUserMetadata).

use super::{Page, b, opt, s, total};
use crate::Client;
use crate::api::{Auth, seg};
use crate::error::{Error, Result};
use base64::Engine;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The profile part of the signed-in user, from [`ProfileClient`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// Not given.
    Unspecified,
    /// Female.
    Female,
    /// Male.
    Male,
    /// Diverse.
    Diverse,
}

impl Gender {
    /// The proto enum name, e.g. `GENDER_FEMALE`.
    pub fn proto_name(self) -> &'static str {
        match self {
            Gender::Unspecified => "GENDER_UNSPECIFIED",
            Gender::Female => "GENDER_FEMALE",
            Gender::Male => "GENDER_MALE",
            Gender::Diverse => "GENDER_DIVERSE",
        }
    }

    fn from_proto(s: &str) -> Gender {
        match s {
            "GENDER_FEMALE" => Gender::Female,
            "GENDER_MALE" => Gender::Male,
            "GENDER_DIVERSE" => Gender::Diverse,
            _ => Gender::Unspecified,
        }
    }
}

impl std::str::FromStr for Gender {
    type Err = Error;
    fn from_str(s: &str) -> Result<Gender> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "female" | "gender_female" => Gender::Female,
            "male" | "gender_male" => Gender::Male,
            "diverse" | "gender_diverse" => Gender::Diverse,
            "unspecified" | "gender_unspecified" | "" => Gender::Unspecified,
            _ => {
                return Err(Error::input(
                    "gender must be female, male, diverse or unspecified",
                ));
            }
        })
    }
}

/// A ZITADEL user as the user (or a manager) reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user id.
    pub user_id: String,
    /// The user name.
    pub username: String,
    /// `USER_STATE_ACTIVE`, `USER_STATE_LOCKED`, `USER_STATE_INACTIVE`, ...
    pub state: String,
    /// The preferred login name.
    pub preferred_login_name: String,
    /// The id of the user's organization.
    pub organization_id: String,
    /// Given name (humans).
    pub given_name: String,
    /// Family name (humans).
    pub family_name: String,
    /// Nickname, if set.
    pub nick_name: Option<String>,
    /// Display name.
    pub display_name: String,
    /// Preferred language, e.g. `de`.
    pub preferred_language: Option<String>,
    /// Gender.
    pub gender: Gender,
    /// Email address (humans).
    pub email: Option<String>,
    /// Whether the email address is verified.
    pub email_verified: bool,
    /// Phone number, if set.
    pub phone: Option<String>,
    /// Whether the phone number is verified.
    pub phone_verified: bool,
    /// Whether this is a machine (service) user.
    pub machine: bool,
}

impl User {
    /// Decodes a users v2 `User` message.
    pub(crate) fn from_json(u: &Value) -> User {
        let human = u.get("human").cloned().unwrap_or(Value::Null);
        let profile = human.get("profile").cloned().unwrap_or(Value::Null);
        let email = human.get("email").cloned().unwrap_or(Value::Null);
        let phone = human.get("phone").cloned().unwrap_or(Value::Null);
        let machine = u.get("machine");
        User {
            user_id: s(u, "userId"),
            username: s(u, "username"),
            state: s(u, "state"),
            preferred_login_name: s(u, "preferredLoginName"),
            organization_id: u
                .get("details")
                .map(|d| s(d, "resourceOwner"))
                .unwrap_or_default(),
            given_name: s(&profile, "givenName"),
            family_name: s(&profile, "familyName"),
            nick_name: opt(&profile, "nickName"),
            display_name: machine
                .map(|m| s(m, "name"))
                .unwrap_or_else(|| s(&profile, "displayName")),
            preferred_language: opt(&profile, "preferredLanguage"),
            gender: Gender::from_proto(&s(&profile, "gender")),
            email: opt(&email, "email"),
            email_verified: b(&email, "isVerified"),
            phone: opt(&phone, "phone"),
            phone_verified: b(&phone, "isVerified"),
            machine: machine.is_some(),
        }
    }
}

/// Changes to the profile; fields left `None` stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileUpdate {
    /// New given name.
    pub given_name: Option<String>,
    /// New family name.
    pub family_name: Option<String>,
    /// New nickname.
    pub nick_name: Option<String>,
    /// New display name.
    pub display_name: Option<String>,
    /// New preferred language (a language tag such as `de` or `en-US`).
    pub preferred_language: Option<String>,
    /// New gender.
    pub gender: Option<Gender>,
}

impl ProfileUpdate {
    /// The `human.profile` object of UpdateUser; checks the lengths the proto allows.
    fn to_json(&self) -> Result<Value> {
        let mut p = Map::new();
        for (key, value, max) in [
            ("givenName", &self.given_name, 200),
            ("familyName", &self.family_name, 200),
            ("nickName", &self.nick_name, 200),
            ("displayName", &self.display_name, 200),
            ("preferredLanguage", &self.preferred_language, 10),
        ] {
            if let Some(v) = value {
                let v = v.trim();
                if v.is_empty() || v.chars().count() > max {
                    return Err(Error::input(format!(
                        "{key} must have 1 to {max} characters"
                    )));
                }
                p.insert(key.into(), Value::String(v.to_owned()));
            }
        }
        if let Some(g) = self.gender {
            p.insert("gender".into(), Value::String(g.proto_name().into()));
        }
        if p.is_empty() {
            return Err(Error::input("nothing to update"));
        }
        Ok(Value::Object(p))
    }
}

/// One metadata entry of a user (the value decoded from base64).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The key.
    pub key: String,
    /// The value, as UTF-8 text where it is text, else lossily decoded.
    pub value: String,
}

/// The signed-in user's profile and metadata. From [`Client::profile`].
#[derive(Clone, Debug)]
pub struct ProfileClient(pub(crate) Client);

impl ProfileClient {
    /// Reads the signed-in user (profile, email, phone, state).
    ///
    /// # Errors
    /// Not signed in; network and server errors.
    pub async fn get(&self) -> Result<User> {
        let id = self.0.my_id().await?;
        get_user(&self.0, Auth::User, &id).await
    }

    /// Updates given and family name, nickname, display name, preferred
    /// language and gender (only the fields given).
    ///
    /// # Errors
    /// `InvalidInput` for an empty update or an empty or too long value
    /// (checked before any request); not signed in; server errors.
    pub async fn update(&self, update: &ProfileUpdate) -> Result<()> {
        let profile = update.to_json()?;
        let id = self.0.my_id().await?;
        let _: Value = self
            .0
            .api(
                Auth::User,
                Method::PATCH,
                &format!("/v2/users/{id}"),
                Some(json!({"human": {"profile": profile}})),
            )
            .await?;
        Ok(())
    }

    /// Lists the user's metadata.
    ///
    /// # Errors
    /// Not signed in; server errors.
    pub async fn metadata(&self) -> Result<Page<Metadata>> {
        let id = self.0.my_id().await?;
        let v: Value = self
            .0
            .api(
                Auth::User,
                Method::POST,
                &format!("/v2/users/{id}/metadata/search"),
                Some(json!({"pagination": {"offset": "0", "limit": 1000, "asc": true}})),
            )
            .await?;
        let items = v
            .get("metadata")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|m| Metadata {
                        key: s(m, "key"),
                        value: decode_b64_text(&s(m, "value")),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Page {
            items,
            total: total(&v),
        })
    }

    /// Sets one metadata entry.
    ///
    /// # Errors
    /// An empty key or value; not signed in; server errors.
    pub async fn set_metadata(&self, key: &str, value: &str) -> Result<()> {
        if key.trim().is_empty() || value.is_empty() {
            return Err(Error::input("metadata key and value must not be empty"));
        }
        let id = self.0.my_id().await?;
        let value = base64::engine::general_purpose::STANDARD.encode(value.as_bytes());
        let _: Value = self
            .0
            .api(
                Auth::User,
                Method::POST,
                &format!("/v2/users/{id}/metadata"),
                Some(json!({"metadata": [{"key": key, "value": value}]})),
            )
            .await?;
        Ok(())
    }

    /// Removes metadata entries by key.
    ///
    /// # Errors
    /// No key given; not signed in; server errors.
    pub async fn remove_metadata(&self, keys: &[&str]) -> Result<()> {
        if keys.is_empty() || keys.iter().any(|k| k.is_empty()) {
            return Err(Error::input("name at least one non-empty metadata key"));
        }
        let id = self.0.my_id().await?;
        let query: Vec<(&str, &str)> = keys.iter().map(|k| ("keys", *k)).collect();
        let _: Value = self
            .0
            .api_query(
                Auth::User,
                Method::DELETE,
                &format!("/v2/users/{id}/metadata"),
                &query,
                None,
            )
            .await?;
        Ok(())
    }
}

/// GetUserByID with `auth`.
pub(crate) async fn get_user(client: &Client, auth: Auth, id: &str) -> Result<User> {
    let v: Value = client
        .api(auth, Method::GET, &format!("/v2/users/{}", seg(id)?), None)
        .await?;
    let user = v
        .get("user")
        .ok_or_else(|| Error::internal("GetUserByID answered without a user"))?;
    Ok(User::from_json(user))
}

fn decode_b64_text(v: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .decode(v)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_v2_message_decodes_with_missing_zero_values() {
        let u = User::from_json(&json!({
            "userId": "1", "username": "alice", "state": "USER_STATE_ACTIVE",
            "details": {"resourceOwner": "org1"},
            "human": {"profile": {"givenName": "Alice", "familyName": "A", "displayName": "Alice A",
                                  "gender": "GENDER_FEMALE"},
                      "email": {"email": "a@x.example"}}
        }));
        assert_eq!(u.organization_id, "org1");
        assert_eq!(u.gender, Gender::Female);
        assert!(!u.email_verified);
        assert_eq!(u.phone, None);
        assert_eq!(u.nick_name, None);
    }

    #[test]
    fn a_profile_update_is_checked_before_it_is_sent() {
        assert!(ProfileUpdate::default().to_json().is_err());
        let long = ProfileUpdate {
            preferred_language: Some("x".repeat(11)),
            ..Default::default()
        };
        assert!(long.to_json().is_err());
        let ok = ProfileUpdate {
            given_name: Some(" Alicia ".into()),
            gender: Some(Gender::Diverse),
            ..Default::default()
        };
        assert_eq!(
            ok.to_json().unwrap(),
            json!({"givenName": "Alicia", "gender": "GENDER_DIVERSE"})
        );
    }
}
