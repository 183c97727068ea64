import ZitadelSdk

/// Where the sample signs in. Edit before running.
enum Config {
    /// Your instance, e.g. `https://my-instance.zitadel.cloud`. For the local
    /// emulator in the simulator: `http://localhost:8080` (run
    /// `cargo run -p zitadel-emulator -- --port 8080` on the Mac).
    static let issuer = "https://my-instance.zitadel.cloud"
    /// The client id of a native application in ZITADEL with the redirect URI below.
    static let clientId = "<native app client id>"
    /// A custom scheme: ASWebAuthenticationSession catches it, no Info.plist entry needed.
    static let redirectUri = "com.zitadel.sample:/callback"
    /// The login-client token (a PAT of a service user with IAM_LOGIN_CLIENT)
    /// for the native login and registration screens. Whoever holds it can
    /// create users and sign anyone in: only for demos against the emulator
    /// (its seed prints one) or a kiosk you control — never ship it in an app.
    /// `nil` hides those screens; the browser sign-in and registration always work.
    static let loginClientToken: String? = nil

    static var clientConfig: ClientConfig {
        ClientConfig(
            issuer: issuer,
            clientId: clientId,
            redirectUri: redirectUri,
            scopes: ["openid", "profile", "email", "offline_access"],
            loginClientToken: loginClientToken
        )
    }
}
