//! ID token validation (OpenID Connect Core §3.1.3.7, §3.1.3.8, §12.2).
//!
//! Signatures are verified with ring ([`super::jws`]); every claim rule is
//! checked here, each with its own [`TokenValidationError`].

use crate::error::{Error, Result, TokenValidationError as V};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Digest;

/// Asymmetric algorithms an ID token may be signed with. Never `none`, never HMAC.
pub(crate) const ALLOWED_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// The validated claims of an ID token.
///
/// # Security
/// `Debug` shows the standard time and audience claims and the *names* of
/// the other claims, never their values (names, emails: personal data).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Subject: the user's id.
    pub sub: String,
    /// Audiences.
    pub aud: Vec<String>,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issue time, seconds since the epoch.
    pub iat: i64,
    /// Time of the user's authentication, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// Every claim as sent, including the ones above (profile, email, ZITADEL claims).
    pub all: Map<String, Value>,
}

impl std::fmt::Debug for IdTokenClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdTokenClaims")
            .field("iss", &self.iss)
            .field("aud", &self.aud)
            .field("exp", &self.exp)
            .field("iat", &self.iat)
            .field("auth_time", &self.auth_time)
            .field("claims", &self.all.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl IdTokenClaims {
    /// A string claim, e.g. `"email"` or `"preferred_username"`.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.all.get(name).and_then(Value::as_str)
    }
}

/// The expectations an ID token is checked against.
#[derive(Debug, Clone)]
pub(crate) struct Expectations<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The nonce sent with the authorization request; `None` on refresh,
    /// where a nonce, if present, must equal `original_nonce`.
    pub nonce: Option<&'a str>,
    pub original_nonce: Option<&'a str>,
    /// The `max_age` asked for, in seconds.
    pub max_age: Option<u64>,
    /// The access token issued with the ID token, for `at_hash`.
    pub access_token: Option<&'a str>,
    /// On refresh: the subject of the session's ID token.
    pub previous_sub: Option<&'a str>,
    pub now: i64,
    pub leeway: i64,
}

/// The JOSE header fields we need, parsed leniently so `alg: none` and
/// unknown algorithms give a precise error instead of a parse failure.
#[derive(Debug, Deserialize)]
pub(crate) struct RawHeader {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
}

/// Splits a compact JWS and reads its header; checks the algorithm allow-list,
/// narrowed to the provider's `id_token_signing_alg_values_supported` when
/// discovery names any (an empty list leaves the SDK's allow-list as it is).
pub(crate) fn parse_header(token: &str, discovered: &[String]) -> Result<(RawHeader, Algorithm)> {
    let mut parts = token.split('.');
    let (Some(h), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::token(V::Malformed));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(h)
        .map_err(|_| Error::token(V::Malformed))?;
    let header: RawHeader =
        serde_json::from_slice(&bytes).map_err(|_| Error::token(V::Malformed))?;
    if !ALLOWED_ALGS.contains(&header.alg.as_str())
        || !(discovered.is_empty() || discovered.iter().any(|a| a == &header.alg))
    {
        return Err(Error::token(V::DisallowedAlgorithm(
            crate::error::sanitize(&header.alg),
        )));
    }
    let alg: Algorithm = header
        .alg
        .parse()
        .map_err(|_| Error::token(V::DisallowedAlgorithm(header.alg.clone())))?;
    Ok((header, alg))
}

/// Whether a JWK may verify a token signed with `alg`: a signing key (not
/// `use: enc`), of the algorithm's key type, with a matching `alg` if it names one.
pub(crate) fn key_fits(jwk: &Jwk, alg: Algorithm) -> bool {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return false;
    }
    if let Some(ka) = jwk.common.key_algorithm
        && ka.to_string() != format!("{alg:?}")
    {
        return false;
    }

    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => matches!(
            alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(_) => {
            matches!(alg, Algorithm::ES256 | Algorithm::ES384)
        }
        AlgorithmParameters::OctetKeyPair(_) => matches!(alg, Algorithm::EdDSA),
        // Symmetric keys never verify an ID token.
        AlgorithmParameters::OctetKey(_) => false,
        _ => false,
    }
}

