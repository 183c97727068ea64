//! A software WebAuthn authenticator for the tests (1Password's passkey-rs),
//! standing in for `navigator.credentials.create` / `.get`.
#![allow(dead_code)]

use passkey_authenticator::{Authenticator, MemoryStore, UiHint, UserCheck, UserValidationMethod};
use passkey_client::{Client as PasskeyClient, DefaultClientData};
use passkey_types::ctap2::{Aaguid, Ctap2Error};
use passkey_types::webauthn::{CredentialCreationOptions, CredentialRequestOptions};
use serde_json::Value;
use url::Url;

/// A user who approves every request, with presence and verification.
struct Approve;

#[async_trait::async_trait]
impl UserValidationMethod for Approve {
    type PasskeyItem = passkey_types::Passkey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, Self::PasskeyItem>,
        presence: bool,
        verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence,
            verification,
        })
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }
}

/// A software authenticator with its own credential store.
#[derive(Default)]
pub struct SoftKey {
    /// The credentials, by credential id.
    pub store: MemoryStore,
}

impl SoftKey {
    fn client(
        &mut self,
    ) -> PasskeyClient<
        MemoryStore,
        Approve,
        passkey_crypto::AvailableBackend,
        public_suffix::PublicSuffixList,
        (),
    > {
        let auth = Authenticator::new(
            Aaguid::new_empty(),
            std::mem::take(&mut self.store),
            Approve,
            passkey_crypto::AvailableBackend,
        );
        PasskeyClient::new(auth).allows_insecure_localhost(true)
    }

    /// `navigator.credentials.create` with the server's options.
    pub async fn create(&mut self, origin: &str, options: &Value) -> Value {
        let mut client = self.client();
        let req: CredentialCreationOptions = serde_json::from_value(options.clone()).unwrap();
        let cred = client
            .register(&Url::parse(origin).unwrap(), req, DefaultClientData)
            .await
            .unwrap();
        self.store = client.authenticator().store().clone();
        serde_json::to_value(cred).unwrap()
    }

    /// `navigator.credentials.get` with the server's options.
    pub async fn get(&mut self, origin: &str, options: &Value) -> Value {
        let mut client = self.client();
        let req: CredentialRequestOptions = serde_json::from_value(options.clone()).unwrap();
        let cred = client
            .authenticate(&Url::parse(origin).unwrap(), req, DefaultClientData)
            .await
            .unwrap();
        self.store = client.authenticator().store().clone();
        serde_json::to_value(cred).unwrap()
    }
}
