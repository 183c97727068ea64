//! The signed-in user's passkeys: [`PasskeysClient`], from
//! [`ZitadelClient::passkeys`](crate::ZitadelClient::passkeys); the
//! [`PasskeyAuthenticator`] host trait (Credential Manager on Android,
//! `ASAuthorization` on iOS) that creates and uses the credentials; and,
//! with the feature `software-authenticator`, sdk-core's
//! [`SoftwareAuthenticator`] for desktop apps and tests.

use super::native_login::{NativeLogin, NativeLoginClient, SignedIn};
use crate::c::calls::{CallFuture, args, done, json, object_get, unknown_method};
use crate::client::ZitadelClient;
use crate::error::FfiError;
use crate::runtime::run;
use serde::Deserialize;
use std::sync::Arc;
use zitadel_sdk::flows::passkeys::Passkey;

/// A registered passkey.
#[uniffi::remote(Record)]
pub struct Passkey {
    /// Its id (for [`PasskeysClient::remove`]).
    pub id: String,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// Whether its registration was completed.
    pub ready: bool,
}

/// A WebAuthn authenticator, implemented by the host: creates passkeys and
/// security-key credentials and signs login challenges —
/// `navigator.credentials.create` and `.get` for a native app. On Android
/// the Credential Manager (`CreatePublicKeyCredentialRequest(optionsJson)`
/// takes and returns this JSON as is), on iOS `ASAuthorization`; on the
/// desktop and in tests [`SoftwareAuthenticator`] (feature `software-authenticator`).
///
/// Both calls speak the WebAuthn Level 3 JSON forms (binary fields as
/// unpadded base64url).
///
/// # Errors
/// Throw [`FfiError::Cancelled`] when the user declines or dismisses the
/// prompt, [`FfiError::NotFound`] when the authenticator holds none of the
/// credentials asked for, [`FfiError::AlreadyExists`] when it is registered
/// for this account already. Messages must not contain key material or
/// personal data.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait PasskeyAuthenticator: Send + Sync {
    /// Creates a credential. `options_json` is a
    /// `PublicKeyCredentialCreationOptionsJSON` (`rp`, `user`, `challenge`,
    /// `pubKeyCredParams`, `excludeCredentials`, `authenticatorSelection`, …);
    /// `origin` is the relying party's web origin (the issuer's; platform
    /// authenticators that derive the origin from the app's identity ignore
    /// it). Returns the `RegistrationResponseJSON`.
    async fn create(&self, options_json: String, origin: String) -> Result<String, FfiError>;

    /// Signs a login challenge. `options_json` is a
    /// `PublicKeyCredentialRequestOptionsJSON` (`challenge`, `rpId`,
    /// `allowCredentials`, `userVerification`, …); `origin` as for
    /// [`create`](Self::create). Returns the `AuthenticationResponseJSON`.
    async fn get(&self, options_json: String, origin: String) -> Result<String, FfiError>;
}

/// A host authenticator as the authenticator sdk-core calls.
pub(crate) struct AuthenticatorAdapter(pub(crate) Arc<dyn PasskeyAuthenticator>);

#[zitadel_sdk::async_trait]
impl zitadel_sdk::PasskeyAuthenticator for AuthenticatorAdapter {
    async fn create(&self, options_json: &str, origin: &str) -> zitadel_sdk::Result<String> {
        self.0
            .create(options_json.to_owned(), origin.to_owned())
            .await
            .map_err(FfiError::into_core)
    }

    async fn get(&self, options_json: &str, origin: &str) -> zitadel_sdk::Result<String> {
        self.0
            .get(options_json.to_owned(), origin.to_owned())
            .await
            .map_err(FfiError::into_core)
    }
}

/// The signed-in user's passkeys (passwordless sign-in).
#[derive(Debug, uniffi::Object)]
pub struct PasskeysClient {
    core: zitadel_sdk::Client,
}

#[uniffi::export]
impl ZitadelClient {
    /// The signed-in user's passkeys: register, list, remove.
    pub fn passkeys(&self) -> Arc<PasskeysClient> {
        Arc::new(PasskeysClient {
            core: self.core.clone(),
        })
    }
}

