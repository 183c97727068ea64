//! The authorization request (PKCE S256, `state`, `nonce`) and the parsing
//! of the callback (state, RFC 9207 `iss`, OAuth error responses).

use crate::error::{Error, ErrorKind, Result};
use crate::oidc::discovery::{ProviderMetadata, same_issuer};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use url::Url;

/// The login in flight: everything needed to finish it, persisted in the
/// store so a login survives the app being killed while the browser is open.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PendingLogin {
    pub state: Secret,
    pub nonce: Secret,
    pub pkce_verifier: Secret,
    pub redirect_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    pub created_at: i64,
}

/// Options of one authorization request. `Debug` hides the login hint.
#[derive(Clone, Default)]
pub struct LoginOptions {
    /// `prompt`: e.g. `login`, `select_account`, `create` (ZITADEL registration), `none`.
    pub prompt: Option<String>,
    /// `login_hint`: the login name to pre-fill.
    pub login_hint: Option<String>,
    /// `max_age` in seconds: forces re-authentication when older; `auth_time` is then checked.
    pub max_age: Option<u64>,
    /// Extra scopes for this login only.
    pub extra_scopes: Vec<String>,
}

impl std::fmt::Debug for LoginOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginOptions")
            .field("prompt", &self.prompt)
            .field(
                "login_hint",
                &self.login_hint.as_ref().map(|_| "[redacted]"),
            )
            .field("max_age", &self.max_age)
            .field("extra_scopes", &self.extra_scopes)
            .finish()
    }
}

/// Parameters that do not change between logins.
pub(crate) struct RequestParams<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scopes: &'a [String],
    pub ui_locales: &'a [String],
}

/// Builds the authorization URL and the matching pending login.
pub(crate) fn build(
    meta: &ProviderMetadata,
    p: &RequestParams<'_>,
    opts: &LoginOptions,
    now: i64,
) -> Result<(Url, PendingLogin)> {
    let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    let state = oauth2::CsrfToken::new_random();
    let nonce = oauth2::CsrfToken::new_random();
    let mut url = meta.authorization_endpoint.clone();
    let mut scopes: Vec<&str> = p.scopes.iter().map(String::as_str).collect();
    for s in &opts.extra_scopes {
        if !scopes.contains(&s.as_str()) {
            scopes.push(s);
        }
    }
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", p.client_id)
            .append_pair("redirect_uri", p.redirect_uri)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("state", state.secret())
            .append_pair("nonce", nonce.secret())
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", "S256");
        if !p.ui_locales.is_empty() {
            q.append_pair("ui_locales", &p.ui_locales.join(" "));
        }
        if let Some(h) = &opts.login_hint {
            q.append_pair("login_hint", h);
        }
        if let Some(pr) = &opts.prompt {
            q.append_pair("prompt", pr);
        }
        if let Some(m) = opts.max_age {
            q.append_pair("max_age", &m.to_string());
        }
    }
    let pending = PendingLogin {
        state: Secret::new(state.secret().clone()),
        nonce: Secret::new(nonce.secret().clone()),
        pkce_verifier: Secret::new(verifier.secret().clone()),
        redirect_uri: p.redirect_uri.to_owned(),
        max_age: opts.max_age,
        created_at: now,
    };
    Ok((url, pending))
}

/// Whether `url` is a redirect to `redirect_uri` (same scheme, host, port
/// and path), e.g. for an embedded webview deciding to intercept a navigation.
pub fn is_redirect_to(url: &Url, redirect_uri: &Url) -> bool {
    url.scheme() == redirect_uri.scheme()
        && url.host_str() == redirect_uri.host_str()
        && url.port_or_known_default() == redirect_uri.port_or_known_default()
        && url.path() == redirect_uri.path()
}

fn param<'u>(url: &'u Url, name: &str) -> Option<std::borrow::Cow<'u, str>> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// The `state` of a callback URL, if any.
pub(crate) fn callback_state(url: &Url) -> Option<String> {
    param(url, "state").map(|s| s.into_owned())
}

