package com.zitadel.sdk.android

import android.app.Activity
import android.content.Context
import android.net.Uri
import android.os.Bundle
import androidx.browser.customtabs.CustomTabsIntent
import com.zitadel.sdk.ZitadelAuth
import com.zitadel.sdk.ffi.LoginOptions
import com.zitadel.sdk.ffi.SessionInfo
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import java.util.concurrent.atomic.AtomicReference

/**
 * Signs in with a Custom Tab and the configured custom-scheme or app-link
 * redirect URI: opens the authorization URL, waits for
 * [ZitadelRedirectActivity] to receive the redirect, and completes the login.
 * Cancel the coroutine to stop waiting (the user closed the tab).
 */
suspend fun ZitadelAuth.signInWithCustomTab(context: Context, options: LoginOptions = LoginOptions()): SessionInfo {
    val redirect = ZitadelRedirects.expect()
    val url = startLogin(options)
    CustomTabsIntent.Builder().setShowTitle(true).build().launchUrl(context, Uri.parse(url))
    return completeLogin(redirect.await().toString())
}

/**
 * Where [ZitadelRedirectActivity] hands redirects. A redirect nobody waits
 * for (the app process was killed while the tab was open) goes to
 * [unclaimed]: pass it to [ZitadelAuth.completeLogin] — the login in flight
 * survives a restart.
 */
object ZitadelRedirects {
    private val waiting = AtomicReference<CompletableDeferred<Uri>?>(null)
    private val unclaimedRedirect = MutableStateFlow<Uri?>(null)

    /** A redirect that arrived while no [signInWithCustomTab] was waiting. */
    val unclaimed: StateFlow<Uri?> = unclaimedRedirect.asStateFlow()

    internal fun expect(): CompletableDeferred<Uri> =
        CompletableDeferred<Uri>().also { waiting.getAndSet(it)?.cancel() }

    internal fun deliver(uri: Uri) {
        if (waiting.getAndSet(null)?.complete(uri) != true) unclaimedRedirect.value = uri
    }

    /** Clears [unclaimed] once the app has completed (or dropped) that login. */
    fun consumeUnclaimed() {
        unclaimedRedirect.value = null
    }
}

/**
 * Receives the login redirect. Declare it in the app's manifest with the
 * redirect URI's scheme (see bindings/README.md); it forwards the URL and finishes.
 */
class ZitadelRedirectActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        intent?.data?.let(ZitadelRedirects::deliver)
        finish()
    }
}
