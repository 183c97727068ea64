//! Who may do what: user grants (project roles, management v1), org
//! members (managers with `ORG_*` roles, management v1) and new
//! organizations (org v2).

use super::{ManagerClient, id_of, items, strings};
use crate::api::seg;
use crate::error::{Error, Result};
use crate::flows::{Page, s, total};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A user grant: project roles of one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserGrant {
    /// The grant's id.
    pub id: String,
    /// The user.
    pub user_id: String,
    /// The project.
    pub project_id: String,
    /// The granted role keys.
    pub role_keys: Vec<String>,
    /// `USER_GRANT_STATE_ACTIVE` or `USER_GRANT_STATE_INACTIVE`.
    pub state: String,
}

impl UserGrant {
    fn from_json(v: &Value) -> Self {
        UserGrant {
            id: s(v, "id"),
            user_id: s(v, "userId"),
            project_id: s(v, "projectId"),
            role_keys: strings(v, "roleKeys"),
            state: s(v, "state"),
        }
    }
}

/// A member (manager) of the organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member's user id.
    pub user_id: String,
    /// The member roles (`ORG_OWNER`, `ORG_USER_MANAGER`, ...).
    pub roles: Vec<String>,
    /// The preferred login name.
    pub preferred_login_name: String,
    /// The display name.
    pub display_name: String,
}

impl Member {
    fn from_json(v: &Value) -> Self {
        Member {
            user_id: s(v, "userId"),
            roles: strings(v, "roles"),
            preferred_login_name: s(v, "preferredLoginName"),
            display_name: s(v, "displayName"),
        }
    }
}

/// Role keys: at least one, none empty.
fn check_roles(roles: &[&str]) -> Result<Vec<String>> {
    if roles.is_empty() || roles.iter().any(|r| r.trim().is_empty() || r.len() > 200) {
        return Err(Error::input("name at least one role, none empty"));
    }
    Ok(roles.iter().map(|r| r.trim().to_owned()).collect())
}

/// Member roles: `ORG_*` only (the org's manager roles).
fn check_member_roles(roles: &[&str]) -> Result<Vec<String>> {
    let roles = check_roles(roles)?;
    if let Some(r) = roles.iter().find(|r| !r.starts_with("ORG_")) {
        return Err(Error::input(format!(
            "{r} is not an organization role (ORG_OWNER, ORG_USER_MANAGER, ...)"
        )));
    }
    Ok(roles)
}

impl ManagerClient {
    /// Grants a user roles of a project; returns the grant's id.
    ///
    /// # Errors
    /// `InvalidInput` without roles; `AlreadyExists` when the user has a
    /// grant on the project; `FailedPrecondition` for a role the project
    /// lacks; `PermissionDenied`.
    pub async fn add_grant(
        &self,
        user_id: &str,
        project_id: &str,
        roles: &[&str],
    ) -> Result<String> {
        let roles = check_roles(roles)?;
        if project_id.trim().is_empty() {
            return Err(Error::input("the project id is empty"));
        }
        let v = self
            .v1(
                Method::POST,
                &format!("/users/{}/grants", seg(user_id)?),
                Some(json!({"projectId": project_id.trim(), "roleKeys": roles})),
            )
            .await?;
        id_of(&v, "userGrantId")
    }

    /// Replaces the roles of a grant.
    ///
    /// # Errors
    /// `InvalidInput` without roles; `NotFound`; `PermissionDenied`.
    pub async fn change_grant(&self, user_id: &str, grant_id: &str, roles: &[&str]) -> Result<()> {
        let roles = check_roles(roles)?;
        let path = format!("/users/{}/grants/{}", seg(user_id)?, seg(grant_id)?);
        self.v1(Method::PUT, &path, Some(json!({"roleKeys": roles})))
            .await
            .map(drop)
    }

    /// Revokes a grant.
    ///
    /// # Errors
    /// `NotFound`; `PermissionDenied`.
    pub async fn remove_grant(&self, user_id: &str, grant_id: &str) -> Result<()> {
        let path = format!("/users/{}/grants/{}", seg(user_id)?, seg(grant_id)?);
        self.v1(Method::DELETE, &path, None).await.map(drop)
    }

    /// The grants of the org's users, of one user when `user_id` is given.
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn grants(&self, user_id: Option<&str>) -> Result<Page<UserGrant>> {
        let queries = user_id.map(|u| json!([{"userIdQuery": {"userId": u}}]));
        let v = self.v1_search("/users/grants/_search", queries).await?;
        Ok(Page {
            items: items(&v, "result", UserGrant::from_json),
            total: total(&v),
        })
    }

    /// Makes a user a manager of the org with `ORG_*` roles.
    ///
    /// # Errors
    /// `InvalidInput` for no or non-`ORG_*` roles; `AlreadyExists`;
    /// `FailedPrecondition` for an unknown user; `PermissionDenied`.
    pub async fn add_member(&self, user_id: &str, roles: &[&str]) -> Result<()> {
        let roles = check_member_roles(roles)?;
        seg(user_id)?;
        self.v1(
            Method::POST,
            "/orgs/me/members",
            Some(json!({"userId": user_id, "roles": roles})),
        )
        .await
        .map(drop)
    }

    /// Replaces a member's roles.
    ///
    /// # Errors
    /// `InvalidInput`; `NotFound` when the user is no member; `PermissionDenied`.
    pub async fn change_member(&self, user_id: &str, roles: &[&str]) -> Result<()> {
        let roles = check_member_roles(roles)?;
        let path = format!("/orgs/me/members/{}", seg(user_id)?);
        self.v1(Method::PUT, &path, Some(json!({"roles": roles})))
            .await
            .map(drop)
    }

    /// Removes a member (succeeds when the user is none).
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn remove_member(&self, user_id: &str) -> Result<()> {
        let path = format!("/orgs/me/members/{}", seg(user_id)?);
        self.v1(Method::DELETE, &path, None).await.map(drop)
    }

    /// The org's members.
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn members(&self) -> Result<Page<Member>> {
        let v = self.v1_search("/orgs/me/members/_search", None).await?;
        Ok(Page {
            items: items(&v, "result", Member::from_json),
            total: total(&v),
        })
    }

    /// Creates an organization with existing users as its owners
    /// (`ORG_OWNER`); returns its id. Needs `org.create` (instance roles
    /// such as `IAM_OWNER`; an `ORG_OWNER` may not).
    ///
    /// # Errors
    /// `InvalidInput` for an empty or too long name; `AlreadyExists`;
    /// `PermissionDenied`.
    pub async fn create_organization(&self, name: &str, owner_ids: &[&str]) -> Result<String> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(Error::input(
                "the organization name must have 1 to 200 characters",
            ));
        }
        let admins: Vec<Value> = owner_ids
            .iter()
            .map(|id| seg(id).map(|_| json!({"userId": id})))
            .collect::<Result<_>>()?;
        let v = self
            .call(
                Method::POST,
                "/v2/organizations",
                Some(json!({"name": name, "admins": admins})),
            )
            .await?;
        id_of(&v, "organizationId")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_roles_must_be_org_roles_and_grants_need_a_role() {
        assert!(check_member_roles(&["ORG_OWNER"]).is_ok());
        assert!(check_member_roles(&["IAM_OWNER"]).is_err());
        assert!(check_member_roles(&[]).is_err());
        assert!(check_roles(&["admin", " "]).is_err());
    }
}