#[uniffi::export]
impl PasskeysClient {
    /// Registers a passkey named `name`: ZITADEL's creation options go to
    /// `authenticator`, its credential back to ZITADEL. A registration the
    /// authenticator does not finish is removed again.
    ///
    /// # Errors
    /// `InvalidInput` for an empty or over-long name or a credential ZITADEL
    /// refuses; the authenticator's errors (`Cancelled` when the user
    /// declines, `AlreadyExists`); `NotSignedIn`.
    pub async fn register(
        &self,
        authenticator: Arc<dyn PasskeyAuthenticator>,
        name: String,
    ) -> Result<Passkey, FfiError> {
        let c = self.core.clone();
        run(None, async move {
            c.passkeys()
                .register(&AuthenticatorAdapter(authenticator), &name)
                .await
        })
        .await
    }

    /// The user's passkeys.
    ///
    /// # Errors
    /// `NotSignedIn`; server errors.
    pub async fn list(&self) -> Result<Vec<Passkey>, FfiError> {
        let c = self.core.clone();
        run(None, async move { c.passkeys().list().await }).await
    }

    /// Removes a passkey (the authenticator keeps its key; it no longer signs in).
    ///
    /// # Errors
    /// `NotFound` for an unknown id; `NotSignedIn`.
    pub async fn remove(&self, passkey_id: String) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move { c.passkeys().remove(&passkey_id).await }).await
    }
}

#[uniffi::export]
impl NativeLoginClient {
    /// Passwordless login with a passkey: the login name, a passkey
    /// challenge (user verification required) signed by `authenticator`,
    /// then the login is finished. A passkey is multi-factor on its own: no
    /// second factor is asked for.
    ///
    /// # Errors
    /// `FailedPrecondition` when the login policy does not allow passkeys or
    /// the user has none; `NotFound` for an unknown login name; the
    /// authenticator's errors (`Cancelled`, `NotFound` when it holds none of
    /// the user's passkeys); `InvalidCredentials` when ZITADEL does not
    /// accept the assertion; `Misconfigured` without a login-client token.
    pub async fn passkey(
        &self,
        login_name: String,
        authenticator: Arc<dyn PasskeyAuthenticator>,
    ) -> Result<SignedIn, FfiError> {
        let c = self.core.clone();
        run(None, async move {
            c.native_login()
                .passkey(&login_name, &AuthenticatorAdapter(authenticator))
                .await
        })
        .await
        .map(SignedIn::from)
    }
}

#[uniffi::export]
impl NativeLogin {
    /// Checks a security key (U2F) as the second factor: a challenge (user
    /// verification discouraged) signed by `authenticator`.
    ///
    /// # Errors
    /// `FailedPrecondition` when the user has no security key; the
    /// authenticator's errors (`Cancelled`, `NotFound`); `InvalidCredentials`
    /// when ZITADEL does not accept the assertion.
    pub async fn check_u2f(
        &self,
        authenticator: Arc<dyn PasskeyAuthenticator>,
    ) -> Result<(), FfiError> {
        self.step(move |l| {
            Box::pin(async move {
                let a = AuthenticatorAdapter(authenticator);
                l.check_u2f(&a).await
            })
        })
        .await
    }
}

pub use software::SoftwareAuthenticator;

/// The error of everything that needs the software authenticator in a
/// library built without the feature `software-authenticator`.
#[cfg_attr(feature = "software-authenticator", allow(dead_code))]
fn no_software_authenticator() -> FfiError {
    FfiError::new(
        zitadel_sdk::ErrorCode::Misconfigured,
        "this library was built without the software-authenticator feature",
    )
}

/// The software authenticator, exported whether or not the feature is on,
/// so that the generated Kotlin and Swift code is the same for every build
/// of the library (code generated from a test build must load against an
/// app's build); without the feature its constructors fail with `Misconfigured`.
mod software {
    use super::PasskeyAuthenticator;
    use crate::client::ZitadelClient;
    use crate::error::FfiError;
    use crate::store::TokenStore;
    use std::sync::Arc;
    #[cfg(feature = "software-authenticator")]
    use {
        crate::runtime::run, crate::store::CoreStore,
        zitadel_sdk::software_authenticator::SoftwareAuthenticator as Core,
    };