/// Picks the key for a token: by `kid`, or the only fitting key when the
/// token names none.
pub(crate) fn select_key<'k>(
    keys: &'k [Jwk],
    kid: Option<&str>,
    alg: Algorithm,
) -> Option<&'k Jwk> {
    match kid {
        Some(kid) => keys
            .iter()
            .find(|k| k.common.key_id.as_deref() == Some(kid) && key_fits(k, alg)),
        None => {
            let mut fitting = keys.iter().filter(|k| key_fits(k, alg));
            match (fitting.next(), fitting.next()) {
                (Some(k), None) => Some(k),
                _ => None,
            }
        }
    }
}

/// Parses a JWKS document, keeping the keys that parse and skipping the
/// rest (one odd key must not break the others).
pub(crate) fn parse_jwks(doc: &Value) -> Vec<Jwk> {
    doc.get("keys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Verifies the signature with `jwk` and checks every claim.
pub(crate) fn verify(
    token: &str,
    alg: Algorithm,
    jwk: &Jwk,
    exp: &Expectations<'_>,
) -> Result<IdTokenClaims> {
    let malformed = || Error::token(V::Malformed);
    let (signing_input, sig) = token.rsplit_once('.').ok_or_else(malformed)?;
    let (_, payload) = signing_input.split_once('.').ok_or_else(malformed)?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| malformed())?;
    super::jws::verify(alg, jwk, signing_input.as_bytes(), &sig)?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| malformed())?;
    let claims: Map<String, Value> = serde_json::from_slice(&payload).map_err(|_| malformed())?;
    check_claims(claims, alg, exp)
}

fn int_claim(all: &Map<String, Value>, name: &str) -> Option<i64> {
    match all.get(name)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        _ => None,
    }
}

/// The `aud` claim as a list (a single string is a list of one).
fn audiences(all: &Map<String, Value>) -> Vec<String> {
    match all.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => vec![],
    }
}

/// The claim checks, separate from the signature so each rule is testable.
pub(crate) fn check_claims(
    all: Map<String, Value>,
    alg: Algorithm,
    e: &Expectations<'_>,
) -> Result<IdTokenClaims> {
    let fail = |v: V| Err(Error::token(v));
    let iss = all.get("iss").and_then(Value::as_str).unwrap_or_default();
    if iss != e.issuer {
        return fail(V::Issuer);
    }
    let aud = audiences(&all);
    if !aud.iter().any(|a| a == e.client_id) {
        return fail(V::Audience);
    }
    match all.get("azp").and_then(Value::as_str) {
        Some(azp) if azp != e.client_id => return fail(V::AuthorizedParty),
        None if aud.len() > 1 => return fail(V::AuthorizedParty),
        _ => {}
    }
    let Some(exp) = int_claim(&all, "exp") else {
        return fail(V::Expired);
    };
    if e.now > exp.saturating_add(e.leeway) {
        return fail(V::Expired);
    }
    if let Some(nbf) = int_claim(&all, "nbf")
        && nbf > e.now.saturating_add(e.leeway)
    {
        return fail(V::NotYetValid);
    }
    let Some(iat) = int_claim(&all, "iat") else {
        return fail(V::IssuedAt);
    };
    if iat > e.now.saturating_add(e.leeway) {
        return fail(V::IssuedAt);
    }
    let sub = all
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if sub.is_empty() {
        return fail(V::Subject);
    }
    if let Some(prev) = e.previous_sub
        && prev != sub
    {
        return fail(V::SubjectChanged);
    }
    let nonce = all.get("nonce").and_then(Value::as_str);
    match (e.nonce, nonce) {
        (Some(expected), Some(got)) if expected == got => {}
        (Some(_), _) => return fail(V::Nonce),
        (None, Some(got)) => {
            if e.original_nonce.is_some_and(|o| o != got) {
                return fail(V::Nonce);
            }
        }
        (None, None) => {}
    }
    if let Some(at_hash) = all.get("at_hash").and_then(Value::as_str) {
        match e.access_token {
            Some(at) if token_hash(alg, at).as_deref() == Some(at_hash) => {}
            _ => return fail(V::AccessTokenHash),
        }
    }
    let auth_time = int_claim(&all, "auth_time");
    if let Some(max_age) = e.max_age {
        match auth_time {
            Some(t)
                if e.now
                    <= t.saturating_add(i64::try_from(max_age).unwrap_or(i64::MAX))
                        .saturating_add(e.leeway) => {}
            _ => return fail(V::AuthTime),
        }
    }
    Ok(IdTokenClaims {
        iss: iss.to_owned(),
        sub,
        aud,
        exp,
        iat,
        auth_time,
        all,
    })
}

