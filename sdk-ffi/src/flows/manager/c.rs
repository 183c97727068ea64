//! The C calls `manager.*`.

use super::ServiceCredential;
use crate::c::calls::{CallFuture, json, object_get, object_put, unknown_method};
use crate::error::FfiError;
use crate::flows::registration::CodeDeliveryArg;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use zitadel_sdk::manager as core;

/// The arguments object of a call, taken field by field; fields left over
/// are refused.
struct Args(Map<String, Value>);

impl Args {
    fn new(a: Value) -> Result<Self, FfiError> {
        match a {
            Value::Object(m) => Ok(Args(m)),
            Value::Null => Ok(Args(Map::new())),
            _ => Err(FfiError::invalid_input(
                "the arguments must be a JSON object",
            )),
        }
    }

    /// An optional field.
    fn opt<T: DeserializeOwned>(&mut self, key: &str) -> Result<Option<T>, FfiError> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v).map(Some).map_err(|e| {
                FfiError::invalid_input(format!("the argument {key} does not fit the method: {e}"))
            }),
        }
    }

    /// A required field.
    fn req<T: DeserializeOwned>(&mut self, key: &str) -> Result<T, FfiError> {
        self.opt(key)?
            .ok_or_else(|| FfiError::invalid_input(format!("the argument {key} is missing")))
    }

    /// A required object with defaults for the keys it leaves out.
    fn obj<T: DeserializeOwned>(
        &mut self,
        key: &str,
        defaults: &[(&str, Value)],
    ) -> Result<T, FfiError> {
        let mut v: Value = self.req(key)?;
        with_defaults(&mut v, defaults);
        serde_json::from_value(v).map_err(|e| {
            FfiError::invalid_input(format!("the argument {key} does not fit the method: {e}"))
        })
    }

    /// The remaining fields as one object (for calls that take a whole record).
    fn rest<T: DeserializeOwned>(self, defaults: &[(&str, Value)]) -> Result<T, FfiError> {
        let mut v = Value::Object(self.0);
        with_defaults(&mut v, defaults);
        serde_json::from_value(v).map_err(|e| {
            FfiError::invalid_input(format!("the arguments do not fit the method: {e}"))
        })
    }

    /// Refuses fields the method does not know.
    fn end(self) -> Result<(), FfiError> {
        match self.0.keys().next() {
            None => Ok(()),
            Some(k) => Err(FfiError::invalid_input(format!("unknown argument {k}"))),
        }
    }
}

fn with_defaults(v: &mut Value, defaults: &[(&str, Value)]) {
    if let Value::Object(m) = v {
        for (k, d) in defaults {
            m.entry(*k).or_insert_with(|| d.clone());
        }
    }
}

/// The manager a call acts as: the signed-in user, or the service account
/// of the `"service_account"` handle; on the `"org_id"` org when given.
fn manager(core: &zitadel_sdk::Client, a: &mut Args) -> Result<core::ManagerClient, FfiError> {
    let base = match a.opt::<u64>("service_account")? {
        Some(h) => object_get::<core::ServiceAccount>(&serde_json::json!({"handle": h}))?.manager(),
        None => core.manager(),
    };
    Ok(match a.opt::<String>("org_id")? {
        Some(org) => base.in_org(org),
        None => base,
    })
}

/// `&str` views of owned strings.
fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Runs a call whose arguments are all parsed: `$body` is a future of a
/// core result, turned into JSON by `$out`.
macro_rules! go {
    ($a:ident, $body:expr) => {{
        $a.end()?;
        Box::pin(async move { json($body.await?) })
    }};
}