    /// sdk-core's software WebAuthn authenticator: keys kept in a token
    /// store, one entry per account; pass [`authenticator`](Self::authenticator)
    /// where a [`PasskeyAuthenticator`] is asked for. Only in libraries built
    /// with the feature `software-authenticator` (desktop apps, tests);
    /// elsewhere the constructors fail with `Misconfigured`.
    ///
    /// # Security
    /// It approves every request at once, without asking anyone (no user
    /// presence or verification): whoever can use its store can sign in
    /// with its passkeys. For desktop programs, CLIs and tests; mobile apps
    /// use the platform authenticator.
    #[derive(Debug, uniffi::Object)]
    pub struct SoftwareAuthenticator {
        #[cfg(feature = "software-authenticator")]
        core: Arc<Core>,
    }

    /// The software authenticator as a [`PasskeyAuthenticator`]. Its calls
    /// run on the SDK's runtime, whatever executor awaits them.
    struct Software(#[cfg(feature = "software-authenticator")] Arc<Core>);

    #[async_trait::async_trait]
    impl PasskeyAuthenticator for Software {
        async fn create(&self, options_json: String, origin: String) -> Result<String, FfiError> {
            #[cfg(feature = "software-authenticator")]
            {
                let a = self.0.clone();
                run(None, async move {
                    zitadel_sdk::PasskeyAuthenticator::create(&*a, &options_json, &origin).await
                })
                .await
            }
            #[cfg(not(feature = "software-authenticator"))]
            {
                let _ = (options_json, origin);
                Err(super::no_software_authenticator())
            }
        }

        async fn get(&self, options_json: String, origin: String) -> Result<String, FfiError> {
            #[cfg(feature = "software-authenticator")]
            {
                let a = self.0.clone();
                run(None, async move {
                    zitadel_sdk::PasskeyAuthenticator::get(&*a, &options_json, &origin).await
                })
                .await
            }
            #[cfg(not(feature = "software-authenticator"))]
            {
                let _ = (options_json, origin);
                Err(super::no_software_authenticator())
            }
        }
    }

    #[uniffi::export]
    impl SoftwareAuthenticator {
        /// An authenticator keeping its keys in `store` under `account` (any
        /// non-empty name; several accounts live side by side). The same
        /// store and account find the same keys again.
        ///
        /// # Errors
        /// `InvalidInput` for an empty account name; `Misconfigured` in a
        /// library built without the feature `software-authenticator`.
        #[uniffi::constructor]
        pub fn new(store: Arc<dyn TokenStore>, account: String) -> Result<Arc<Self>, FfiError> {
            #[cfg(feature = "software-authenticator")]
            {
                let store: Arc<dyn zitadel_sdk::TokenStore> = Arc::new(CoreStore(store));
                Ok(Arc::new(SoftwareAuthenticator {
                    core: Arc::new(Core::new(store, &account)?),
                }))
            }
            #[cfg(not(feature = "software-authenticator"))]
            {
                let _ = (store, account);
                Err(super::no_software_authenticator())
            }
        }

        /// An authenticator in `client`'s store, under its issuer, client id
        /// and account.
        ///
        /// # Errors
        /// `Misconfigured` in a library built without the feature
        /// `software-authenticator`.
        #[uniffi::constructor]
        pub fn for_client(client: Arc<ZitadelClient>) -> Result<Arc<Self>, FfiError> {
            #[cfg(feature = "software-authenticator")]
            {
                Ok(Arc::new(SoftwareAuthenticator {
                    core: Arc::new(Core::for_client(&client.core)),
                }))
            }
            #[cfg(not(feature = "software-authenticator"))]
            {
                let _ = client;
                Err(super::no_software_authenticator())
            }
        }

        /// This authenticator as the [`PasskeyAuthenticator`] that
        /// registration and sign-in take.
        pub fn authenticator(&self) -> Arc<dyn PasskeyAuthenticator> {
            #[cfg(feature = "software-authenticator")]
            {
                Arc::new(Software(self.core.clone()))
            }
            #[cfg(not(feature = "software-authenticator"))]
            {
                Arc::new(Software())
            }
        }

        /// How many credentials it holds (for all relying parties).
        ///
        /// # Errors
        /// `Storage` when the store fails or holds unreadable data.
        pub async fn credential_count(&self) -> Result<u64, FfiError> {
            #[cfg(feature = "software-authenticator")]
            {
                let a = self.core.clone();
                run(
                    None,
                    async move { a.credential_count().await.map(|n| n as u64) },
                )
                .await
            }
            #[cfg(not(feature = "software-authenticator"))]
            {
                Err(super::no_software_authenticator())
            }
        }

        /// Deletes all of this account's keys. The server still lists the
        /// passkeys; remove them there too.
        ///
        /// # Errors
        /// `Storage` when the store fails.
        pub async fn forget(&self) -> Result<(), FfiError> {
            #[cfg(feature = "software-authenticator")]
            {
                let a = self.core.clone();
                run(None, async move { a.forget().await }).await
            }
            #[cfg(not(feature = "software-authenticator"))]
            {
                Err(super::no_software_authenticator())
            }
        }
    }
}

/// The authenticator of the C calls (which have no authenticator callback):
/// sdk-core's software authenticator in the client's store, under its
/// issuer, client id and account.
///
/// # Errors
/// `Misconfigured` when the library was built without the feature
/// `software-authenticator`.
pub(crate) fn c_authenticator(
    core: &zitadel_sdk::Client,
) -> Result<Arc<dyn zitadel_sdk::PasskeyAuthenticator>, FfiError> {
    #[cfg(feature = "software-authenticator")]
    {
        Ok(Arc::new(
            zitadel_sdk::software_authenticator::SoftwareAuthenticator::for_client(core),
        ))
    }
    #[cfg(not(feature = "software-authenticator"))]
    {
        let _ = core;
        Err(no_software_authenticator())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginNameArg {
    login_name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HandleArg {
    #[allow(dead_code)] // read by object_get
    handle: u64,
}

/// The C calls `native_login.passkey` `{"login_name"}` → `{"session",
/// "mfa_setup_required"}` and `native_login.check_u2f` `{"handle"}`, with
/// the C calls' authenticator ([`c_authenticator`]).
pub(crate) fn c_call_native_login(
    core: zitadel_sdk::Client,
    name: &str,
    a: serde_json::Value,
) -> Result<CallFuture, FfiError> {
    Ok(match name {
        "passkey" => {
            let n: LoginNameArg = args(a)?;
            let auth = c_authenticator(&core)?;
            Box::pin(async move {
                let signed_in = core.native_login().passkey(&n.login_name, &*auth).await?;
                Ok(SignedIn::from(signed_in).to_json_value())
            })
        }
        "check_u2f" => {
            let l: NativeLogin = object_get(&a)?;
            let _: HandleArg = args(a)?;
            let auth = c_authenticator(&core)?;
            Box::pin(async move {
                l.check_u2f(Arc::new(CoreAuthenticator(auth))).await?;
                Ok(serde_json::Value::Null)
            })
        }
        _ => return Err(unknown_method("native_login", name)),
    })
}

/// An sdk-core authenticator (the C calls' software one) as the host trait.
struct CoreAuthenticator(Arc<dyn zitadel_sdk::PasskeyAuthenticator>);

#[async_trait::async_trait]
impl PasskeyAuthenticator for CoreAuthenticator {
    async fn create(&self, options_json: String, origin: String) -> Result<String, FfiError> {
        Ok(self.0.create(&options_json, &origin).await?)
    }

    async fn get(&self, options_json: String, origin: String) -> Result<String, FfiError> {
        Ok(self.0.get(&options_json, &origin).await?)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameArg {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdArg {
    id: String,
}

/// The C calls `passkeys.*`: `register` `{"name"}` → the passkey
/// `{"id","name","ready"}` — with the software authenticator in the
/// client's store (feature `software-authenticator`; without it
/// `ZID_ERR_MISCONFIGURED`); `list` → `[passkey]`; `remove` `{"id"}`.
pub(crate) fn c_call(
    core: zitadel_sdk::Client,
    name: &str,
    a: serde_json::Value,
) -> Result<CallFuture, FfiError> {
    let p = core.passkeys();
    Ok(match name {
        "register" => {
            let n: NameArg = args(a)?;
            let auth = c_authenticator(&core)?;
            Box::pin(async move { json(p.register(&*auth, &n.name).await?) })
        }
        "list" => Box::pin(async move { json(p.list().await?) }),
        "remove" => {
            let i: IdArg = args(a)?;
            Box::pin(async move { done(p.remove(&i.id).await?) })
        }
        _ => return Err(unknown_method("passkeys", name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A host authenticator: echoes the options, or declines.
    struct Host {
        decline: bool,
    }

    #[async_trait::async_trait]
    impl PasskeyAuthenticator for Host {
        async fn create(&self, options_json: String, origin: String) -> Result<String, FfiError> {
            if self.decline {
                return Err(FfiError::new(zitadel_sdk::ErrorCode::Cancelled, "declined"));
            }
            Ok(format!("{options_json}|{origin}"))
        }

        async fn get(&self, options_json: String, _origin: String) -> Result<String, FfiError> {
            Err(FfiError::new(
                zitadel_sdk::ErrorCode::NotFound,
                format!("no credential for {}", options_json.len()),
            ))
        }
    }

    #[tokio::test]
    async fn the_host_authenticator_is_called_with_the_json_and_its_errors_keep_their_code() {
        use zitadel_sdk::PasskeyAuthenticator as _;
        let a = AuthenticatorAdapter(Arc::new(Host { decline: false }));
        assert_eq!(
            a.create("{}", "https://id.example").await.ok().as_deref(),
            Some("{}|https://id.example")
        );
        let e = a.get("{}", "https://id.example").await.err();
        assert_eq!(e.map(|e| e.code()), Some(zitadel_sdk::ErrorCode::NotFound));
        let declined = AuthenticatorAdapter(Arc::new(Host { decline: true }));
        let e = declined.create("{}", "https://id.example").await.err();
        assert_eq!(e.map(|e| e.code()), Some(zitadel_sdk::ErrorCode::Cancelled));
    }

    #[test]
    fn bad_passkey_arguments_are_invalid_input() {
        let Ok(core) = zitadel_sdk::Client::builder("http://127.0.0.1:9", "app").build() else {
            panic!("a loopback client builds");
        };
        for (m, a) in [
            ("register", json!({})),
            ("register", json!({"name": 1})),
            ("remove", json!({})),
            ("nope", json!({})),
        ] {
            let e = c_call(core.clone(), m, a).err();
            assert_eq!(e.map(|e| e.code()), Some(3), "{m}");
        }
        let r = c_call(core, "register", json!({"name": "laptop"}));
        if cfg!(feature = "software-authenticator") {
            assert!(r.is_ok());
        } else {
            assert_eq!(r.err().map(|e| e.code()), Some(7), "no authenticator in C");
        }
    }

    #[cfg(not(feature = "software-authenticator"))]
    #[test]
    fn without_the_feature_the_software_authenticator_is_misconfigured() {
        let e = SoftwareAuthenticator::new(crate::store::memory_token_store(), "a".into());
        assert_eq!(e.err().map(|e| e.code()), Some(7));
    }

    #[cfg(feature = "software-authenticator")]
    #[test]
    fn the_software_authenticator_runs_under_any_executor_and_refuses_a_foreign_origin() {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
            panic!("a bare runtime builds");
        };
        let Ok(sw) = SoftwareAuthenticator::new(crate::store::memory_token_store(), "a".into())
        else {
            panic!("an account name is given");
        };
        assert_eq!(rt.block_on(sw.credential_count()).ok(), Some(0));
        let options = json!({"rp": {"id": "id.example", "name": "x"},
            "user": {"id": "dQ", "name": "u", "displayName": "u"},
            "challenge": "AAAAAAAAAAAAAAAAAAAAAA",
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}]});
        let e = rt.block_on(
            sw.authenticator()
                .create(options.to_string(), "https://evil.example".into()),
        );
        assert!(e.is_err(), "the origin does not match the RP ID");
        let empty = SoftwareAuthenticator::new(crate::store::memory_token_store(), String::new());
        assert_eq!(empty.err().map(|e| e.code()), Some(3));
    }
}