/// The claims of an ID token the SDK validated before and stored: read from
/// the payload without checking the signature again (the store is trusted;
/// claims are not kept twice in it). `None` when the token is not a JWT
/// with the standard claims.
pub(crate) fn stored_claims(token: &str) -> Option<IdTokenClaims> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let all: Map<String, Value> = serde_json::from_slice(&bytes).ok()?;
    let text = |name: &str| all.get(name).and_then(Value::as_str).map(str::to_owned);
    let aud = audiences(&all);
    Some(IdTokenClaims {
        iss: text("iss")?,
        sub: text("sub")?,
        aud,
        exp: int_claim(&all, "exp")?,
        iat: int_claim(&all, "iat")?,
        auth_time: int_claim(&all, "auth_time"),
        all,
    })
}

/// `at_hash`: the left half of the hash of the token, with the hash of the
/// signing algorithm, base64url without padding.
pub(crate) fn token_hash(alg: Algorithm, token: &str) -> Option<String> {
    let digest: Vec<u8> = match alg {
        Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES256 => {
            sha2::Sha256::digest(token).to_vec()
        }
        Algorithm::RS384 | Algorithm::PS384 | Algorithm::ES384 => {
            sha2::Sha384::digest(token).to_vec()
        }
        // EdDSA with Ed25519 uses SHA-512 per OpenID Connect errata practice.
        Algorithm::RS512 | Algorithm::PS512 | Algorithm::EdDSA => {
            sha2::Sha512::digest(token).to_vec()
        }
        _ => return None,
    };
    Some(URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2]))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ErrorCode;
    use serde_json::json;

    /// A P-256 signing key with its public JWK, for tests.
    pub(crate) struct TestKey {
        pub enc: jsonwebtoken::EncodingKey,
        pub jwk: Jwk,
        pub kid: String,
    }

    impl TestKey {
        pub(crate) fn new(kid: &str) -> Self {
            use p256::pkcs8::EncodePrivateKey;
            let sk = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
            let der = sk.to_pkcs8_der().unwrap_or_else(|e| panic!("{e}"));
            let enc = jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes());
            let mut jwk_json: Value = serde_json::from_str(&sk.public_key().to_jwk_string())
                .unwrap_or_else(|e| panic!("{e}"));
            jwk_json["kid"] = json!(kid);
            jwk_json["use"] = json!("sig");
            jwk_json["alg"] = json!("ES256");
            let jwk = serde_json::from_value(jwk_json).unwrap_or_else(|e| panic!("{e}"));
            TestKey {
                enc,
                jwk,
                kid: kid.into(),
            }
        }

        pub(crate) fn sign(&self, claims: &Value) -> String {
            let mut h = jsonwebtoken::Header::new(Algorithm::ES256);
            h.kid = Some(self.kid.clone());
            jsonwebtoken::encode(&h, claims, &self.enc).unwrap_or_else(|e| panic!("{e}"))
        }
    }

    pub(crate) const NOW: i64 = 1_800_000_000;

    pub(crate) fn claims() -> Value {
        json!({
            "iss": "https://idp.example", "sub": "user-1", "aud": ["app", "project"],
            "azp": "app", "exp": NOW + 300, "iat": NOW - 5, "nonce": "n-1",
            "auth_time": NOW - 10, "email": "u@example.com"
        })
    }

    fn expect() -> Expectations<'static> {
        Expectations {
            issuer: "https://idp.example",
            client_id: "app",
            nonce: Some("n-1"),
            original_nonce: None,
            max_age: None,
            access_token: None,
            previous_sub: None,
            now: NOW,
            leeway: 30,
        }
    }

    fn check(c: Value, e: &Expectations<'_>) -> std::result::Result<IdTokenClaims, V> {
        let map = match c {
            Value::Object(m) => m,
            _ => panic!("claims must be an object"),
        };
        check_claims(map, Algorithm::ES256, e).map_err(|e| match e.kind() {
            crate::error::ErrorKind::Token(v) => v.clone(),
            k => panic!("unexpected error {k:?}"),
        })
    }

    fn with(mut c: Value, k: &str, v: Value) -> Value {
        c[k] = v;
        c
    }

    fn without(mut c: Value, k: &str) -> Value {
        if let Value::Object(m) = &mut c {
            m.remove(k);
        }
        c
    }

    #[test]
    fn valid_claims_pass_and_are_exposed() {
        let c = check(claims(), &expect()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.sub, "user-1");
        assert_eq!(c.get_str("email"), Some("u@example.com"));
    }

    #[test]
    fn claims_debug_shows_names_not_personal_values() {
        let c = check(claims(), &expect()).unwrap();
        let d = format!("{c:?}");
        assert!(d.contains("email") && !d.contains("u@example.com"), "{d}");
    }

    #[test]
    fn wrong_issuer_is_rejected() {
        assert_eq!(
            check(with(claims(), "iss", json!("https://evil")), &expect()).err(),
            Some(V::Issuer)
        );
    }

    #[test]
    fn audience_without_client_is_rejected() {
        assert_eq!(
            check(with(claims(), "aud", json!(["other"])), &expect()).err(),
            Some(V::Audience)
        );
        assert_eq!(
            check(with(claims(), "aud", json!("app")), &expect())
                .map(|c| c.aud)
                .ok(),
            Some(vec!["app".to_string()])
        );
    }

    #[test]
    fn azp_must_name_the_client_and_is_required_with_several_audiences() {
        assert_eq!(
            check(with(claims(), "azp", json!("other")), &expect()).err(),
            Some(V::AuthorizedParty)
        );
        assert_eq!(
            check(without(claims(), "azp"), &expect()).err(),
            Some(V::AuthorizedParty)
        );
        let single = without(with(claims(), "aud", json!("app")), "azp");
        assert!(check(single, &expect()).is_ok());
    }

    #[test]
    fn expired_or_missing_exp_is_rejected_with_leeway_honoured() {
        assert_eq!(
            check(without(claims(), "exp"), &expect()).err(),
            Some(V::Expired)
        );
        assert_eq!(
            check(with(claims(), "exp", json!(NOW - 31)), &expect()).err(),
            Some(V::Expired)
        );
        assert!(check(with(claims(), "exp", json!(NOW - 29)), &expect()).is_ok());
    }

    #[test]
    fn missing_or_future_iat_is_rejected() {
        assert_eq!(
            check(without(claims(), "iat"), &expect()).err(),
            Some(V::IssuedAt)
        );
        assert_eq!(
            check(with(claims(), "iat", json!(NOW + 60)), &expect()).err(),
            Some(V::IssuedAt)
        );
    }

    #[test]
    fn missing_or_empty_sub_is_rejected() {
        assert_eq!(
            check(without(claims(), "sub"), &expect()).err(),
            Some(V::Subject)
        );
        assert_eq!(
            check(with(claims(), "sub", json!("")), &expect()).err(),
            Some(V::Subject)
        );
    }

    #[test]
    fn nonce_must_match_the_one_sent() {
        assert_eq!(
            check(with(claims(), "nonce", json!("other")), &expect()).err(),
            Some(V::Nonce)
        );
        assert_eq!(
            check(without(claims(), "nonce"), &expect()).err(),
            Some(V::Nonce)
        );
    }

    #[test]
    fn refreshed_token_may_omit_nonce_but_not_change_it_or_the_subject() {
        let mut e = expect();
        e.nonce = None;
        e.original_nonce = Some("n-1");
        e.previous_sub = Some("user-1");
        assert!(check(without(claims(), "nonce"), &e).is_ok());
        assert!(check(claims(), &e).is_ok());
        assert_eq!(
            check(with(claims(), "nonce", json!("n-2")), &e).err(),
            Some(V::Nonce)
        );
        assert_eq!(
            check(with(claims(), "sub", json!("user-2")), &e).err(),
            Some(V::SubjectChanged)
        );
    }

    #[test]
    fn at_hash_is_checked_when_present() {
        let mut e = expect();
        e.access_token = Some("access-token-1");
        let good = token_hash(Algorithm::ES256, "access-token-1").unwrap_or_default();
        assert!(check(with(claims(), "at_hash", json!(good)), &e).is_ok());
        assert_eq!(
            check(with(claims(), "at_hash", json!("AAAA")), &e).err(),
            Some(V::AccessTokenHash)
        );
        e.access_token = None;
        assert_eq!(
            check(with(claims(), "at_hash", json!(good)), &e).err(),
            Some(V::AccessTokenHash)
        );
    }

    #[test]
    fn at_hash_is_the_left_half_of_the_sha256_in_base64url() {
        // Expected value computed independently with Python's hashlib:
        // base64url(sha256(token)[:16]) without padding.
        assert_eq!(
            token_hash(Algorithm::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNWYQVKvb").as_deref(),
            Some("vcG_JxKS778GZX3-c9Qqyg")
        );
        assert_eq!(token_hash(Algorithm::RS384, "x").map(|h| h.len()), Some(32));
    }

    #[test]
    fn auth_time_is_required_and_fresh_when_max_age_was_asked() {
        let mut e = expect();
        e.max_age = Some(60);
        assert!(check(claims(), &e).is_ok());
        assert_eq!(
            check(without(claims(), "auth_time"), &e).err(),
            Some(V::AuthTime)
        );
        assert_eq!(
            check(with(claims(), "auth_time", json!(NOW - 200)), &e).err(),
            Some(V::AuthTime)
        );
    }

    #[test]
    fn stored_claims_are_read_back_from_the_id_token() {
        let key = TestKey::new("k1");
        let token = key.sign(&claims());
        let c = stored_claims(&token).unwrap_or_else(|| panic!("claims"));
        assert_eq!(
            (c.sub.as_str(), c.exp, c.iat),
            ("user-1", NOW + 300, NOW - 5)
        );
        assert_eq!(c.aud, vec!["app".to_string(), "project".to_string()]);
        assert_eq!(c.get_str("email"), Some("u@example.com"));
        assert!(stored_claims("not-a-jwt").is_none());
    }

    #[test]
    fn nbf_in_the_future_is_rejected_with_leeway_honoured() {
        let e = expect();
        assert!(check(with(claims(), "nbf", json!(NOW - 10)), &e).is_ok());
        assert!(check(with(claims(), "nbf", json!(NOW + e.leeway)), &e).is_ok());
        assert_eq!(
            check(with(claims(), "nbf", json!(NOW + e.leeway + 1)), &e).err(),
            Some(V::NotYetValid)
        );
    }

    #[test]
    fn extreme_time_claims_are_judged_without_overflow() {
        let mut e = expect();
        assert!(check(with(claims(), "exp", json!(i64::MAX)), &e).is_ok());
        assert_eq!(
            check(with(claims(), "iat", json!(i64::MAX)), &e).err(),
            Some(V::IssuedAt)
        );
        assert_eq!(
            check(with(claims(), "nbf", json!(i64::MAX)), &e).err(),
            Some(V::NotYetValid)
        );
        e.max_age = Some(u64::MAX);
        e.now = i64::MAX;
        assert_eq!(
            check(with(claims(), "exp", json!(i64::MIN)), &e).err(),
            Some(V::Expired)
        );
    }

    #[test]
    fn discovered_signing_algorithms_narrow_the_allow_list() {
        let es256 = format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","kid":"k"}"#),
            URL_SAFE_NO_PAD.encode("{}")
        );
        assert!(parse_header(&es256, &[]).is_ok());
        assert!(parse_header(&es256, &["RS256".into(), "ES256".into()]).is_ok());
        let e = parse_header(&es256, &["RS256".into()]).err();
        assert!(
            matches!(
                e.as_ref().map(|e| e.kind()),
                Some(crate::error::ErrorKind::Token(V::DisallowedAlgorithm(_)))
            ),
            "{e:?}"
        );
        // Discovery can only narrow the list: it never allows HMAC or none.
        let hs = format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
            URL_SAFE_NO_PAD.encode("{}")
        );
        assert!(parse_header(&hs, &["HS256".into()]).is_err());
    }

    #[test]
    fn alg_none_and_hmac_are_refused_before_any_key_lookup() {
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode("{}")
        );
        let e = parse_header(&none, &[]).err().map(|e| e.kind().to_string());
        assert!(e.is_some_and(|m| m.contains("\"none\"")));
        let hs = format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
            URL_SAFE_NO_PAD.encode("{}")
        );
        assert_eq!(
            parse_header(&hs, &[]).err().map(|e| e.code()),
            Some(ErrorCode::InvalidServerResponse)
        );
        assert!(parse_header("not-a-jwt", &[]).is_err());
        assert!(parse_header("a.b.c.d", &[]).is_err());
    }

    #[test]
    fn signature_is_verified_against_the_jwk() {
        let key = TestKey::new("k1");
        let token = key.sign(&claims());
        let (h, alg) = parse_header(&token, &[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h.kid.as_deref(), Some("k1"));
        assert!(verify(&token, alg, &key.jwk, &expect()).is_ok());
        // Another key does not verify it.
        let other = TestKey::new("k1");
        let err = verify(&token, alg, &other.jwk, &expect()).err();
        assert!(
            matches!(
                err.as_ref().map(|e| e.kind()),
                Some(crate::error::ErrorKind::Token(V::BadSignature))
            ),
            "{err:?}"
        );
        // A tampered payload does not verify.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&with(claims(), "sub", json!("admin"))).unwrap_or_default());
        parts[1] = &forged;
        assert!(verify(&parts.join("."), alg, &key.jwk, &expect()).is_err());
    }

    #[test]
    fn keys_are_selected_by_kid_and_type() {
        let a = TestKey::new("a");
        let b = TestKey::new("b");
        let keys = vec![a.jwk.clone(), b.jwk.clone()];
        assert_eq!(
            select_key(&keys, Some("b"), Algorithm::ES256).and_then(|k| k.common.key_id.clone()),
            Some("b".into())
        );
        assert!(select_key(&keys, Some("c"), Algorithm::ES256).is_none());
        assert!(
            select_key(&keys, Some("a"), Algorithm::RS256).is_none(),
            "EC key cannot verify RS256"
        );
        assert!(
            select_key(&keys, None, Algorithm::ES256).is_none(),
            "ambiguous without kid"
        );
        assert!(select_key(&keys[..1], None, Algorithm::ES256).is_some());
    }

    #[test]
    fn symmetric_and_encryption_keys_never_verify() {
        let oct: Jwk = serde_json::from_value(json!({"kty":"oct","k":"c2VjcmV0","kid":"h"}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!key_fits(&oct, Algorithm::ES256));
        let mut enc = TestKey::new("e").jwk;
        enc.common.public_key_use = Some(PublicKeyUse::Encryption);
        assert!(!key_fits(&enc, Algorithm::ES256));
    }

    #[test]
    fn jwks_with_an_unparseable_key_keeps_the_others() {
        let k = TestKey::new("good");
        let doc = json!({"keys": [42, {"kty": "RSA", "kid": "broken"}, serde_json::to_value(&k.jwk).unwrap_or_default()]});
        let keys = parse_jwks(&doc);
        assert!(keys.len() < 3, "the non-object entry is skipped");
        assert!(select_key(&keys, Some("good"), Algorithm::ES256).is_some());
        assert!(parse_jwks(&json!({"nokeys": 1})).is_empty());
    }
}
