package com.zitadel.sdk

import com.zitadel.sdk.ffi.FfiException

/**
 * An SDK error. [code] is the stable number of the error (the same in Rust,
 * Swift and C) and [codeName] its stable name (e.g. `"session_expired"`);
 * the message is safe to log. Catch the subclass you can act on:
 * ```
 * try { auth.accessToken() } catch (e: ZitadelException.SessionExpired) { showLogin() }
 * ```
 */
sealed class ZitadelException(
    val code: Int,
    val codeName: String,
    message: String,
    cause: Throwable? = null,
) : Exception(message, cause) {
    /** A bug or an unexpected state in the SDK. Report it. */
    class Internal(message: String, cause: Throwable? = null) : ZitadelException(1, "internal", message, cause)

    /** A transient network or server problem. Retry later. */
    class RetryLater(message: String, cause: Throwable? = null) : ZitadelException(2, "retry_later", message, cause)

    /** The input given by the user or the app is invalid. */
    class InvalidInput(message: String, cause: Throwable? = null) : ZitadelException(3, "invalid_input", message, cause)

    /** There is no signed-in session for this account. */
    class NotSignedIn(message: String, cause: Throwable? = null) : ZitadelException(4, "not_signed_in", message, cause)

    /** The session ended on the server. Sign in again. */
    class SessionExpired(message: String, cause: Throwable? = null) :
        ZitadelException(5, "session_expired", message, cause)

    /** The operation was cancelled by the app or the user. */
    class Cancelled(message: String, cause: Throwable? = null) : ZitadelException(6, "cancelled", message, cause)

    /** The SDK is configured wrongly (issuer, client id, redirect URI). */
    class Misconfigured(message: String, cause: Throwable? = null) :
        ZitadelException(7, "misconfigured", message, cause)

    /** The server refused the request. */
    class ServerRejected(message: String, cause: Throwable? = null) :
        ZitadelException(8, "server_rejected", message, cause)

    /** The server's answer is malformed or failed a security check. */
    class InvalidServerResponse(message: String, cause: Throwable? = null) :
        ZitadelException(9, "invalid_server_response", message, cause)

    /** The token store failed or holds data that cannot be read. */
    class Storage(message: String, cause: Throwable? = null) : ZitadelException(10, "storage", message, cause)

    /** The user did not finish in time. Start again. */
    class Expired(message: String, cause: Throwable? = null) : ZitadelException(11, "expired", message, cause)

    /** The user or the server denied the authorization. */
    class AccessDenied(message: String, cause: Throwable? = null) :
        ZitadelException(12, "access_denied", message, cause)

    override fun toString(): String = "ZitadelException.${this::class.simpleName}($code $codeName: $message)"

    companion object {
        /**
         * The generated message of every error variant: `code=N, name=NAME, detail=TEXT`
         * (uniffi 0.32, pinned exactly; ZitadelAuthTest checks the mapping).
         */
        private val FFI_MESSAGE = Regex("""code=(\d+), name=[a-z_]+, detail=(.*)""", RegexOption.DOT_MATCHES_ALL)

        /** The exception of an error the Rust side returned, keeping its code. */
        fun from(e: FfiException): ZitadelException {
            val parts = FFI_MESSAGE.matchEntire(e.message.orEmpty())?.groupValues
                ?: return Internal(e.message ?: "an unknown SDK error", e)
            return of(parts[1].toInt(), parts[2], e)
        }

        /** The exception for a stable [code]; unknown codes are [Internal]. */
        fun of(code: Int, message: String, cause: Throwable? = null): ZitadelException = when (code) {
            2 -> RetryLater(message, cause)
            3 -> InvalidInput(message, cause)
            4 -> NotSignedIn(message, cause)
            5 -> SessionExpired(message, cause)
            6 -> Cancelled(message, cause)
            7 -> Misconfigured(message, cause)
            8 -> ServerRejected(message, cause)
            9 -> InvalidServerResponse(message, cause)
            10 -> Storage(message, cause)
            11 -> Expired(message, cause)
            12 -> AccessDenied(message, cause)
            else -> Internal(message, cause)
        }
    }
}

/** Runs a call of the generated code, turning its errors into [ZitadelException]s. */
internal inline fun <T> sdkCall(block: () -> T): T =
    try {
        block()
    } catch (e: FfiException) {
        throw ZitadelException.from(e)
    }
