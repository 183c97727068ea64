//! The signed-in user's ZITADEL sessions (sessions v2 ListSessions and
//! DeleteSession): list them, end one, or end all of them (logout
//! everywhere).

use super::{Page, list_query, opt, s, total};
use crate::Client;
use crate::api::{Auth, seg};
use crate::error::{Error, Result};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One of the user's sessions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSession {
    /// The session id.
    pub id: String,
    /// When it was created (RFC 3339).
    pub created: String,
    /// When it last changed (RFC 3339).
    pub changed: String,
    /// When it expires, if it does (RFC 3339).
    pub expires: Option<String>,
    /// The login name it was checked with.
    pub login_name: Option<String>,
    /// The user agent's description, if the session recorded one.
    pub user_agent: Option<String>,
    /// Whether this is the session of this app's sign-in (the ID token's `sid`).
    pub current: bool,
}

/// What [`SessionsClient::end_all`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndAllResult {
    /// How many sessions were ended on the server.
    pub ended: usize,
}

/// The signed-in user's sessions. From [`Client::sessions`].
#[derive(Clone, Debug)]
pub struct SessionsClient(pub(crate) Client);

impl SessionsClient {
    /// The user's active sessions, newest first (at most 1000).
    ///
    /// # Errors
    /// Not signed in; server errors.
    pub async fn list(&self) -> Result<Page<UserSession>> {
        let info = self
            .0
            .session()
            .await?
            .ok_or(crate::error::ErrorKind::NotSignedIn)?;
        let sid = info
            .claims
            .as_ref()
            .and_then(|c| c.get_str("sid"))
            .map(str::to_owned);
        let v: Value = self
            .0
            .api(
                Auth::User,
                Method::POST,
                "/v2/sessions/search",
                Some(json!({
                    "query": list_query(1000),
                    "queries": [{"userIdQuery": {"id": info.subject}}],
                    "sortingColumn": "SESSION_FIELD_NAME_CREATION_DATE"
                })),
            )
            .await?;
        let items = v
            .get("sessions")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|x| {
                        let id = s(x, "id");
                        UserSession {
                            current: sid.as_deref() == Some(id.as_str()),
                            id,
                            created: s(x, "creationDate"),
                            changed: s(x, "changeDate"),
                            expires: opt(x, "expirationDate"),
                            login_name: x
                                .get("factors")
                                .and_then(|f| f.get("user"))
                                .and_then(|u| opt(u, "loginName")),
                            user_agent: x.get("userAgent").and_then(|u| opt(u, "description")),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Page {
            items,
            total: total(&v),
        })
    }

    /// Ends one session. Ending the current one signs this app out on the
    /// server (its tokens stop working); call [`Client::logout`] after it.
    ///
    /// # Errors
    /// `NotFound` for an unknown or foreign session; server errors.
    pub async fn end(&self, session_id: &str) -> Result<()> {
        let id = seg(session_id)?;
        let _: Value = self
            .0
            .api(
                Auth::User,
                Method::DELETE,
                &format!("/v2/sessions/{id}"),
                Some(json!({})),
            )
            .await?;
        Ok(())
    }

    /// Logout everywhere: ends every other session of the user, then this
    /// app's own, then signs out locally ([`Client::logout`]: revoke and wipe).
    /// The local sign-out happens even when ending a session failed.
    ///
    /// # Errors
    /// The first failure of ending a session (the others were still tried).
    pub async fn end_all(&self) -> Result<EndAllResult> {
        let sessions = self.list().await?.items;
        let (current, others): (Vec<_>, Vec<_>) = sessions.into_iter().partition(|x| x.current);
        let mut ended = 0;
        let mut first_error: Option<Error> = None;
        for x in others.iter().chain(current.iter()) {
            match self.end(&x.id).await {
                Ok(()) => ended += 1,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let logout = self.0.logout().await;
        if let Some(e) = first_error {
            return Err(e);
        }
        logout?;
        Ok(EndAllResult { ended })
    }
}
