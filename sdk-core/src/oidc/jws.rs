//! JWS signatures with `ring`, the crypto library rustls already links:
//! verification of an ID token's signature with a JWK, and the RS256
//! signature of a service user's JWT assertion.
//!
//! `jsonwebtoken` is used only for its JWK and algorithm types; its own
//! crypto backend (RustCrypto's rsa, p256, p384 and ed25519 crates) would be
//! a second crypto stack in every app (~0.5 MB of the FFI library).

use crate::error::{Error, Result, TokenValidationError as V};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey, VerificationAlgorithm};

/// Base64url without padding, as JWK members are encoded.
fn b64(s: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| Error::token(V::KeyMismatch))
}

/// An RSA integer without its leading zero octets (RFC 7518 §6.3.1 asks for
/// none, some providers send one; ring wants the minimal form).
fn minimal(mut v: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = v {
        v = rest;
    }
    v
}

/// The RSA parameters of `alg` (PKCS#1 v1.5 or PSS; keys of 2048 to 8192 bits).
fn rsa_params(alg: Algorithm) -> Option<&'static signature::RsaParameters> {
    Some(match alg {
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

/// Verifies `sig` over `signing_input` (`header.payload` as sent) with
/// `jwk` for `alg`. A key that does not fit the algorithm (type, curve,
/// size) is [`V::KeyMismatch`]; a signature that does not verify is
/// [`V::BadSignature`]. HMAC and `none` are never accepted.
pub(crate) fn verify(alg: Algorithm, jwk: &Jwk, signing_input: &[u8], sig: &[u8]) -> Result<()> {
    let bad = |_| Error::token(V::BadSignature);
    match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(k), _) => {
            let params = rsa_params(alg).ok_or_else(|| Error::token(V::KeyMismatch))?;
            let (n, e) = (b64(&k.n)?, b64(&k.e)?);
            if minimal(&n).len() < 256 {
                // Below 2048 bits: refused (ring would say only "bad signature").
                return Err(Error::token(V::KeyMismatch));
            }
            let key = RsaPublicKeyComponents {
                n: minimal(&n),
                e: minimal(&e),
            };
            key.verify(params, signing_input, sig).map_err(bad)
        }
        (AlgorithmParameters::EllipticCurve(k), Algorithm::ES256 | Algorithm::ES384) => {
            let (algorithm, len): (&'static dyn VerificationAlgorithm, usize) =
                match (alg, &k.curve) {
                    (Algorithm::ES256, EllipticCurve::P256) => {
                        (&signature::ECDSA_P256_SHA256_FIXED, 32)
                    }
                    (Algorithm::ES384, EllipticCurve::P384) => {
                        (&signature::ECDSA_P384_SHA384_FIXED, 48)
                    }
                    _ => return Err(Error::token(V::KeyMismatch)),
                };
            let (x, y) = (b64(&k.x)?, b64(&k.y)?);
            if x.len() != len || y.len() != len {
                return Err(Error::token(V::KeyMismatch));
            }
            // The uncompressed SEC1 point; ring rejects one off the curve.
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            UnparsedPublicKey::new(algorithm, point)
                .verify(signing_input, sig)
                .map_err(bad)
        }
        (AlgorithmParameters::OctetKeyPair(k), Algorithm::EdDSA) => {
            if !matches!(k.curve, EllipticCurve::Ed25519) {
                return Err(Error::token(V::KeyMismatch));
            }
            let x = b64(&k.x)?;
            if x.len() != 32 {
                return Err(Error::token(V::KeyMismatch));
            }
            UnparsedPublicKey::new(&signature::ED25519, x)
                .verify(signing_input, sig)
                .map_err(bad)
        }
        _ => Err(Error::token(V::KeyMismatch)),
    }
}

/// Signs `claims` as a compact JWS with RS256 and a PKCS#1 DER private key
/// (a ZITADEL key file's key), with `kid` in the header. `None` when the key
/// is not a usable RSA key (ring takes 2048 to 4096 bits).
pub(crate) fn sign_rs256(
    pkcs1_der: &[u8],
    kid: &str,
    claims: &serde_json::Value,
) -> Option<String> {
    let key = signature::RsaKeyPair::from_der(pkcs1_der).ok()?;
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    let mut jws = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).ok()?);
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).ok()?));
    let mut sig = vec![0; key.public().modulus_len()];
    let rng = ring::rand::SystemRandom::new();
    key.sign(&signature::RSA_PKCS1_SHA256, &rng, jws.as_bytes(), &mut sig)
        .ok()?;
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(sig));
    Some(jws)
}

