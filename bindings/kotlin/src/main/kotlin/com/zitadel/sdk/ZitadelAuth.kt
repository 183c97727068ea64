package com.zitadel.sdk

import com.zitadel.sdk.ffi.AuthEvent
import com.zitadel.sdk.ffi.AuthStateListener
import com.zitadel.sdk.ffi.BrowserLauncher
import com.zitadel.sdk.ffi.ClientConfig
import com.zitadel.sdk.ffi.DeviceLogin
import com.zitadel.sdk.ffi.LoginOptions
import com.zitadel.sdk.ffi.LogoutResult
import com.zitadel.sdk.ffi.SessionInfo
import com.zitadel.sdk.ffi.TokenStore
import com.zitadel.sdk.ffi.ZitadelClient
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlin.time.Duration
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/** Whether a user is signed in, as [ZitadelAuth.state] tells it. */
sealed interface AuthState {
    /** Not known yet: call [ZitadelAuth.restore] once at start. */
    data object Unknown : AuthState

    /** No session: show the sign-in screen. */
    data object SignedOut : AuthState

    /** A session of [subject] (the user id) under [account]. */
    data class SignedIn(val account: String, val subject: String) : AuthState

    /** The server ended the session: sign in again. */
    data class SessionExpired(val account: String) : AuthState
}

/**
 * The Kotlin face of the SDK for one issuer, client id and account: every
 * call is a suspend function (cancel the coroutine to cancel a long wait),
 * errors are [ZitadelException]s, and [state] follows sign-in, refresh and
 * sign-out.
 *
 * @param store where the session is kept (default: in memory); on Android an
 *   Android-Keystore-backed store, on the desktop the OS keyring
 *   ([com.zitadel.sdk.ffi.keyringTokenStore], in libraries built with the
 *   feature `keyring`) or [com.zitadel.sdk.ffi.fileTokenStore].
 */
class ZitadelAuth(config: ClientConfig, store: TokenStore? = null) : AutoCloseable {
    /** The generated client, for what this layer does not wrap. */
    val client: ZitadelClient = sdkCall { ZitadelClient(config, store) }

    private val mutableState = MutableStateFlow<AuthState>(AuthState.Unknown)

    /** The auth state of [account]; updated on SDK threads as events happen. */
    val state: StateFlow<AuthState> = mutableState.asStateFlow()

    /** The account this client is bound to. */
    val account: String = client.account()

    init {
        client.addListener(
            object : AuthStateListener {
                override fun onEvent(event: AuthEvent) {
                    onAuthEvent(event)
                }
            },
        )
    }

    private fun onAuthEvent(event: AuthEvent) {
        when (event) {
            is AuthEvent.SignedIn ->
                if (event.account == account) mutableState.value = AuthState.SignedIn(event.account, event.subject)
            is AuthEvent.Refreshed -> Unit
            is AuthEvent.SignedOut ->
                if (event.account == account) mutableState.value = AuthState.SignedOut
            is AuthEvent.SessionExpired ->
                if (event.account == account) mutableState.value = AuthState.SessionExpired(event.account)
        }
    }

    private fun signedIn(session: SessionInfo): SessionInfo {
        mutableState.value = AuthState.SignedIn(session.account, session.subject)
        return session
    }

    /** Reads the stored session (no request) and sets [state] from it. */
    suspend fun restore(): SessionInfo? {
        val session = sdkCall { client.session() }
        if (session == null) mutableState.value = AuthState.SignedOut else signedIn(session)
        return session
    }

    /** The signed-in session, or null. Makes no request. */
    suspend fun session(): SessionInfo? = sdkCall { client.session() }

    /**
     * A valid access token, refreshed first when it is about to expire; however
     * many coroutines ask at once, one refresh request is made. Never log it.
     */
    suspend fun accessToken(): String = sdkCall { client.accessToken() }

