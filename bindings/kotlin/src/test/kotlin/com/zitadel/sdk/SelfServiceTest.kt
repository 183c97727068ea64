package com.zitadel.sdk

import com.zitadel.sdk.ffi.AuthMethod
import com.zitadel.sdk.ffi.BrowserLauncher
import com.zitadel.sdk.ffi.CancelHandle
import com.zitadel.sdk.ffi.ClientConfig
import com.zitadel.sdk.ffi.CodeDelivery
import com.zitadel.sdk.ffi.FfiException
import com.zitadel.sdk.ffi.PasskeyAuthenticator
import com.zitadel.sdk.ffi.PasswordRule
import com.zitadel.sdk.ffi.ProfileUpdate
import com.zitadel.sdk.ffi.ResetDelivery
import com.zitadel.sdk.ffi.SoftwareAuthenticator
import com.zitadel.sdk.ffi.ZitadelClient
import com.zitadel.sdk.ffi.passwordPolicyUnmetRules
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.net.URI
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.ByteBuffer
import java.util.concurrent.atomic.AtomicInteger
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec
import kotlin.concurrent.thread
import kotlin.time.Duration.Companion.seconds

/** RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s steps), as an authenticator app computes it. */
object Totp {
    private const val ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

    /** Decodes RFC 4648 base32 (case-insensitive, padding ignored). */
    fun base32(text: String): ByteArray {
        val out = java.io.ByteArrayOutputStream()
        var buffer = 0
        var bits = 0
        for (c in text.uppercase().filter { it != '=' && !it.isWhitespace() }) {
            val v = ALPHABET.indexOf(c)
            require(v >= 0) { "not base32" }
            buffer = (buffer shl 5) or v
            bits += 5
            if (bits >= 8) {
                bits -= 8
                out.write((buffer shr bits) and 0xff)
            }
        }
        return out.toByteArray()
    }

    /** The code for [secret] (base32) at [epochSeconds]. */
    fun code(secret: String, epochSeconds: Long = System.currentTimeMillis() / 1000): String {
        val mac = Mac.getInstance("HmacSHA1")
        mac.init(SecretKeySpec(base32(secret), "HmacSHA1"))
        val hash = mac.doFinal(ByteBuffer.allocate(8).putLong(epochSeconds / 30).array())
        val offset = hash[hash.size - 1].toInt() and 0x0f
        val binary = ((hash[offset].toInt() and 0x7f) shl 24) or
            ((hash[offset + 1].toInt() and 0xff) shl 16) or
            ((hash[offset + 2].toInt() and 0xff) shl 8) or
            (hash[offset + 3].toInt() and 0xff)
        return (binary % 1_000_000).toString().padStart(6, '0')
    }
}

/** A [PasskeyAuthenticator] written in Kotlin: passes each call on to [inner] and counts it. */
class CountingAuthenticator(private val inner: PasskeyAuthenticator) : PasskeyAuthenticator {
    val creates = AtomicInteger()

    override suspend fun create(optionsJson: String, origin: String): String {
        creates.incrementAndGet()
        return inner.create(optionsJson, origin)
    }

    override suspend fun get(optionsJson: String, origin: String): String = inner.get(optionsJson, origin)
}

/** A Kotlin authenticator whose user always dismisses the prompt. */
class DecliningAuthenticator : PasskeyAuthenticator {
    override suspend fun create(optionsJson: String, origin: String): String =
        throw FfiException.Cancelled(6u, "cancelled", "the user dismissed the prompt", null, emptyList())

    override suspend fun get(optionsJson: String, origin: String): String =
        throw FfiException.Cancelled(6u, "cancelled", "the user dismissed the prompt", null, emptyList())
}

/**
 * A browser for the emulator's test IdP: on another thread (the SDK starts
 * waiting for the redirect only after [openUrl] returned), it loads the
 * IdP's page, submits the external user [subject] on its form and follows
 * the redirects back to the SDK's loopback receiver.
 */
class TestIdpBrowser(private val subject: String) : BrowserLauncher {
    @Volatile
    var failure: Throwable? = null