#[cfg(test)]
mod tests {
    //! Signatures made by another implementation (jsonwebtoken's RustCrypto
    //! backend, enabled for tests only) verify here, and ours verify there.
    use super::*;
    use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
    use ring::signature::KeyPair;
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    use serde_json::{Value, json};

    fn jwk(v: Value) -> Jwk {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Splits a compact JWS into its signing input and decoded signature.
    fn parts(token: &str) -> (&str, Vec<u8>) {
        let (input, sig) = token
            .rsplit_once('.')
            .unwrap_or_else(|| panic!("not a JWS"));
        (
            input,
            URL_SAFE_NO_PAD
                .decode(sig)
                .unwrap_or_else(|e| panic!("{e}")),
        )
    }

    fn code(r: Result<()>) -> Option<V> {
        match r.as_ref().map_err(Error::kind) {
            Ok(()) => None,
            Err(crate::error::ErrorKind::Token(v)) => Some(v.clone()),
            Err(_) => panic!("not a validation error: {r:?}"),
        }
    }

    fn encode(alg: Algorithm, key: &EncodingKey) -> String {
        jsonwebtoken::encode(&Header::new(alg), &json!({"sub": "u"}), key)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    struct Rsa {
        der: Vec<u8>,
        n: Vec<u8>,
        e: Vec<u8>,
    }

    fn rsa_key(bits: usize) -> Rsa {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits)
            .unwrap_or_else(|e| panic!("{e}"));
        let der = key.to_pkcs1_der().unwrap_or_else(|e| panic!("{e}"));
        Rsa {
            der: der.as_bytes().to_vec(),
            n: key.n().to_bytes_be(),
            e: key.e().to_bytes_be(),
        }
    }

    fn rsa_jwk(n: &[u8], e: &[u8]) -> Jwk {
        jwk(json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(n), "e": URL_SAFE_NO_PAD.encode(e)}))
    }

    #[test]
    fn rsa_signatures_of_another_implementation_verify_and_tampering_does_not() {
        let k = rsa_key(2048);
        let enc = EncodingKey::from_rsa_der(&k.der);
        let key = rsa_jwk(&k.n, &k.e);
        // A modulus sent with a leading zero octet is accepted too.
        let padded = rsa_jwk(&[&[0][..], &k.n].concat(), &k.e);
        for alg in [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ] {
            let token = encode(alg, &enc);
            let (input, sig) = parts(&token);
            assert_eq!(
                code(verify(alg, &key, input.as_bytes(), &sig)),
                None,
                "{alg:?}"
            );
            assert_eq!(
                code(verify(alg, &padded, input.as_bytes(), &sig)),
                None,
                "{alg:?}"
            );
            let tampered = format!("{input}x");
            assert_eq!(
                code(verify(alg, &key, tampered.as_bytes(), &sig)),
                Some(V::BadSignature),
                "{alg:?}"
            );
        }
        // The same signature under another RSA scheme or hash fails.
        let token = encode(Algorithm::RS256, &enc);
        let (input, sig) = parts(&token);
        assert_eq!(
            code(verify(Algorithm::PS256, &key, input.as_bytes(), &sig)),
            Some(V::BadSignature)
        );
    }

    #[test]
    fn the_service_assertion_verifies_with_another_implementation() {
        let k = rsa_key(2048);
        let claims = json!({"iss": "u1", "sub": "u1", "aud": "https://idp.example", "exp": 4_000_000_000_i64});
        let jws = sign_rs256(&k.der, "key-1", &claims).unwrap_or_else(|| panic!("not signed"));
        let header = jsonwebtoken::decode_header(&jws).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (header.alg, header.kid.as_deref()),
            (Algorithm::RS256, Some("key-1"))
        );
        let dec = DecodingKey::from_rsa_raw_components(&k.n, &k.e);
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&["https://idp.example"]);
        let data = jsonwebtoken::decode::<Value>(&jws, &dec, &v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(data.claims, claims);
        // Not a PKCS#1 RSA key: no signature, no panic.
        assert!(sign_rs256(b"not a key", "k", &claims).is_none());
    }

    #[test]
    fn ecdsa_and_ed25519_signatures_of_another_implementation_verify() {
        let rng = ring::rand::SystemRandom::new();
        for (alg, signing, crv, len) in [
            (
                Algorithm::ES256,
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                "P-256",
                32,
            ),
            (
                Algorithm::ES384,
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                "P-384",
                48,
            ),
        ] {
            let der = signature::EcdsaKeyPair::generate_pkcs8(signing, &rng)
                .unwrap_or_else(|e| panic!("{e}"));
            let pair = signature::EcdsaKeyPair::from_pkcs8(signing, der.as_ref(), &rng)
                .unwrap_or_else(|e| panic!("{e}"));
            let point = pair.public_key().as_ref();
            let (x, y) = point[1..].split_at(len);
            let key = jwk(json!({"kty": "EC", "crv": crv,
                "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y)}));
            let token = encode(alg, &EncodingKey::from_ec_der(der.as_ref()));
            let (input, sig) = parts(&token);
            assert_eq!(
                code(verify(alg, &key, input.as_bytes(), &sig)),
                None,
                "{alg:?}"
            );
            let mut bad = sig.clone();
            bad[0] ^= 1;
            assert_eq!(
                code(verify(alg, &key, input.as_bytes(), &bad)),
                Some(V::BadSignature),
                "{alg:?}"
            );
        }
        let der = signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap_or_else(|e| panic!("{e}"));
        let pair =
            signature::Ed25519KeyPair::from_pkcs8(der.as_ref()).unwrap_or_else(|e| panic!("{e}"));
        let key = jwk(json!({"kty": "OKP", "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref())}));
        let token = encode(Algorithm::EdDSA, &EncodingKey::from_ed_der(der.as_ref()));
        let (input, sig) = parts(&token);
        assert_eq!(
            code(verify(Algorithm::EdDSA, &key, input.as_bytes(), &sig)),
            None
        );
        assert_eq!(
            code(verify(Algorithm::EdDSA, &key, b"other input", &sig)),
            Some(V::BadSignature)
        );
    }

    #[test]
    fn a_key_of_another_type_curve_or_too_small_is_a_key_mismatch() {
        let rng = ring::rand::SystemRandom::new();
        let p256 = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let der =
            signature::EcdsaKeyPair::generate_pkcs8(p256, &rng).unwrap_or_else(|e| panic!("{e}"));
        let pair = signature::EcdsaKeyPair::from_pkcs8(p256, der.as_ref(), &rng)
            .unwrap_or_else(|e| panic!("{e}"));
        let (x, y) = pair.public_key().as_ref()[1..].split_at(32);
        let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
        let ec256 = jwk(json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}));
        // A P-256 key named P-384, and a P-256 key for an ES384 token.
        let misnamed = jwk(json!({"kty": "EC", "crv": "P-384", "x": x, "y": y}));
        let small = rsa_key(1024);
        let cases = [
            (Algorithm::ES384, &ec256),
            (Algorithm::ES384, &misnamed),
            (Algorithm::RS256, &ec256),
            (Algorithm::EdDSA, &ec256),
        ];
        for (alg, key) in cases {
            assert_eq!(
                code(verify(alg, key, b"a.b", &[0; 64])),
                Some(V::KeyMismatch),
                "{alg:?}"
            );
        }
        let small = rsa_jwk(&small.n, &small.e);
        assert_eq!(
            code(verify(Algorithm::ES256, &small, b"a.b", &[0; 64])),
            Some(V::KeyMismatch)
        );
        assert_eq!(
            code(verify(Algorithm::RS256, &small, b"a.b", &[0; 128])),
            Some(V::KeyMismatch)
        );
        let hmac = jwk(json!({"kty": "oct", "k": "c2VjcmV0"}));
        for alg in [Algorithm::HS256, Algorithm::RS256, Algorithm::ES256] {
            assert_eq!(
                code(verify(alg, &hmac, b"a.b", &[0; 32])),
                Some(V::KeyMismatch)
            );
        }
    }
}