/// The C calls `manager.*`. Every call takes the optional `"service_account"`
/// (a handle from `manager.service_account`: act as that service user) and
/// `"org_id"` (act on that organization); the other arguments are named
/// after sdk-core's parameters, their objects after its `serde` types:
/// - `service_account` `{"credential": {"pat":{"token"}} | {"client_credentials":
///   {"username","secret"}} | {"key_file":{"key_file_json"}}}` → `{"handle"}`;
///   `service_account_token` `{"handle"}` → the access token;
/// - users: `search_users` `{"search": {"username"?,"email"?,"login_name"?,
///   "display_name"?,"state"?,"offset"?,"limit"?}}` → `{"items","total"}`;
///   `user` `{"user_id"}`; `create_human` `{"user": {...}, "delivery"?}` →
///   `{"user_id","email_code"}`; `create_machine` `{"user": {"username","name",
///   "description"?}}` → id; `lock_user`, `unlock_user`, `deactivate_user`,
///   `reactivate_user`, `delete_user`, `resend_invite`, `auth_methods`,
///   `security_keys`, `add_machine_secret` `{"user_id"}`; `invite_user`
///   `{"user_id","delivery"?}` → code or null; `remove_second_factor`
///   `{"user_id","factor": "totp"|"otp_sms"|"otp_email"|{"u2f":"<id>"}}`;
///   `add_machine_pat`, `add_machine_key` `{"user_id","expiration"}` →
///   `{"token_id","token"}` / `{"key_id","user_id","key_file_json"}`;
/// - `add_grant` `{"user_id","project_id","roles"}` → id; `change_grant`
///   `{"user_id","grant_id","roles"}`; `remove_grant` `{"user_id","grant_id"}`;
///   `grants` `{"user_id"?}`; `add_member`, `change_member` `{"user_id","roles"}`;
///   `remove_member` `{"user_id"}`; `members`; `create_organization`
///   `{"name","owner_ids"}` → id;
/// - `add_idp` `{"idp": {"generic_oidc"|"google"|"github"|"azure_ad"|"apple": {...}},
///   "options"?}` → id; `idps`; `remove_idp`, `activate_idp`, `deactivate_idp`
///   `{"idp_id"}`;
/// - `login_policy`; `set_login_policy` (the changed fields) → the policy;
///   `password_complexity_policy`; `set_password_complexity_policy` (the
///   policy); `lockout_policy`; `set_lockout_policy` (the policy).
pub(crate) fn c_call(
    client: zitadel_sdk::Client,
    name: &str,
    a: Value,
) -> Result<CallFuture, FfiError> {
    let mut a = Args::new(a)?;
    if name == "service_account" {
        let credential: ServiceCredential = a.req("credential")?;
        a.end()?;
        let sa = client.service_account(credential.try_into()?);
        let handle = object_put(sa)?;
        return Ok(Box::pin(async move {
            json(serde_json::json!({"handle": handle}))
        }));
    }
    if name == "service_account_token" {
        let h: u64 = a.req("handle")?;
        a.end()?;
        let sa = object_get::<core::ServiceAccount>(&serde_json::json!({"handle": h}))?;
        return Ok(Box::pin(
            async move { json(sa.access_token().await?.expose()) },
        ));
    }
    let m = manager(&client, &mut a)?;
    let user_ops = [
        "lock_user",
        "unlock_user",
        "deactivate_user",
        "reactivate_user",
        "delete_user",
        "resend_invite",
    ];
    Ok(match name {
        "search_users" => {
            let s: core::UserSearch =
                a.obj("search", &[("offset", 0.into()), ("limit", 0.into())])?;
            go!(a, m.search_users(&s))
        }
        "user" => {
            let id: String = a.req("user_id")?;
            go!(a, m.user(&id))
        }
        "create_human" => {
            let u: core::NewHuman = a.obj(
                "user",
                &[
                    ("email_verified", false.into()),
                    ("password_change_required", false.into()),
                ],
            )?;
            let d: zitadel_sdk::flows::verification::CodeDelivery = a
                .opt::<CodeDeliveryArg>("delivery")?
                .unwrap_or_default()
                .into();
            go!(a, m.create_human(&u, &d))
        }
        "create_machine" => {
            let u: core::NewMachine = a.obj("user", &[("description", Value::Null)])?;
            go!(a, m.create_machine(&u))
        }
        op if user_ops.contains(&op) => {
            let id: String = a.req("user_id")?;
            let op = op.to_owned();
            go!(a, async move {
                match op.as_str() {
                    "lock_user" => m.lock_user(&id).await,
                    "unlock_user" => m.unlock_user(&id).await,
                    "deactivate_user" => m.deactivate_user(&id).await,
                    "reactivate_user" => m.reactivate_user(&id).await,
                    "delete_user" => m.delete_user(&id).await,
                    _ => m.resend_invite(&id).await,
                }
            })
        }
        "invite_user" => {
            let id: String = a.req("user_id")?;
            let d: zitadel_sdk::flows::verification::CodeDelivery = a
                .opt::<CodeDeliveryArg>("delivery")?
                .unwrap_or_default()
                .into();
            go!(a, m.invite_user(&id, &d))
        }
        "auth_methods" => {
            let id: String = a.req("user_id")?;
            go!(a, m.auth_methods(&id))
        }
        "security_keys" => {
            let id: String = a.req("user_id")?;
            go!(a, m.security_keys(&id))
        }
        "remove_second_factor" => {
            let id: String = a.req("user_id")?;
            let f: core::SecondFactor = a.req("factor")?;
            go!(a, m.remove_second_factor(&id, &f))
        }
        "add_machine_secret" => {
            let id: String = a.req("user_id")?;
            go!(a, m.add_machine_secret(&id))
        }
        "add_machine_pat" => {
            let id: String = a.req("user_id")?;
            let exp: String = a.req("expiration")?;
            go!(a, m.add_machine_pat(&id, &exp))
        }
        "add_machine_key" => {
            let id: String = a.req("user_id")?;
            let exp: String = a.req("expiration")?;
            go!(a, async move {
                m.add_machine_key(&id, &exp)
                    .await
                    .map(super::users::MachineKey::from)
            })
        }
        "add_grant" => {
            let (u, p, r): (String, String, Vec<String>) =
                (a.req("user_id")?, a.req("project_id")?, a.req("roles")?);
            go!(a, async move { m.add_grant(&u, &p, &strs(&r)).await })
        }
        "change_grant" => {
            let (u, g, r): (String, String, Vec<String>) =
                (a.req("user_id")?, a.req("grant_id")?, a.req("roles")?);
            go!(a, async move { m.change_grant(&u, &g, &strs(&r)).await })
        }
        "remove_grant" => {
            let (u, g): (String, String) = (a.req("user_id")?, a.req("grant_id")?);
            go!(a, m.remove_grant(&u, &g))
        }
        "grants" => {
            let u: Option<String> = a.opt("user_id")?;
            go!(a, m.grants(u.as_deref()))
        }
        "add_member" | "change_member" => {
            let (u, r): (String, Vec<String>) = (a.req("user_id")?, a.req("roles")?);
            let change = name == "change_member";
            go!(a, async move {
                if change {
                    m.change_member(&u, &strs(&r)).await
                } else {
                    m.add_member(&u, &strs(&r)).await
                }
            })
        }
        "remove_member" => {
            let u: String = a.req("user_id")?;
            go!(a, m.remove_member(&u))
        }
        "members" => go!(a, m.members()),
        "create_organization" => {
            let (n, o): (String, Vec<String>) = (a.req("name")?, a.req("owner_ids")?);
            go!(a, async move { m.create_organization(&n, &strs(&o)).await })
        }
        "add_idp" => {
            let idp: super::org::NewIdp = a.req("idp")?;
            let options: core::IdpOptions = a.opt("options")?.unwrap_or_default();
            let idp = core::NewIdp::from(idp);
            go!(a, m.add_idp(&idp, &options))
        }
        "idps" => go!(a, m.idps()),
        "remove_idp" | "activate_idp" | "deactivate_idp" => {
            let id: String = a.req("idp_id")?;
            let op = name.to_owned();
            go!(a, async move {
                match op.as_str() {
                    "remove_idp" => m.remove_idp(&id).await,
                    "activate_idp" => m.activate_idp(&id).await,
                    _ => m.deactivate_idp(&id).await,
                }
            })
        }
        "login_policy" => go!(a, m.login_policy()),
        "set_login_policy" => {
            let u: core::LoginPolicyUpdate = a.rest(&[])?;
            Box::pin(async move { json(m.set_login_policy(&u).await?) })
        }
        "password_complexity_policy" => go!(a, m.password_complexity_policy()),
        "set_password_complexity_policy" => {
            let p: zitadel_sdk::flows::settings::PasswordPolicy = a.rest(&[])?;
            Box::pin(async move { json(m.set_password_complexity_policy(&p).await?) })
        }
        "lockout_policy" => go!(a, m.lockout_policy()),
        "set_lockout_policy" => {
            let p: core::LockoutPolicy = a.rest(&[])?;
            Box::pin(async move { json(m.set_lockout_policy(&p).await?) })
        }
        _ => return Err(unknown_method("manager", name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn client() -> zitadel_sdk::Client {
        match zitadel_sdk::Client::builder("http://127.0.0.1:9", "app").build() {
            Ok(c) => c,
            Err(e) => panic!("a loopback client builds: {e}"),
        }
    }

    fn code(name: &str, a: Value) -> Option<u16> {
        c_call(client(), name, a).err().map(|e| e.code())
    }

    #[test]
    fn manager_arguments_are_checked_before_any_request() {
        // Missing, mistyped and unknown arguments are InvalidInput (3).
        assert_eq!(code("lock_user", json!({})), Some(3));
        assert_eq!(code("lock_user", json!({"user_id": 7})), Some(3));
        assert_eq!(
            code("lock_user", json!({"user_id": "u", "extra": 1})),
            Some(3)
        );
        assert_eq!(
            code("add_grant", json!({"user_id": "u", "project_id": "p"})),
            Some(3)
        );
        assert_eq!(
            code(
                "remove_second_factor",
                json!({"user_id": "u", "factor": "sms"})
            ),
            Some(3)
        );
        assert_eq!(code("add_idp", json!({"idp": {"gitlab": {}}})), Some(3));
        assert_eq!(code("nope", json!({})), Some(3));
        assert_eq!(code("members", json!([1])), Some(3));
        // A well-formed call is built (it would run on the runtime).
        assert_eq!(
            code("lock_user", json!({"user_id": "u", "org_id": "o"})),
            None
        );
        assert_eq!(
            code("search_users", json!({"search": {"email": "acme"}})),
            None
        );
        assert_eq!(
            code(
                "create_human",
                json!({"user": {"given_name": "A", "family_name": "B",
                "email": "a@b.c"}, "delivery": "return"})
            ),
            None
        );
        assert_eq!(
            code(
                "remove_second_factor",
                json!({"user_id": "u", "factor": {"u2f": "k1"}})
            ),
            None
        );
        assert_eq!(
            code(
                "add_idp",
                json!({"idp": {"github": {"name": "GH", "client_id": "c",
                "client_secret": "s"}}})
            ),
            None
        );
        assert_eq!(
            code(
                "set_lockout_policy",
                json!({"max_password_attempts": 3,
            "max_otp_attempts": 0})
            ),
            None
        );
    }

    #[test]
    fn a_service_account_is_a_handle_that_manager_calls_act_as() {
        let r = c_call(
            client(),
            "service_account",
            json!({"credential": {"pat": {"token": "t"}}}),
        );
        assert!(r.is_ok());
        let bad_key = json!({"credential": {"key_file": {"key_file_json": "{}"}}});
        assert_eq!(code("service_account", bad_key), Some(3));
        // A handle never issued (or of another flow) is refused.
        assert_eq!(
            code("members", json!({"service_account": 999_999})),
            Some(3)
        );
        assert_eq!(
            code("service_account_token", json!({"handle": 999_999})),
            Some(3)
        );
    }
}