    /**
     * The access token already in memory when it can be used as it is, else
     * null (then call [accessToken]). Not suspending and never waits: safe on
     * the main thread or in a render loop. Never log it.
     */
    fun cachedAccessToken(): String? = client.cachedAccessToken()

    /** Refreshes the tokens now. */
    suspend fun refresh(): SessionInfo = sdkCall { client.refresh() }

    /** The userinfo of the signed-in user, as a JSON object. */
    suspend fun userinfo(): String = sdkCall { client.userinfo() }

    /** The URL that ends the browser session; open it before [logout]. */
    suspend fun endSessionUrl(postLogoutRedirectUri: String? = null, state: String? = null): String =
        sdkCall { client.endSessionUrl(postLogoutRedirectUri, state) }

    /** Signs out: revokes the tokens and wipes the stored session. */
    suspend fun logout(): LogoutResult {
        val result = sdkCall { client.logout() }
        mutableState.value = AuthState.SignedOut
        return result
    }

    /**
     * Signs in through [browser] with a loopback redirect (desktop apps): the
     * SDK waits for the redirect on 127.0.0.1. Cancel the coroutine to stop waiting.
     */
    suspend fun loginWithLoopback(
        browser: BrowserLauncher,
        options: LoginOptions = LoginOptions(),
        timeout: Duration = 5.minutes,
    ): SessionInfo {
        val secs = timeout.inWholeSeconds.coerceIn(1, UInt.MAX_VALUE.toLong()).toUInt()
        return signedIn(sdkCall { client.loginWithLoopback(browser, options, secs, null) })
    }

    /** Starts a browser login with the configured redirect URI (Custom Tabs); returns the URL to open. */
    suspend fun startLogin(options: LoginOptions = LoginOptions()): String = sdkCall { client.startLogin(options) }

    /** Completes a browser login with the URL the browser was redirected to. */
    suspend fun completeLogin(callbackUrl: String): SessionInfo =
        signedIn(sdkCall { client.completeLogin(callbackUrl) })

    /**
     * Runs calls of the self-service flows — the sub-clients of [client]:
     * `profile()`, `email()`, `phone()`, `password()`, `mfa()`, `passkeys()`,
     * `links()`, `sessions()`, `settings()`, `registration()`, `nativeLogin()`,
     * `manager()` — with their errors as [ZitadelException]s:
     * ```
     * val user = auth.call { profile().get() }
     * ```
     */
    suspend fun <T> call(block: suspend ZitadelClient.() -> T): T = sdkCall { client.block() }

    /** Starts a device login (TVs, consoles): show [DeviceSignIn.userCode], then [DeviceSignIn.await]. */
    suspend fun startDeviceLogin(): DeviceSignIn = DeviceSignIn(sdkCall { client.startDeviceLogin() }, ::signedIn)

    override fun close() {
        client.close()
    }
}

/** A device login in progress: the codes to show, and the wait for the user's approval. */
class DeviceSignIn internal constructor(
    private val device: DeviceLogin,
    private val onSession: (SessionInfo) -> SessionInfo,
) : AutoCloseable {
    /** The code the user enters on [verificationUri]. */
    val userCode: String = device.userCode()

    /** The page where the user enters the code. */
    val verificationUri: String = device.verificationUri()

    /** The page with the code filled in (for a QR code), when offered. */
    val verificationUriComplete: String? = device.verificationUriComplete()

    /** How long the code is valid. */
    val expiresIn: Duration = device.expiresInSecs().toLong().seconds

    /**
     * Waits until the user approved; cancelling the coroutine stops the polling.
     * @throws ZitadelException.Expired when the code expired
     * @throws ZitadelException.AccessDenied when the user denied
     * @throws ZitadelException.Cancelled after [cancel]
     */
    suspend fun await(): SessionInfo = onSession(sdkCall { device.wait() })

    /** Cancels [await], now and for any later call. */
    fun cancel() = device.cancel()

    override fun close() = device.close()
}