    override fun openUrl(url: String) {
        thread(isDaemon = true) {
            try {
                val http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build()
                val page = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
                val state = page.body().substringAfter("name=\"state\" value=\"", "").substringBefore('"')
                check(state.isNotEmpty()) { "not the test IdP's form" }
                val form = mapOf(
                    "state" to state, "sub" to subject, "username" to subject, "email" to "$subject@idp.example",
                    "givenName" to "Ext", "familyName" to "Ernal", "action" to "login",
                ).entries.joinToString("&") { (k, v) -> k + "=" + URLEncoder.encode(v, Charsets.UTF_8) }
                val action = page.uri().resolve("/_emulator/test-idp/authorize")
                http.send(
                    HttpRequest.newBuilder(action)
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

/** A browser that never comes back (the user walked away). */
class IdleBrowser : BrowserLauncher {
    override fun openUrl(url: String) = Unit
}

/**
 * The signed-in user's self-service flows through the generated bindings,
 * against the emulator: profile, password policy, TOTP with codes computed
 * here, email verification with the code from the emulator's outbox,
 * passkeys and security keys with the software authenticator and with
 * authenticators written in Kotlin, recovery codes, sessions.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SelfServiceTest {
    private val emulator = Emulator()
    private val http = HttpClient.newHttpClient()

    @AfterAll
    fun stop() = emulator.close()

    private fun config() = ClientConfig(
        issuer = emulator.issuer,
        clientId = emulator.clientId,
        redirectUri = "http://127.0.0.1/callback",
    )

    /** A client signed in as the seeded user through the device flow (approved through the login-client API). */
    private suspend fun signedIn(): ZitadelAuth {
        val auth = ZitadelAuth(config())
        auth.startDeviceLogin().use { device ->
            emulator.approveDevice(device.userCode)
            withTimeout(30.seconds) { device.await() }
        }
        return auth
    }

    /**
     * The emulator's login-client token. [Emulator] keeps it private (its
     * own helpers use it); read it here rather than widen a shared test file.
     */
    private val loginClientToken: String by lazy {
        Emulator::class.java.getDeclaredField("loginClientToken").run {
            isAccessible = true
            get(emulator) as String
        }
    }

    private fun loginClientConfig() = config().copy(loginClientToken = loginClientToken)

    /** The newest code the emulator's outbox holds for [to]. */
    private fun lastCode(to: String): String {
        val uri = URI.create(emulator.issuer + "/_emulator/outbox?to=" + URLEncoder.encode(to, Charsets.UTF_8))
        val body = http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString()).body()
        @Suppress("UNCHECKED_CAST")
        val messages = Emulator.parse(body)["messages"] as List<Map<String, Any?>>
        return messages.lastOrNull { it["code"] != null }?.get("code") as? String
            ?: error("no code for $to in the outbox")
    }

    @Test
    fun `a profile update is read back and the password policy is checked locally`() = runBlocking {
        signedIn().use { auth ->
            val profile = auth.client.profile()
            profile.update(ProfileUpdate(givenName = "Alicia", nickName = "Ali"))
            val user = profile.get()
            assertEquals("Alicia", user.givenName)
            assertEquals("Ali", user.nickName)
            assertEquals(Emulator.USER, user.preferredLoginName)

            val policy = auth.client.password().policy()
            val unmet = passwordPolicyUnmetRules(policy, "a")
            assertTrue(PasswordRule.MIN_LENGTH in unmet, "$unmet")
            assertTrue(passwordPolicyUnmetRules(policy, "N3w-Passw0rd!").isEmpty())
            // A password meeting the policy, with a wrong current one: refused by the server.
            val wrong = assertThrows<FfiException> {
                auth.client.password().change("not-my-password", "N3w-Passw0rd!")
            }
            assertEquals(20, wrong.code())
            // A weak one: refused before any request, every unmet rule named.
            val weak = assertThrows<FfiException.PasswordPolicy> {
                auth.client.password().change(Emulator.PASSWORD, "weak")
            }
            assertEquals(19, weak.code.toInt())
            assertTrue("min_length" in weak.unmetPasswordRules, "${weak.unmetPasswordRules}")
        }
    }

    @Test
    fun `TOTP is enrolled with a code computed in Kotlin, listed, and removed`() = runBlocking {
        signedIn().use { auth ->
            val mfa = auth.client.mfa()
            val enrollment = mfa.addTotp()
            try {
                assertTrue(enrollment.uri.startsWith("otpauth://totp/"))
                assertTrue(enrollment.secret.isNotEmpty())
                assertFalse(enrollment.secret in enrollment.toString(), "toString() must not show the secret")
                assertFalse(enrollment.uri in enrollment.toString(), "toString() must not show the URI")

                val wrongCode = if (Totp.code(enrollment.secret) == "000000") "111111" else "000000"
                val wrong = assertThrows<FfiException.WrongCode> { mfa.verifyTotp(wrongCode) }
                assertEquals(17, wrong.code.toInt())

                mfa.verifyTotp(Totp.code(enrollment.secret))
                assertTrue(AuthMethod.TOTP in mfa.methods(), "TOTP is listed after the verification")
            } finally {
                mfa.removeTotp()
            }
            assertFalse(AuthMethod.TOTP in mfa.methods(), "TOTP is gone after the removal")
        }
    }

    @Test
    fun `an email change is verified with the code from the outbox and a wrong code is WrongCode 17`() =
        runBlocking {
            signedIn().use { auth ->
                val address = "alice.new@acme.localhost"
                val email = auth.client.email()
                assertEquals(null, email.set(address, CodeDelivery.Send), "ZITADEL sends the code")
                assertFalse(auth.client.profile().get().emailVerified)

                val code = lastCode(address)
                val wrong = assertThrows<FfiException> { email.verify(if (code == "WRONG1") "WRONG2" else "WRONG1") }
                assertEquals(17, wrong.code())
                assertTrue(wrong is FfiException.WrongCode)

                email.verify(code)
                val user = auth.client.profile().get()
                assertEquals(address, user.email)
                assertTrue(user.emailVerified)
                // Nothing is pending any more.
                val again = assertThrows<FfiException> { email.resend(CodeDelivery.Return) }
                assertEquals(21, again.code())
                // A verified email carries OTP by email.
                val mfa = auth.client.mfa()
                mfa.addOtpEmail()
                assertTrue(AuthMethod.OTP_EMAIL in mfa.methods())
                mfa.removeOtpEmail()
                assertFalse(AuthMethod.OTP_EMAIL in mfa.methods())

                // With CodeDelivery.Return the code comes back to the app.
                val other = "alice.other@acme.localhost"
                val returned = email.set(other, CodeDelivery.Return)
                assertNotNull(returned)
                email.verify(returned!!)
                assertEquals(other, auth.client.profile().get().email)
            }
        }

    @Test
    fun `a passkey is registered with the software authenticator through a Kotlin authenticator, signs in, and is removed`() =
        runBlocking {
            signedIn().use { auth ->
                val passkeys = auth.client.passkeys()
                val software = SoftwareAuthenticator.forClient(auth.client)
                val kotlinSide = CountingAuthenticator(software.authenticator())

                val passkey = passkeys.register(kotlinSide, "Laptop")
                assertEquals(1, kotlinSide.creates.get(), "Rust called the Kotlin authenticator")
                assertEquals(1UL, software.credentialCount())
                val listed = passkeys.list()
                assertTrue(listed.any { it.id == passkey.id && it.ready && it.name == "Laptop" }, "$listed")

                // Passwordless native login with it, from another client (a login-client host).
                ZitadelClient(loginClientConfig(), null).use { host ->
                    val signedIn = host.nativeLogin().passkey(Emulator.USER, kotlinSide)
                    assertEquals(auth.session()!!.subject, signedIn.session.subject)
                }

                // A user who dismisses the prompt: Cancelled, and nothing half-registered is left.
                val declined = assertThrows<FfiException.Cancelled> {
                    passkeys.register(DecliningAuthenticator(), "Phone")
                }
                assertEquals(6, declined.code.toInt())
                assertEquals(listOf(passkey.id), passkeys.list().map { it.id })

                passkeys.remove(passkey.id)
                assertTrue(passkeys.list().none { it.id == passkey.id })
                val gone = assertThrows<FfiException> { passkeys.remove(passkey.id) }
                assertEquals(14, gone.code())
                software.forget()
                assertEquals(0UL, software.credentialCount())
            }
        }

    @Test
    fun `a security key is registered with the software authenticator, checked as a second factor, and removed`() = runBlocking {
        signedIn().use { auth ->
            val mfa = auth.client.mfa()
            val software = SoftwareAuthenticator.forClient(auth.client.forAccount("u2f-key"))
            val key = mfa.addU2f(software.authenticator(), "YubiKey")
            try {
                assertTrue(mfa.securityKeys().any { it.id == key.id && it.ready }, "the key is listed")
                assertTrue(AuthMethod.U2F in mfa.methods())
                // The key as the second factor of a native login.
                ZitadelClient(loginClientConfig(), null).use { host ->
                    val login = host.nativeLogin().password(Emulator.USER, Emulator.PASSWORD)
                    assertTrue(AuthMethod.U2F in login.secondFactors(), "${login.secondFactors()}")
                    login.checkU2f(software.authenticator())
                    assertEquals(auth.session()!!.subject, login.finish().session.subject)
                }
            } finally {
                mfa.removeU2f(key.id)
            }
            assertTrue(mfa.securityKeys().none { it.id == key.id })
        }
    }

    @Test
    fun `recovery codes are generated once and removed`() = runBlocking {
        signedIn().use { auth ->
            val mfa = auth.client.mfa()
            val bad = assertThrows<FfiException.InvalidInput> { mfa.generateRecoveryCodes(0u) }
            assertEquals(3, bad.code.toInt())
            val codes = mfa.generateRecoveryCodes(5u)
            try {
                assertEquals(5, codes.toSet().size)
                assertTrue(AuthMethod.RECOVERY_CODES in mfa.methods())
            } finally {
                mfa.removeRecoveryCodes()
            }
            assertFalse(AuthMethod.RECOVERY_CODES in mfa.methods())
        }
    }

    @Test
    fun `the sessions are listed with the current one marked`() = runBlocking {
        signedIn().use { other ->
            signedIn().use { auth ->
                val sessions = auth.client.sessions().list()
                assertTrue(sessions.size >= 2, "$sessions")
                assertEquals(1, sessions.count { it.current }, "$sessions")
                val notFound = assertThrows<FfiException> { auth.client.sessions().end("no-such-session") }
                assertEquals(14, notFound.code())
                // End the other device's session: it is no longer listed.
                val otherId = other.client.sessions().list().single { it.current }.id
                auth.client.sessions().end(otherId)
                assertTrue(auth.client.sessions().list().none { it.id == otherId })
            }
        }
    }

    @Test
    fun `settings are read with the login-client token and refused without it`() = runBlocking {
        ZitadelClient(loginClientConfig(), null).use { client ->
            val settings = client.settings()
            assertTrue(settings.login(null).allowUsernamePassword)
            val policy = settings.passwordComplexity(null)
            assertTrue(policy.minLength > 0UL)
            assertTrue(passwordPolicyUnmetRules(policy, Emulator.PASSWORD).isEmpty())
            assertEquals(listOf(PasswordRule.MIN_LENGTH), passwordPolicyUnmetRules(policy, "Aa1!").take(1))
            settings.legal(null)
            assertTrue(settings.identityProviders(null).any { it.name == "Test IdP" })
        }
        ZitadelClient(config(), null).use { client ->
            val e = assertThrows<FfiException.Misconfigured> { client.settings().login(null) }
            assertEquals(7, e.code.toInt())
        }
    }

    @Test
    fun `a forgotten password is reset with a returned code through the login client`() = runBlocking {
        val newPassword = "Res3t-Passw0rd!"
        ZitadelClient(loginClientConfig(), null).use { client ->
            val password = client.password()
            val started = password.requestResetFor(Emulator.USER, ResetDelivery.Return)
            val code = started.code!!
            assertFalse(code in started.toString(), "toString() must not show the code")
            val wrong = assertThrows<FfiException> { password.setWithCode(started.userId, "WRONG-$code", newPassword) }
            assertEquals(17, wrong.code())
            val weak = assertThrows<FfiException.PasswordPolicy> { password.setWithCode(started.userId, code, "weak") }
            assertEquals(19, weak.code.toInt())
            password.setWithCode(started.userId, code, newPassword)
            try {
                // The new password signs in.
                ZitadelAuth(config()).use { auth ->
                    auth.startDeviceLogin().use { device ->
                        emulator.approveDevice(device.userCode, Emulator.USER, newPassword)
                        withTimeout(30.seconds) { device.await() }
                    }
                    assertEquals(Emulator.USER, auth.client.profile().get().preferredLoginName)
                }
            } finally {
                // Back to the seeded password for the other tests.
                val again = password.requestResetFor(Emulator.USER, ResetDelivery.Return)
                password.setWithCode(again.userId, again.code!!, Emulator.PASSWORD)
            }
        }
    }

    @Test
    fun `a phone number is verified with the SMS code, carries OTP by SMS, and is removed`() = runBlocking {
        signedIn().use { auth ->
            val phone = auth.client.phone()
            val mfa = auth.client.mfa()
            val bad = assertThrows<FfiException.InvalidInput> { phone.set("12345", CodeDelivery.Send) }
            assertEquals(3, bad.code.toInt())
            val number = "+41791234567"
            phone.set("+41 79 123 45 67", CodeDelivery.Send)
            val code = lastCode(number)
            val wrong = assertThrows<FfiException.WrongCode> { phone.verify(if (code == "WRONG1") "WRONG2" else "WRONG1") }
            assertEquals(17, wrong.code.toInt())
            phone.verify(code)
            val user = auth.client.profile().get()
            assertEquals(number, user.phone)
            assertTrue(user.phoneVerified)

            mfa.addOtpSms()
            assertTrue(AuthMethod.OTP_SMS in mfa.methods())
            mfa.removeOtpSms()
            assertFalse(AuthMethod.OTP_SMS in mfa.methods())

            phone.remove()
            assertEquals(null, auth.client.profile().get().phone)
        }
    }

    @Test
    fun `an IdP account is linked through a Kotlin browser, listed and removed, and its wait is cancellable`() =
        runBlocking {
            val idp = ZitadelClient(loginClientConfig(), null).use { client ->
                client.settings().identityProviders(null).first { it.name == "Test IdP" }.id
            }
            signedIn().use { auth ->
                val links = auth.client.links()
                val browser = TestIdpBrowser("ext-kotlin")
                val link = try {
                    links.add(idp, browser, 30u, null)
                } catch (e: FfiException) {
                    throw AssertionError("linking failed; the browser: ${browser.failure}", e)
                }
                assertEquals("ext-kotlin", link.linkedUserId)
                assertTrue(links.list().any { it.idpId == idp && it.linkedUserId == "ext-kotlin" })
                links.remove(idp, "ext-kotlin")
                assertTrue(links.list().none { it.linkedUserId == "ext-kotlin" })

                // Nobody comes back from the browser: the CancelHandle ends the wait.
                val cancel = CancelHandle()
                thread(isDaemon = true) {
                    Thread.sleep(500)
                    cancel.cancel()
                }
                val cancelled = assertThrows<FfiException.Cancelled> { links.add(idp, IdleBrowser(), 60u, cancel) }
                assertEquals(6, cancelled.code.toInt())
            }
        }

    /** The stable numeric code of any generated error. */
    private fun FfiException.code(): Int = when (this) {
        is FfiException.Internal -> code
        is FfiException.RetryLater -> code
        is FfiException.InvalidInput -> code
        is FfiException.NotSignedIn -> code
        is FfiException.SessionExpired -> code
        is FfiException.Cancelled -> code
        is FfiException.Misconfigured -> code
        is FfiException.ServerRejected -> code
        is FfiException.InvalidServerResponse -> code
        is FfiException.Storage -> code
        is FfiException.Expired -> code
        is FfiException.AccessDenied -> code
        is FfiException.PermissionDenied -> code
        is FfiException.NotFound -> code
        is FfiException.AlreadyExists -> code
        is FfiException.UserLocked -> code
        is FfiException.WrongCode -> code
        is FfiException.CodeExpired -> code
        is FfiException.PasswordPolicy -> code
        is FfiException.InvalidCredentials -> code
        is FfiException.FailedPrecondition -> code
    }.toInt()
}
