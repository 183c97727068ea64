//! OpenID Connect: discovery, authorization request and callback, token
//! requests, ID token validation, device authorization grant, revocation.

pub(crate) mod authorize;
pub(crate) mod discovery;
pub(crate) mod id_token;
pub(crate) mod jws;
pub(crate) mod token;

pub use authorize::{LoginOptions, is_redirect_to};
pub use discovery::ProviderMetadata;
pub use id_token::IdTokenClaims;
pub use token::DeviceAuthorization;
