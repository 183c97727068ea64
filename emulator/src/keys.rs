//! RS256 signing keys with rotation, published at `/oauth/v2/keys`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::util::now;

/// Key size used for new signing keys.
const KEY_BITS: usize = 2048;

/// One signing key. The private part is kept as PKCS#1 DER so it can be persisted.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct SigningKey {
    pub(crate) kid: String,
    #[serde(with = "der_base64")]
    pub(crate) pkcs1_der: Vec<u8>,
    pub(crate) n: String,
    pub(crate) e: String,
    pub(crate) created: i64,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

/// Errors of key generation and signing.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// RSA key generation failed.
    #[error("RSA key generation failed: {0}")]
    Generate(#[from] rsa::Error),
    /// Encoding the key failed.
    #[error("encoding the RSA key failed: {0}")]
    Encode(#[from] rsa::pkcs1::Error),
    /// JWT signing failed.
    #[error("signing failed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
    /// No key is available.
    #[error("no signing key")]
    NoKey,
}

impl SigningKey {
    /// Generates a fresh RSA key.
    pub(crate) fn generate(kid: String) -> Result<Self, KeyError> {
        let key = RsaPrivateKey::new(&mut rand08::rngs::OsRng, KEY_BITS)?;
        let der = key.to_pkcs1_der()?;
        Ok(Self {
            kid,
            pkcs1_der: der.as_bytes().to_vec(),
            n: URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
            created: now(),
        })
    }

    fn jwk(&self) -> Value {
        json!({"use": "sig", "kty": "RSA", "kid": self.kid, "alg": "RS256", "n": self.n, "e": self.e})
    }
}

/// Generates an RSA key pair for a service user: (SPKI public PEM, PKCS#1 private PEM).
pub(crate) fn generate_pem_pair() -> Result<(String, String), KeyError> {
    use rsa::pkcs1::LineEnding;
    use rsa::pkcs8::EncodePublicKey as _;
    let key = RsaPrivateKey::new(&mut rand08::rngs::OsRng, KEY_BITS)?;
    let private = key.to_pkcs1_pem(LineEnding::LF)?.to_string();
    let public = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|_| KeyError::NoKey)?;
    Ok((public, private))
}

/// A verification key from an RSA public key PEM (SPKI or PKCS#1).
pub(crate) fn decoding_key_from_pem(pem: &str) -> Option<DecodingKey> {
    use rsa::pkcs1::DecodeRsaPublicKey as _;
    use rsa::pkcs8::DecodePublicKey as _;
    let key = rsa::RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(pem))
        .ok()?;
    Some(DecodingKey::from_rsa_raw_components(
        &key.n().to_bytes_be(),
        &key.e().to_bytes_be(),
    ))
}

/// The instance's signing keys. The last one signs; older ones stay published
/// until they are dropped (by default one previous key is kept).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct KeySet {
    pub(crate) keys: Vec<SigningKey>,
}

impl KeySet {
    /// Keys kept in the JWKS after a rotation (the new one plus previous ones).
    const KEEP: usize = 2;

    pub(crate) fn new(first: SigningKey) -> Self {
        Self { keys: vec![first] }
    }

    /// Adds a new signing key; the oldest keys beyond [`Self::KEEP`] are dropped.
    pub(crate) fn rotate(&mut self, next: SigningKey) {
        self.keys.push(next);
        while self.keys.len() > Self::KEEP {
            self.keys.remove(0);
        }
    }

    /// The JWKS document.
    pub(crate) fn jwks(&self) -> Value {
        json!({"keys": self.keys.iter().rev().map(SigningKey::jwk).collect::<Vec<_>>()})
    }

    /// Signs claims with the current key (RS256, `kid` set).
    pub(crate) fn sign<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        let key = self.keys.last().ok_or(KeyError::NoKey)?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        Ok(jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_rsa_der(&key.pkcs1_der),
        )?)
    }

    /// Verifies a token signed by one of our keys, ignoring expiry and audience
    /// (used for `id_token_hint`).
    pub(crate) fn verify_ignoring_expiry<T: DeserializeOwned>(&self, token: &str) -> Option<T> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let kid = header.kid?;
        let key = self.keys.iter().find(|k| k.kid == kid)?;
        let decoding = DecodingKey::from_rsa_components(&key.n, &key.e).ok()?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<T>(token, &decoding, &validation)
            .ok()
            .map(|d| d.claims)
    }
}

/// Serializes key bytes as standard base64.
mod der_base64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
