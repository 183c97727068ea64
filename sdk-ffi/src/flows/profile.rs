//! The signed-in user's profile and metadata: [`ProfileClient`], from
//! [`ZitadelClient::profile`](crate::ZitadelClient::profile).

use crate::c::calls::{CallFuture, args, done, json, unknown_method};
use crate::client::ZitadelClient;
use crate::error::FfiError;
use crate::runtime::run;
use serde::Deserialize;
use std::sync::Arc;
use zitadel_sdk::flows::profile::{Gender, Metadata, ProfileUpdate, User};

/// Gender in the profile.
#[uniffi::remote(Enum)]
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

/// A ZITADEL user as the user (or a manager) reads it. Personal data: do not log it.
#[uniffi::remote(Record)]
pub struct User {
    /// The user id.
    pub user_id: String,
    /// The user name.
    pub username: String,
    /// The state, e.g. `USER_STATE_ACTIVE`.
    pub state: String,
    /// The preferred login name.
    pub preferred_login_name: String,
    /// The id of the user's organization.
    pub organization_id: String,
    /// Given name (humans).
    pub given_name: String,
    /// Family name (humans).
    pub family_name: String,
    /// Nickname.
    pub nick_name: Option<String>,
    /// Display name (the name of a machine user).
    pub display_name: String,
    /// Preferred language tag.
    pub preferred_language: Option<String>,
    /// Gender.
    pub gender: Gender,
    /// Email address.
    pub email: Option<String>,
    /// Whether the email address is verified.
    pub email_verified: bool,
    /// Phone number.
    pub phone: Option<String>,
    /// Whether the phone number is verified.
    pub phone_verified: bool,
    /// Whether this is a machine (service) user.
    pub machine: bool,
}

/// Changes to the profile; fields left `null` stay as they are.
#[uniffi::remote(Record)]
pub struct ProfileUpdate {
    /// New given name.
    #[uniffi(default = None)]
    pub given_name: Option<String>,
    /// New family name.
    #[uniffi(default = None)]
    pub family_name: Option<String>,
    /// New nickname.
    #[uniffi(default = None)]
    pub nick_name: Option<String>,
    /// New display name.
    #[uniffi(default = None)]
    pub display_name: Option<String>,
    /// New preferred language (a language tag such as `de` or `en-US`).
    #[uniffi(default = None)]
    pub preferred_language: Option<String>,
    /// New gender.
    #[uniffi(default = None)]
    pub gender: Option<Gender>,
}

/// One metadata entry of a user.
#[uniffi::remote(Record)]
pub struct Metadata {
    /// The key.
    pub key: String,
    /// The value (UTF-8 text where it is text).
    pub value: String,
}

/// The signed-in user's profile and metadata.
#[derive(Debug, uniffi::Object)]
pub struct ProfileClient {
    core: zitadel_sdk::Client,
}

#[uniffi::export]
impl ZitadelClient {
    /// The signed-in user's profile and metadata.
    pub fn profile(&self) -> Arc<ProfileClient> {
        Arc::new(ProfileClient {
            core: self.core.clone(),
        })
    }
}

#[uniffi::export]
impl ProfileClient {
    /// Reads the signed-in user (profile, email, phone, state).
    ///
    /// # Errors
    /// `NotSignedIn`; network and server errors.
    pub async fn get(&self) -> Result<User, FfiError> {
        let c = self.core.clone();
        run(None, async move { c.profile().get().await }).await
    }

    /// Updates the fields given in `update`.
    ///
    /// # Errors
    /// `InvalidInput` for an empty update or an empty or too long value
    /// (checked before any request); `NotSignedIn`; server errors.
    pub async fn update(&self, update: ProfileUpdate) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move { c.profile().update(&update).await }).await
    }

    /// The user's metadata.
    ///
    /// # Errors
    /// `NotSignedIn`; server errors.
    pub async fn metadata(&self) -> Result<Vec<Metadata>, FfiError> {
        let c = self.core.clone();
        run(None, async move {
            c.profile().metadata().await.map(|p| p.items)
        })
        .await
    }

    /// Sets one metadata entry.
    ///
    /// # Errors
    /// `InvalidInput` for an empty key or value; `NotSignedIn`; server errors.
    pub async fn set_metadata(&self, key: String, value: String) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(
            None,
            async move { c.profile().set_metadata(&key, &value).await },
        )
        .await
    }

    /// Removes metadata entries by key.
    ///
    /// # Errors
    /// `InvalidInput` without a key; `NotSignedIn`; server errors.
    pub async fn remove_metadata(&self, keys: Vec<String>) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            c.profile().remove_metadata(&keys).await
        })
        .await
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyValue {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Keys {
    keys: Vec<String>,
}

/// The C calls `profile.*`: `get` → the user; `update` (a [`ProfileUpdate`]
/// object); `metadata` → `[{"key","value"}]`; `set_metadata` `{"key","value"}`;
/// `remove_metadata` `{"keys":[...]}`.
pub(crate) fn c_call(
    core: zitadel_sdk::Client,
    name: &str,
    a: serde_json::Value,
) -> Result<CallFuture, FfiError> {
    let p = core.profile();
    Ok(match name {
        "get" => Box::pin(async move { json(p.get().await?) }),
        "update" => {
            let u: ProfileUpdate = args(a)?;
            Box::pin(async move { done(p.update(&u).await?) })
        }
        "metadata" => Box::pin(async move { json(p.metadata().await?.items) }),
        "set_metadata" => {
            let kv: KeyValue = args(a)?;
            Box::pin(async move { done(p.set_metadata(&kv.key, &kv.value).await?) })
        }
        "remove_metadata" => {
            let k: Keys = args(a)?;
            Box::pin(async move {
                let keys: Vec<&str> = k.keys.iter().map(String::as_str).collect();
                done(p.remove_metadata(&keys).await?)
            })
        }
        _ => return Err(unknown_method("profile", name)),
    })
}
