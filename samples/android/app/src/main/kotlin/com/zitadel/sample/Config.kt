package com.zitadel.sample

import com.zitadel.sdk.ffi.ClientConfig

/** Where the sample signs in. Edit before running. */
object Config {
    /**
     * Your instance, e.g. `https://my-instance.zitadel.cloud`. For the local
     * emulator: `http://localhost:8080` after `adb reverse tcp:8080 tcp:8080`
     * (plain HTTP is accepted on loopback only).
     */
    const val ISSUER = "https://my-instance.zitadel.cloud"

    /** The client id of a native application with the redirect URI below. */
    const val CLIENT_ID = "<native app client id>"

    /** Caught by ZitadelRedirectActivity (AndroidManifest.xml). */
    const val REDIRECT_URI = "com.zitadel.sample:/callback"

    /**
     * The login-client token (a PAT of a service user with IAM_LOGIN_CLIENT)
     * for the native login and registration screens. Whoever holds it can
     * create users and sign anyone in: only for demos against the emulator
     * (its seed prints one) or a kiosk you control, never in a published app.
     * `null` hides those screens; browser sign-in and registration always work.
     */
    val LOGIN_CLIENT_TOKEN: String? = null

    val clientConfig = ClientConfig(
        issuer = ISSUER,
        clientId = CLIENT_ID,
        redirectUri = REDIRECT_URI,
        scopes = listOf("openid", "profile", "email", "offline_access"),
        loginClientToken = LOGIN_CLIENT_TOKEN,
    )
}
