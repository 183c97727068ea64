package com.zitadel.sdk

import com.zitadel.sdk.ffi.BrowserLauncher
import com.zitadel.sdk.ffi.CancelHandle
import com.zitadel.sdk.ffi.FfiException
import com.zitadel.sdk.ffi.IdpRegistration
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.net.URI
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.concurrent.thread

/**
 * The external user [subject] at the emulator's test IdP: on another thread,
 * loads the IdP's form, submits the user and follows the redirects back to
 * the SDK's loopback receiver.
 */
private class IdpFormBrowser(private val subject: String) : BrowserLauncher {
    @Volatile
    var failure: Throwable? = null

    override fun openUrl(url: String) {
        thread(isDaemon = true) {
            try {
                val http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build()
                val page = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
                val state = page.body().substringAfter("name=\"state\" value=\"", "").substringBefore('"')
                check(state.isNotEmpty()) { "the test IdP's form has no state" }
                val form = listOf(
                    "state" to state, "sub" to subject, "username" to subject,
                    "email" to "$subject@idp.example", "givenName" to "Ext", "familyName" to "Ernal",
                    "action" to "login",
                ).joinToString("&") { (k, v) -> "$k=" + URLEncoder.encode(v, Charsets.UTF_8) }
                http.send(
                    HttpRequest.newBuilder(page.uri().resolve("/_emulator/test-idp/authorize"))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(form))
                        .build(),
                    HttpResponse.BodyHandlers.discarding(),
                )
            } catch (e: Throwable) {
                failure = e
            }
        }
    }
}

/** Records the URLs it is asked to open and never comes back. */
private class RecordingBrowser : BrowserLauncher {
    val urls = CopyOnWriteArrayList<String>()

    override fun openUrl(url: String) {
        urls.add(url)
    }
}

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegistrationBrowserTest {
    private val emulator = Emulator()

    @AfterAll
    fun stop() = emulator.close()

    /** The id of the seed's test IdP, as the login client reads the login settings. */
    private fun testIdpId(): String {
        val request = HttpRequest.newBuilder(URI.create("${emulator.issuer}/v2/settings/login/idps"))
            .header("Authorization", "Bearer ${emulator.loginClientToken}")
            .timeout(Duration.ofSeconds(10))
            .build()
        val body = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString()).body()
        @Suppress("UNCHECKED_CAST")
        val idps = Emulator.parse(body)["identityProviders"] as List<Map<String, Any?>>
        return idps.first { it["name"] == "Test IdP" }["id"] as String
    }

    @Test
    fun `registration with an IdP prefills a draft, creates the linked user and then signs in directly`() = runBlocking<Unit> {
        val idpId = testIdpId()
        val client = nativeClient(emulator)
        val browser = IdpFormBrowser("ext-kotlin")
        val first = client.registration().withIdp(idpId, browser, 20u, null)
        assertNull(browser.failure)
        val draft = (first as IdpRegistration.Draft).draft
        assertEquals(idpId, draft.idpId())
        val fields = draft.fields()
        assertEquals("Ext", fields.givenName)
        assertEquals("ext-kotlin@idp.example", fields.email)
        assertFalse(fields.acceptedTerms)

        // Without the terms accepted the draft is refused, then accepted.
        val refused = assertThrows<FfiException.InvalidInput> {
            runBlocking { client.registration().createFromDraft(draft) }
        }
        assertEquals(3, refused.errorCode)
        draft.setFields(fields.copy(givenName = "Edited", acceptedTerms = true))
        val signedIn = client.registration().createFromDraft(draft)
        assertEquals(signedIn.session.subject, client.session()?.subject)
        assertEquals("Edited", client.profile().get().givenName)

        // The same external account again: linked already, signed in at once.
        val again = nativeClient(emulator).registration().withIdp(idpId, IdpFormBrowser("ext-kotlin"), 20u, null)
        assertEquals(signedIn.session.subject, (again as IdpRegistration.Linked).signedIn.session.subject)
    }

    @Test
    fun `browser registration opens the hosted form with prompt create and ends cancelled by its handle`() = runBlocking<Unit> {
        val browser = RecordingBrowser()
        val cancel = CancelHandle()
        val watcher = thread {
            while (browser.urls.isEmpty()) Thread.sleep(20)
            cancel.cancel()
        }
        val e = assertThrows<FfiException.Cancelled> {
            runBlocking { nativeClient(emulator).registration().inBrowser(browser, 20u, cancel) }
        }
        watcher.join()
        assertEquals(6, e.code.toInt())
        assertTrue("prompt=create" in browser.urls.single(), browser.urls.single())
    }
}
