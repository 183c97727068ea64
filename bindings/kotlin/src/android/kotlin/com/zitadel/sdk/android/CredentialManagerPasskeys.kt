package com.zitadel.sdk.android

import android.app.Activity
import androidx.credentials.CreatePublicKeyCredentialRequest
import androidx.credentials.CreatePublicKeyCredentialResponse
import androidx.credentials.CredentialManager
import androidx.credentials.GetCredentialRequest
import androidx.credentials.GetPublicKeyCredentialOption
import androidx.credentials.PublicKeyCredential
import androidx.credentials.exceptions.CreateCredentialCancellationException
import androidx.credentials.exceptions.CreateCredentialException
import androidx.credentials.exceptions.GetCredentialCancellationException
import androidx.credentials.exceptions.GetCredentialException
import androidx.credentials.exceptions.NoCredentialException
import androidx.credentials.exceptions.domerrors.InvalidStateError
import androidx.credentials.exceptions.domerrors.NotAllowedError
import androidx.credentials.exceptions.publickeycredential.CreatePublicKeyCredentialDomException
import androidx.credentials.exceptions.publickeycredential.GetPublicKeyCredentialDomException
import com.zitadel.sdk.ffi.PasskeyAuthenticator
import java.lang.ref.WeakReference

/**
 * The SDK's WebAuthn authenticator on Android: the Credential Manager
 * (`androidx.credentials`), which creates and uses passkeys in the user's
 * password manager (Google Password Manager or another provider) and
 * security keys. Pass it to `client.passkeys().register(…)`,
 * `client.nativeLogin().passkey(…)` or a native login's U2F check.
 *
 * Both calls hand the WebAuthn JSON of ZITADEL to the Credential Manager as
 * it is (`PublicKeyCredentialCreationOptionsJSON` →
 * `RegistrationResponseJSON`, `PublicKeyCredentialRequestOptionsJSON` →
 * `AuthenticationResponseJSON`). `origin` is not passed on: only privileged
 * apps (browsers) may set it; for an app, Android derives the origin from
 * the app's signing certificate (`android:apk-key-hash:…`) and checks the
 * relying party's `/.well-known/assetlinks.json` (the issuer's host must
 * list the app with `delegate_permission/common.get_login_creds`).
 *
 * Errors reach the core with their code: `Cancelled` when the user dismissed
 * the prompt, `NotFound` when no passkey of the user is available,
 * `AlreadyExists` when the authenticator holds an excluded credential,
 * `Internal` otherwise (with the exception's type only).
 *
 * The Credential Manager shows its UI over an activity: [activity] is kept
 * weakly; call [attach] from each new activity (after a configuration change).
 *
 * Not part of the JVM build (no Android SDK there); needs the
 * `PasskeyAuthenticator` foreign trait of sdk-ffi.
 */
class CredentialManagerPasskeys(activity: Activity) : PasskeyAuthenticator {
    @Volatile
    private var activity = WeakReference(activity)
    private val credentialManager = CredentialManager.create(activity.applicationContext)

    /** Shows later prompts over [activity]. */
    fun attach(activity: Activity) {
        this.activity = WeakReference(activity)
    }

    private fun currentActivity(): Activity =
        activity.get()?.takeUnless { it.isFinishing || it.isDestroyed }
            ?: throw HostErrors.cancelled("no activity to show the passkey prompt over")

    override suspend fun create(optionsJson: String, origin: String): String {
        val request = CreatePublicKeyCredentialRequest(requestJson = optionsJson)
        val response = try {
            credentialManager.createCredential(currentActivity(), request)
        } catch (e: CreateCredentialException) {
            throw createError(e)
        }
        return (response as? CreatePublicKeyCredentialResponse)?.registrationResponseJson
            ?: throw HostErrors.internal("the Credential Manager returned no public-key credential")
    }

    override suspend fun get(optionsJson: String, origin: String): String {
        val request = GetCredentialRequest(listOf(GetPublicKeyCredentialOption(requestJson = optionsJson)))
        val response = try {
            credentialManager.getCredential(currentActivity(), request)
        } catch (e: GetCredentialException) {
            throw getError(e)
        }
        return (response.credential as? PublicKeyCredential)?.authenticationResponseJson
            ?: throw HostErrors.internal("the Credential Manager returned no public-key credential")
    }

    private fun createError(e: CreateCredentialException) = when {
        e is CreateCredentialCancellationException -> HostErrors.cancelled("the user dismissed the passkey prompt")
        e is CreatePublicKeyCredentialDomException && e.domError is InvalidStateError ->
            HostErrors.alreadyExists("the authenticator is registered for this account already")
        e is CreatePublicKeyCredentialDomException && e.domError is NotAllowedError ->
            HostErrors.cancelled("the passkey prompt was not allowed or timed out")
        else -> HostErrors.internal("the passkey could not be created (${e.type})")
    }

    private fun getError(e: GetCredentialException) = when {
        e is GetCredentialCancellationException -> HostErrors.cancelled("the user dismissed the passkey prompt")
        e is NoCredentialException -> HostErrors.notFound("no passkey of this account is available")
        e is GetPublicKeyCredentialDomException && e.domError is NotAllowedError ->
            HostErrors.cancelled("the passkey prompt was not allowed or timed out")
        else -> HostErrors.internal("the passkey could not be used (${e.type})")
    }
}
