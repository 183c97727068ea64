//! Managers: user administration, roles, org members, identity providers,
//! policies and organizations — for a signed-in user whose token carries
//! manager roles ([`Client::manager`]) or for a service user
//! ([`Client::service_account`], then [`ServiceAccount::manager`]).
//!
//! Users, invite codes, second factors and service-user credentials use
//! ZITADEL's users v2 API; user grants, members, org IdPs and policies the
//! management v1 API (its writes have no REST v2 form), acting on the
//! caller's organization unless [`ManagerClient::in_org`] names another.
//! A caller without the permission gets
//! [`crate::ErrorCode::PermissionDenied`].

mod access;
mod idps;
mod policies;
mod service;
mod users;

pub use access::{Member, UserGrant};
pub use idps::{Idp, IdpOptions, NewIdp};
pub use policies::{LockoutPolicy, LoginPolicy, LoginPolicyUpdate};
pub use service::{ServiceAccount, ServiceCredential, ServiceKey};
pub use users::{
    CreatedUser, MachineKey, MachinePat, NewHuman, NewMachine, SecondFactor, UserSearch, UserState,
};

use crate::api::Auth;
use crate::error::Result;
use crate::{Client, ErrorCode};
use reqwest::Method;
use serde_json::Value;

/// Manager operations. From [`Client::manager`] (the signed-in user's
/// token) or [`ServiceAccount::manager`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ManagerClient {
    client: Client,
    service: Option<ServiceAccount>,
    org: Option<String>,
}

impl Client {
    /// Manager operations with the signed-in user's token (which must
    /// carry manager roles such as `ORG_OWNER` or `ORG_USER_MANAGER`).
    pub fn manager(&self) -> ManagerClient {
        ManagerClient::new(self.clone(), None)
    }
}

impl ManagerClient {
    fn new(client: Client, service: Option<ServiceAccount>) -> Self {
        ManagerClient {
            client,
            service,
            org: None,
        }
    }

    /// Acts on the organization `org_id` instead of the caller's own (the
    /// `x-zitadel-orgid` header of management v1, the organization of new
    /// users). The caller needs the rights there.
    pub fn in_org(mut self, org_id: impl Into<String>) -> Self {
        self.org = Some(org_id.into());
        self
    }

    /// The credential of a call.
    async fn auth(&self) -> Result<Auth> {
        Ok(match &self.service {
            Some(sa) => Auth::Bearer(sa.access_token().await?),
            None => Auth::User,
        })
    }

    /// A users v2 / org v2 call.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        self.send(method, path, &[], false, body).await
    }

    /// A management v1 call on the chosen org.
    async fn v1(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        self.send(method, &format!("/management/v1{path}"), &[], true, body)
            .await
    }

    /// A management v1 `_search`: at most 1000 items, oldest first,
    /// matching `queries` when given.
    async fn v1_search(&self, path: &str, queries: Option<Value>) -> Result<Value> {
        let mut body = serde_json::json!({"query": {"offset": "0", "limit": 1000, "asc": true}});
        if let Some(q) = queries {
            body["queries"] = q;
        }
        self.v1(Method::POST, path, Some(body)).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        org_header: bool,
        body: Option<Value>,
    ) -> Result<Value> {
        let headers: Vec<(&'static str, String)> = match (&self.org, org_header) {
            (Some(org), true) => vec![("x-zitadel-orgid", org.clone())],
            _ => Vec::new(),
        };
        let auth = self.auth().await?;
        let r = self
            .client
            .api_with(auth, method, path, query, &headers, body)
            .await;
        if let (Err(e), Some(sa)) = (&r, &self.service)
            && e.code() == ErrorCode::NotSignedIn
        {
            sa.forget_token().await;
        }
        r
    }

    /// The organization new users go to: the chosen one, else the caller's.
    async fn org_id(&self) -> Result<String> {
        if let Some(org) = &self.org {
            return Ok(org.clone());
        }
        let me = self
            .send(Method::GET, "/auth/v1/users/me", &[], false, None)
            .await?;
        me.get("user")
            .and_then(|u| u.get("details"))
            .and_then(|d| d.get("resourceOwner"))
            .and_then(Value::as_str)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| crate::Error::internal("GetMyUser answered without an org"))
    }
}

/// The non-empty string under `key` (an id the server must return).
fn id_of(v: &Value, key: &str) -> Result<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| crate::Error::internal(format!("the answer has no {key}")))
}

/// The items of a list answer's `key` array (missing → empty).
fn items<T>(v: &Value, key: &str, f: impl Fn(&Value) -> T) -> Vec<T> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().map(f).collect())
        .unwrap_or_default()
}

/// A list of strings under `key`.
fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
