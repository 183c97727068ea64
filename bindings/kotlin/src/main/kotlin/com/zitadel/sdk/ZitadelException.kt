package com.zitadel.sdk

import com.zitadel.sdk.ffi.FfiException

/**
 * An SDK error. [code] is the stable number of the error (the same in Rust,
 * Swift and C) and [codeName] its stable name (e.g. `"session_expired"`);
 * the message is safe to log. Catch the subclass you can act on:
 * ```
 * try { auth.accessToken() } catch (e: ZitadelException.SessionExpired) { showLogin() }
 * ```
 * [failedAttempts] (wrong password, locked user) and [unmetPasswordRules]
 * (`"min_length"`, `"lowercase"`, `"uppercase"`, `"number"`, `"symbol"`) carry
 * what the app shows for those errors.
 */
sealed class ZitadelException(
    val code: Int,
    val codeName: String,
    message: String,
    cause: Throwable? = null,
    details: Details = Details.NONE,
) : Exception(message, cause) {
    /** The failed attempts the server counted, when it told them. */
    val failedAttempts: Int? = details.failedAttempts

    /** The unmet rules of the password policy (empty unless [code] is 19). */
    val unmetPasswordRules: List<String> = details.unmetPasswordRules

    /** What an error carries besides its code and message. */
    class Details(val failedAttempts: Int? = null, val unmetPasswordRules: List<String> = emptyList()) {
        companion object {
            /** No details. */
            val NONE = Details()
        }
    }

    /** A bug or an unexpected state in the SDK. Report it. */
    class Internal(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(1, "internal", message, cause, details)

    /** A transient network or server problem. Retry later. */
    class RetryLater(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(2, "retry_later", message, cause, details)

    /** The input given by the user or the app is invalid. */
    class InvalidInput(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(3, "invalid_input", message, cause, details)

    /** There is no signed-in session for this account. */
    class NotSignedIn(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(4, "not_signed_in", message, cause, details)

    /** The session ended on the server. Sign in again. */
    class SessionExpired(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(5, "session_expired", message, cause, details)

    /** The operation was cancelled by the app or the user. */
    class Cancelled(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(6, "cancelled", message, cause, details)

    /** The SDK is configured wrongly (issuer, client id, redirect URI). */
    class Misconfigured(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(7, "misconfigured", message, cause, details)

    /** The server refused the request. */
    class ServerRejected(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(8, "server_rejected", message, cause, details)

    /** The server's answer is malformed or failed a security check. */
    class InvalidServerResponse(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(9, "invalid_server_response", message, cause, details)

    /** The token store failed or holds data that cannot be read. */
    class Storage(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(10, "storage", message, cause, details)

    /** The user did not finish in time. Start again. */
    class Expired(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(11, "expired", message, cause, details)

    /** The user or the server denied the authorization. */
    class AccessDenied(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(12, "access_denied", message, cause, details)

    /** The caller lacks the permission (e.g. a plain user calling a manager operation). */
    class PermissionDenied(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(13, "permission_denied", message, cause, details)

    /** The user, session or other object does not exist. */
    class NotFound(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(14, "not_found", message, cause, details)

    /** The object exists already (e.g. a taken user name or email). */
    class AlreadyExists(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(15, "already_exists", message, cause, details)

    /** The user is locked; [failedAttempts] tells how many failed attempts the server counted, when it did. */
    class UserLocked(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(16, "user_locked", message, cause, details)

    /** A one-time or verification code is wrong. */
    class WrongCode(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(17, "wrong_code", message, cause, details)

    /** A one-time or verification code has expired. Ask for a new one. */
    class CodeExpired(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(18, "code_expired", message, cause, details)

    /** The password does not meet the complexity policy; [unmetPasswordRules] lists the unmet rules. */
    class PasswordPolicy(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(19, "password_policy", message, cause, details)

    /** The login name or password is wrong; [failedAttempts] counts the failures when the server tells. */
    class InvalidCredentials(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(20, "invalid_credentials", message, cause, details)

    /** The object is not in a state that allows this (e.g. OTP by SMS without a verified phone). */
    class FailedPrecondition(message: String, cause: Throwable? = null, details: Details = Details.NONE) :
        ZitadelException(21, "failed_precondition", message, cause, details)

    override fun toString(): String = "ZitadelException.${this::class.simpleName}($code $codeName: $message)"

    companion object {
        private class Fields(val code: Int, val detail: String, val failedAttempts: Int?, val rules: List<String>)

        /** The exception of an error the Rust side returned, keeping its code and details. */
        fun from(e: FfiException): ZitadelException {
            val f = when (e) {
                is FfiException.Internal -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.RetryLater -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.InvalidInput -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.NotSignedIn -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.SessionExpired -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.Cancelled -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.Misconfigured -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.ServerRejected -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.InvalidServerResponse -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.Storage -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.Expired -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.AccessDenied -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.PermissionDenied -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.NotFound -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.AlreadyExists -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.UserLocked -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.WrongCode -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.CodeExpired -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.PasswordPolicy -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.InvalidCredentials -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
                is FfiException.FailedPrecondition -> Fields(e.`code`.toInt(), e.`detail`, e.failedAttempts?.toInt(), e.unmetPasswordRules)
            }
            return of(f.code, f.detail, e, Details(f.failedAttempts, f.rules))
        }

        /** The exception for a stable [code]; unknown codes are [Internal]. */
        fun of(code: Int, message: String, cause: Throwable? = null, details: Details = Details.NONE): ZitadelException =
            when (code) {
                2 -> RetryLater(message, cause, details)
                3 -> InvalidInput(message, cause, details)
                4 -> NotSignedIn(message, cause, details)
                5 -> SessionExpired(message, cause, details)
                6 -> Cancelled(message, cause, details)
                7 -> Misconfigured(message, cause, details)
                8 -> ServerRejected(message, cause, details)
                9 -> InvalidServerResponse(message, cause, details)
                10 -> Storage(message, cause, details)
                11 -> Expired(message, cause, details)
                12 -> AccessDenied(message, cause, details)
                13 -> PermissionDenied(message, cause, details)
                14 -> NotFound(message, cause, details)
                15 -> AlreadyExists(message, cause, details)
                16 -> UserLocked(message, cause, details)
                17 -> WrongCode(message, cause, details)
                18 -> CodeExpired(message, cause, details)
                19 -> PasswordPolicy(message, cause, details)
                20 -> InvalidCredentials(message, cause, details)
                21 -> FailedPrecondition(message, cause, details)
                else -> Internal(message, cause, details)
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
