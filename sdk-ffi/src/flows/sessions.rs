//! The signed-in user's ZITADEL sessions: [`SessionsClient`], from
//! [`ZitadelClient::sessions`](crate::ZitadelClient::sessions) — list, end
//! one, end all (logout everywhere).

use crate::c::calls::{CallFuture, args, done, json, unknown_method};
use crate::client::ZitadelClient;
use crate::error::FfiError;
use crate::runtime::run;
use serde::Deserialize;
use std::sync::Arc;
use zitadel_sdk::flows::sessions::UserSession;

/// One of the user's sessions.
#[uniffi::remote(Record)]
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
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EndAllResult {
    /// How many sessions were ended on the server.
    pub ended: u64,
}

impl From<zitadel_sdk::flows::sessions::EndAllResult> for EndAllResult {
    fn from(r: zitadel_sdk::flows::sessions::EndAllResult) -> Self {
        EndAllResult {
            ended: r.ended as u64,
        }
    }
}

/// The signed-in user's sessions.
#[derive(Debug, uniffi::Object)]
pub struct SessionsClient {
    core: zitadel_sdk::Client,
}

#[uniffi::export]
impl ZitadelClient {
    /// The signed-in user's sessions: list, end one, end all.
    pub fn sessions(&self) -> Arc<SessionsClient> {
        Arc::new(SessionsClient {
            core: self.core.clone(),
        })
    }
}

#[uniffi::export]
impl SessionsClient {
    /// The user's active sessions, newest first (at most 1000); the one of
    /// this app's sign-in has `current` set.
    ///
    /// # Errors
    /// `NotSignedIn`; server errors.
    pub async fn list(&self) -> Result<Vec<UserSession>, FfiError> {
        let c = self.core.clone();
        run(
            None,
            async move { c.sessions().list().await.map(|p| p.items) },
        )
        .await
    }

    /// Ends one session. Ending the current one signs this app out on the
    /// server (its tokens stop working); call `logout` after it.
    ///
    /// # Errors
    /// `NotFound` for an unknown or foreign session; server errors.
    pub async fn end(&self, session_id: String) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move { c.sessions().end(&session_id).await }).await
    }

    /// Logout everywhere: ends every other session of the user, then this
    /// app's own, then signs out locally (revoke and wipe) — the local
    /// sign-out happens even when ending a session failed.
    ///
    /// # Errors
    /// The first failure of ending a session (the others were still tried).
    pub async fn end_all(&self) -> Result<EndAllResult, FfiError> {
        let c = self.core.clone();
        run(None, async move { c.sessions().end_all().await })
            .await
            .map(EndAllResult::from)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdArg {
    id: String,
}

/// The C calls `sessions.*`: `list` → `[{"id","created","changed","expires",
/// "login_name","user_agent","current"}]`; `end` `{"id"}`; `end_all` →
/// `{"ended": N}` (and signs out locally).
pub(crate) fn c_call(
    core: zitadel_sdk::Client,
    name: &str,
    a: serde_json::Value,
) -> Result<CallFuture, FfiError> {
    let s = core.sessions();
    Ok(match name {
        "list" => Box::pin(async move { json(s.list().await?.items) }),
        "end" => {
            let i: IdArg = args(a)?;
            Box::pin(async move { done(s.end(&i.id).await?) })
        }
        "end_all" => Box::pin(async move { json(s.end_all().await?) }),
        _ => return Err(unknown_method("sessions", name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bad_session_arguments_are_invalid_input() {
        let Ok(core) = zitadel_sdk::Client::builder("http://127.0.0.1:9", "app").build() else {
            panic!("a loopback client builds");
        };
        for (m, a) in [
            ("end", json!({})),
            ("end", json!({"id": 1})),
            ("end", json!({"session_id": "s"})),
            ("nope", json!({})),
        ] {
            let e = c_call(core.clone(), m, a).err();
            assert_eq!(e.map(|e| e.code()), Some(3), "{m}");
        }
    }

    #[test]
    fn the_end_all_count_crosses_as_u64() {
        let r = EndAllResult::from(zitadel_sdk::flows::sessions::EndAllResult { ended: 3 });
        assert_eq!(r, EndAllResult { ended: 3 });
    }
}