/// Checks a callback against the pending login and returns the code.
pub(crate) fn parse_callback(
    callback: &Url,
    pending: &PendingLogin,
    meta: &ProviderMetadata,
    issuer: &Url,
) -> Result<Secret> {
    let redirect = Url::parse(&pending.redirect_uri)
        .map_err(|_| Error::internal("stored redirect URI is invalid"))?;
    if !is_redirect_to(callback, &redirect) {
        return Err(ErrorKind::NoPendingLogin("the URL is not this app's redirect URI").into());
    }
    match param(callback, "state") {
        Some(s) if s == pending.state.expose() => {}
        _ => return Err(ErrorKind::StateMismatch.into()),
    }
    // RFC 9207: required when advertised; checked whenever present.
    match param(callback, "iss") {
        Some(iss) if !same_issuer(issuer, &iss) => return Err(ErrorKind::CallbackIssuer.into()),
        None if meta.authorization_response_iss_parameter_supported => {
            return Err(ErrorKind::CallbackIssuer.into());
        }
        _ => {}
    }
    if let Some(err) = param(callback, "error") {
        let desc = param(callback, "error_description").map(|d| d.into_owned());
        return Err(Error::oauth(err.into_owned(), desc));
    }
    match param(callback, "code") {
        Some(c) if !c.is_empty() => Ok(Secret::new(c.into_owned())),
        _ => Err(Error::malformed(
            callback,
            "the callback has neither code nor error",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn meta(iss_supported: bool) -> ProviderMetadata {
        serde_json::from_value(serde_json::json!({
            "issuer": "https://idp.example",
            "authorization_endpoint": "https://idp.example/oauth/v2/authorize",
            "token_endpoint": "https://idp.example/oauth/v2/token",
            "jwks_uri": "https://idp.example/oauth/v2/keys",
            "authorization_response_iss_parameter_supported": iss_supported
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn issuer() -> Url {
        Url::parse("https://idp.example").unwrap_or_else(|e| panic!("{e}"))
    }

    fn start(opts: &LoginOptions) -> (Url, PendingLogin) {
        let scopes = vec!["openid".to_string(), "profile".to_string()];
        let locales = vec!["de".to_string(), "en".to_string()];
        let p = RequestParams {
            client_id: "app",
            redirect_uri: "http://127.0.0.1:4711/callback",
            scopes: &scopes,
            ui_locales: &locales,
        };
        build(&meta(true), &p, opts, 1).unwrap_or_else(|e| panic!("{e}"))
    }

    fn cb(q: &str) -> Url {
        Url::parse(&format!("http://127.0.0.1:4711/callback?{q}")).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn authorization_url_carries_pkce_s256_state_nonce_and_options() {
        let opts = LoginOptions {
            prompt: Some("create".into()),
            login_hint: Some("alice@acme".into()),
            max_age: Some(60),
            extra_scopes: vec!["urn:zitadel:iam:org:domain:primary:acme.localhost".into()],
        };
        let (url, pending) = start(&opts);
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["state"], pending.state.expose());
        assert_eq!(q["nonce"], pending.nonce.expose());
        assert_ne!(q["state"], q["nonce"]);
        assert_eq!(
            q["scope"],
            "openid profile urn:zitadel:iam:org:domain:primary:acme.localhost"
        );
        assert_eq!(q["ui_locales"], "de en");
        assert_eq!(q["prompt"], "create");
        assert_eq!(q["login_hint"], "alice@acme");
        assert_eq!(q["max_age"], "60");
        // The challenge is the S256 of the verifier.
        use base64::Engine;
        use sha2::Digest;
        let expect = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(pending.pkce_verifier.expose()));
        assert_eq!(q["code_challenge"], expect);
        assert!(pending.pkce_verifier.expose().len() >= 43);
    }

    #[test]
    fn each_login_gets_fresh_state_nonce_and_verifier() {
        let (_, a) = start(&LoginOptions::default());
        let (_, b) = start(&LoginOptions::default());
        assert_ne!(a.state, b.state);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.pkce_verifier, b.pkce_verifier);
    }

    #[test]
    fn callback_with_matching_state_and_iss_yields_the_code() {
        let (_, p) = start(&LoginOptions::default());
        let url = cb(&format!(
            "code=c1&state={}&iss=https%3A%2F%2Fidp.example",
            p.state.expose()
        ));
        let code =
            parse_callback(&url, &p, &meta(true), &issuer()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(code.expose(), "c1");
    }

    #[test]
    fn callback_with_wrong_or_missing_state_is_rejected() {
        let (_, p) = start(&LoginOptions::default());
        for q in [
            "code=c1&state=forged&iss=https%3A%2F%2Fidp.example",
            "code=c1&iss=https%3A%2F%2Fidp.example",
        ] {
            let e = parse_callback(&cb(q), &p, &meta(true), &issuer()).err();
            assert!(
                matches!(e.as_ref().map(|e| e.kind()), Some(ErrorKind::StateMismatch)),
                "{e:?}"
            );
        }
    }

    #[test]
    fn callback_iss_is_required_when_advertised_and_must_match() {
        let (_, p) = start(&LoginOptions::default());
        let s = p.state.expose();
        let missing = parse_callback(
            &cb(&format!("code=c&state={s}")),
            &p,
            &meta(true),
            &issuer(),
        )
        .err();
        assert!(matches!(
            missing.as_ref().map(|e| e.kind()),
            Some(ErrorKind::CallbackIssuer)
        ));
        let wrong = parse_callback(
            &cb(&format!("code=c&state={s}&iss=https%3A%2F%2Fevil")),
            &p,
            &meta(false),
            &issuer(),
        )
        .err();
        assert!(matches!(
            wrong.as_ref().map(|e| e.kind()),
            Some(ErrorKind::CallbackIssuer)
        ));
        assert!(
            parse_callback(
                &cb(&format!("code=c&state={s}")),
                &p,
                &meta(false),
                &issuer()
            )
            .is_ok()
        );
    }

    #[test]
    fn oauth_error_responses_become_typed_errors() {
        let (_, p) = start(&LoginOptions::default());
        let s = p.state.expose();
        let iss = "iss=https%3A%2F%2Fidp.example";
        let denied = parse_callback(
            &cb(&format!("error=access_denied&state={s}&{iss}")),
            &p,
            &meta(true),
            &issuer(),
        )
        .err();
        assert_eq!(denied.map(|e| e.code()), Some(ErrorCode::AccessDenied));
        let login = parse_callback(
            &cb(&format!("error=login_required&state={s}&{iss}")),
            &p,
            &meta(true),
            &issuer(),
        )
        .err();
        assert_eq!(login.map(|e| e.code()), Some(ErrorCode::NotSignedIn));
        let empty =
            parse_callback(&cb(&format!("state={s}&{iss}")), &p, &meta(true), &issuer()).err();
        assert_eq!(
            empty.map(|e| e.code()),
            Some(ErrorCode::InvalidServerResponse)
        );
    }

    #[test]
    fn callback_to_another_uri_is_not_taken() {
        let (_, p) = start(&LoginOptions::default());
        let other = Url::parse(&format!(
            "http://127.0.0.1:9999/callback?code=c&state={}",
            p.state.expose()
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            parse_callback(&other, &p, &meta(false), &issuer())
                .err()
                .map(|e| e.code()),
            Some(ErrorCode::InvalidInput)
        );
    }

    #[test]
    fn redirect_matching_for_webviews_and_custom_schemes() {
        let r = Url::parse("com.example.app:/callback").unwrap_or_else(|e| panic!("{e}"));
        let hit = Url::parse("com.example.app:/callback?code=1&state=2")
            .unwrap_or_else(|e| panic!("{e}"));
        let miss = Url::parse("com.example.app:/other?code=1").unwrap_or_else(|e| panic!("{e}"));
        assert!(is_redirect_to(&hit, &r));
        assert!(!is_redirect_to(&miss, &r));
    }

    #[test]
    fn pending_login_debug_hides_secrets() {
        let (_, p) = start(&LoginOptions::default());
        let d = format!("{p:?}");
        assert!(!d.contains(p.state.expose()) && !d.contains(p.pkce_verifier.expose()));
    }
}
