//! Login with an external IdP from the hosted login (the built-in test IdP):
//! an IdP intent whose success URL is this login; a linked user is signed
//! in, an unknown one is registered with the IdP's profile (when the IdP and
//! the login policy allow it) and linked.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{BASE, Ctx, Flow, after_password, check_csrf, create_session, query, see_other};
use crate::api::idp::{LinkInput, succeeded_intent};
use crate::api::user_write::{NewHuman, Profile, SetEmail, add_human};
use crate::model::{IdpIntent, IntentState};
use crate::server::AppState;
use crate::util::{encode_query, form_get, now, parse_form};

pub(super) async fn idp_start(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let mut model = shared.lock();
    let flow = Flow::resolve(&model, form_get(&form, "requestId").unwrap_or_default());
    let ctx = Ctx::new(&shared, &model, &headers, flow.as_ref(), &[]);
    if let Some(resp) = check_csrf(&shared, &ctx, &form) {
        return resp;
    }
    let Some(flow) = flow else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid");
    };
    let idp_id = form_get(&form, "idpId").unwrap_or_default().to_owned();
    if !ctx.idp_buttons.iter().any(|(id, _)| *id == idp_id) {
        return ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid");
    }
    let rid = flow.request_id();
    let back = |path: &str| {
        shared.url(&format!(
            "{BASE}/{path}?{}",
            encode_query(&[("requestId", &rid)])
        ))
    };
    let id = model.ids.next();
    model.idp_intents.insert(
        id.clone(),
        IdpIntent {
            id: id.clone(),
            idp_id,
            success_url: back("idp/success"),
            failure_url: back("idp/failure"),
            created: now(),
            state: IntentState::Started,
            callback_code: None,
        },
    );
    see_other(&format!(
        "/_emulator/test-idp/authorize?{}",
        encode_query(&[("state", &id)])
    ))
}

pub(super) async fn idp_success(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query(q);
    let mut model = shared.lock();
    let flow = Flow::resolve(&model, form_get(&q, "requestId").unwrap_or_default());
    let ctx = Ctx::new(&shared, &model, &headers, flow.as_ref(), &[]);
    let Some(flow) = flow else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid");
    };
    // The intent id and token in the URL are the proof; a GET cannot carry a CSRF token.
    let (intent_id, token) = (
        form_get(&q, "id").unwrap_or_default(),
        form_get(&q, "token").unwrap_or_default(),
    );
    let Ok((idp_id, external)) = succeeded_intent(&model, intent_id, token) else {
        return ctx.error(StatusCode::BAD_REQUEST, "idp.failed");
    };
    let linked = model
        .idp_links
        .iter()
        .find(|l| l.idp_id == idp_id && l.external_user_id == external.id)
        .map(|l| l.user_id.clone());
    let user_id = match linked {
        Some(uid) => uid,
        None => {
            let creation = model
                .idps
                .iter()
                .any(|i| i.id == idp_id && i.creation_allowed);
            if !creation || !ctx.allow_register {
                return ctx.error(StatusCode::FORBIDDEN, "idp.not_linked");
            }
            let org_id = flow
                .org_id()
                .map_or_else(|| model.default_org_id.clone(), str::to_owned);
            let username = if external.username.is_empty() {
                external.email.clone()
            } else {
                external.username.clone()
            };
            let input = NewHuman {
                org_id,
                user_id: None,
                username: Some(username.clone()),
                profile: Profile {
                    given_name: external.given_name.clone(),
                    family_name: external.family_name.clone(),
                    preferred_language: Some(ctx.lang.code().to_owned()),
                    ..Profile::default()
                },
                email: SetEmail {
                    email: external.email.clone(),
                    is_verified: Some(true),
                    ..SetEmail::default()
                },
                password: None,
                idp_links: vec![LinkInput {
                    idp_id: idp_id.clone(),
                    user_id: external.id.clone(),
                    user_name: username,
                }],
            };
            match add_human(&mut model, input) {
                Ok((id, _)) => id,
                Err(_) => return ctx.error(StatusCode::CONFLICT, "error.user_exists"),
            }
        }
    };
    let Some(user) = model.user(&user_id).cloned() else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    if user.state != crate::model::UserState::Active {
        return ctx.error(StatusCode::BAD_REQUEST, "error.user_inactive");
    }
    let sid = create_session(&mut model, &user_id, &ctx.agent);
    if let Some(s) = model.sessions.get_mut(&sid) {
        s.intent_verified_at = Some(now());
    }
    after_password(&shared, &mut model, &ctx, &flow, &user, &sid)
}

pub(super) async fn idp_failure(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query(q);
    let model = shared.lock();
    let flow = Flow::resolve(&model, form_get(&q, "requestId").unwrap_or_default());
    let ctx = Ctx::new(&shared, &model, &headers, flow.as_ref(), &[]);
    ctx.error(StatusCode::BAD_REQUEST, "idp.failed")
}
