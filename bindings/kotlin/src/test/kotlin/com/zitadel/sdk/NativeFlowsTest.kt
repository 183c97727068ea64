package com.zitadel.sdk

import com.zitadel.sdk.ffi.AuthMethod
import com.zitadel.sdk.ffi.ClientConfig
import com.zitadel.sdk.ffi.CodeDelivery
import com.zitadel.sdk.ffi.FfiException
import com.zitadel.sdk.ffi.NewUser
import com.zitadel.sdk.ffi.ZitadelClient
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.ByteBuffer
import java.time.Duration
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec

/** A client of the emulator with the login-client token, for the native flows. */
fun nativeClient(emulator: Emulator): ZitadelClient = ZitadelClient(
    ClientConfig(
        issuer = emulator.issuer,
        clientId = emulator.clientId,
        redirectUri = "http://127.0.0.1/callback",
        organizationId = emulator.orgId,
        loginClientToken = emulator.loginClientToken,
    ),
    null,
)

/** Signs [client] in natively with login name and password (no second factor). */
suspend fun signInNatively(client: ZitadelClient, loginName: String, password: String) =
    client.nativeLogin().password(loginName, password).use { it.finish() }

/** The numeric error code of an SDK exception. */
val FfiException.errorCode: Int
    get() = when (this) {
        is FfiException.InvalidInput -> code.toInt()
        is FfiException.PermissionDenied -> code.toInt()
        is FfiException.WrongCode -> code.toInt()
        is FfiException.PasswordPolicy -> code.toInt()
        is FfiException.InvalidCredentials -> code.toInt()
        is FfiException.FailedPrecondition -> code.toInt()
        is FfiException.UserLocked -> code.toInt()
        is FfiException.NotFound -> code.toInt()
        is FfiException.AlreadyExists -> code.toInt()
        else -> -1
    }

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NativeFlowsTest {
    private val emulator = Emulator()
    private val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()

    @AfterAll
    fun stop() = emulator.close()

    private fun newUser(email: String, password: String = PASSWORD, acceptedTerms: Boolean = true) = NewUser(
        givenName = "Grace",
        familyName = "Hopper",
        email = email,
        preferredLanguage = "en",
        password = password,
        acceptedTerms = acceptedTerms,
    )

    /** Registers [email] natively with the returned email code; returns the signed-in client. */
    private suspend fun registered(email: String): ZitadelClient {
        val client = nativeClient(emulator)
        client.registration().register(newUser(email), CodeDelivery.Return).use { pending ->
            pending.verifyEmail(pending.returnedEmailCode()!!)
            pending.finish()
        }
        return client
    }

    @Test
    fun `native registration with accepted terms and the email code ends signed in`() = runBlocking<Unit> {
        val client = nativeClient(emulator)
        val registration = client.registration()
        val rules = registration.rules()
        assertTrue(rules.login.allowRegister)
        assertTrue(rules.password.minLength > 0u)

        val pending = registration.register(newUser("grace@example.com"), CodeDelivery.Return)
        val code = pending.returnedEmailCode()
        assertNotNull(code)
        pending.verifyEmail(code!!)
        val signedIn = pending.finish()

        assertEquals(pending.userId(), signedIn.session.subject)
        assertNull(signedIn.mfaSetupRequired)
        assertEquals(signedIn.session.subject, client.session()?.subject)
        // The access token works: the profile is read with it.
        assertTrue(client.accessToken().isNotEmpty())
        assertEquals("grace@example.com", client.profile().get().email)
        // The registration was used up by finish.
        val again = assertThrows<FfiException.FailedPrecondition> { runBlocking { pending.finish() } }
        assertEquals(21, again.errorCode)
        pending.close()
    }

    @Test
    fun `registration without accepting the terms is refused with invalid input`() = runBlocking<Unit> {
        val e = assertThrows<FfiException.InvalidInput> {
            runBlocking {
                nativeClient(emulator).registration()
                    .register(newUser("noterms@example.com", acceptedTerms = false), CodeDelivery.Return)
            }
        }
        assertEquals(3, e.errorCode)
    }

    @Test
    fun `a weak password is refused with code 19 listing the unmet rules`() = runBlocking<Unit> {
        val e = assertThrows<FfiException.PasswordPolicy> {
            runBlocking {
                nativeClient(emulator).registration()
                    .register(newUser("weak@example.com", password = "weak"), CodeDelivery.Return)
            }
        }
        assertEquals(19, e.errorCode)
        assertTrue(e.unmetPasswordRules.isNotEmpty(), "${e.unmetPasswordRules}")
        assertTrue("uppercase" in e.unmetPasswordRules, "${e.unmetPasswordRules}")
        assertFalse("weak" in e.detail)
    }

    @Test
    fun `a wrong email code is refused with code 17 and the registration stays usable`() = runBlocking<Unit> {
        val client = nativeClient(emulator)
        client.registration().register(newUser("typo@example.com"), CodeDelivery.Return).use { pending ->
            // Finishing before the verification is refused without using the registration up.
            assertThrows<FfiException.FailedPrecondition> { runBlocking { pending.finish() } }
            val wrong = assertThrows<FfiException.WrongCode> { runBlocking { pending.verifyEmail("WRONG1") } }
            assertEquals(17, wrong.errorCode)
            pending.verifyEmail(pending.returnedEmailCode()!!)
            assertEquals(pending.userId(), pending.finish().session.subject)
        }
    }

    @Test
    fun `native login with password ends signed in and a wrong password is invalid credentials`() = runBlocking<Unit> {
        val client = nativeClient(emulator)
        client.nativeLogin().password(Emulator.USER, Emulator.PASSWORD).use { login ->
            assertTrue(login.secondFactors().isEmpty())
            assertFalse(login.needsSecondFactor())
            val signedIn = login.finish()
            assertEquals(login.userId(), signedIn.session.subject)
            assertTrue(client.accessToken().isNotEmpty())
            assertThrows<FfiException.FailedPrecondition> { runBlocking { login.finish() } }
        }
        val wrong = assertThrows<FfiException.InvalidCredentials> {
            runBlocking { nativeClient(emulator).nativeLogin().password(Emulator.USER, "not-the-password") }
        }
        assertEquals(20, wrong.errorCode)
    }

    @Test
    fun `native login of a user with TOTP checks the code before finishing`() = runBlocking<Unit> {
        // Given a registered user who set up TOTP with her own token
        val user = registered("totp@example.com")
        val userId = user.session()!!.subject
        val token = user.accessToken()
        val secret = api(token, "POST", "/v2/users/$userId/totp", "{}")["secret"] as String
        api(token, "POST", "/v2/users/$userId/totp/verify", """{"code":"${totp(secret)}"}""")

        // When she logs in with her password on another client
        val client = nativeClient(emulator)
        client.nativeLogin().password("totp@example.com", PASSWORD).use { login ->
            // Then TOTP is asked for, finishing early is refused, a wrong code is WrongCode
            assertEquals(listOf(AuthMethod.TOTP), login.secondFactors())
            assertTrue(login.needsSecondFactor())
            assertThrows<FfiException.InvalidInput> { runBlocking { login.finish() } }
            val wrong = assertThrows<FfiException.WrongCode> { runBlocking { login.checkTotp("000000".takeIf { it != totp(secret) } ?: "111111") } }
            assertEquals(17, wrong.errorCode)
            // and the right code signs her in
            login.checkTotp(totp(secret))
            assertFalse(login.needsSecondFactor())
            assertEquals(userId, login.finish().session.subject)
        }
        assertEquals(userId, client.session()?.subject)
    }

    /** A users v2 call with a user's own access token. */
    private fun api(token: String, method: String, path: String, body: String): Map<String, Any?> {
        val request = HttpRequest.newBuilder(URI.create(emulator.issuer + path))
            .header("Authorization", "Bearer $token")
            .header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofString(body))
            .timeout(Duration.ofSeconds(10))
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        check(response.statusCode() in 200..299) { "$method $path: HTTP ${response.statusCode()}" }
        return Emulator.parse(response.body())
    }

    companion object {
        const val PASSWORD = "Sup3r-Secret!"

        /** The current RFC 6238 code (HMAC-SHA1, 6 digits, 30 s) of a base32 secret. */
        fun totp(secret: String): String {
            val alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
            var buffer = 0L
            var bits = 0
            val key = mutableListOf<Byte>()
            for (c in secret.uppercase().filter { it != '=' && !it.isWhitespace() }) {
                buffer = (buffer shl 5) or alphabet.indexOf(c).toLong()
                bits += 5
                if (bits >= 8) {
                    bits -= 8
                    key.add(((buffer shr bits) and 0xff).toByte())
                }
            }
            val mac = Mac.getInstance("HmacSHA1")
            mac.init(SecretKeySpec(key.toByteArray(), "HmacSHA1"))
            val hash = mac.doFinal(ByteBuffer.allocate(8).putLong(System.currentTimeMillis() / 1000 / 30).array())
            val offset = hash[hash.size - 1].toInt() and 0x0f
            val binary = ((hash[offset].toInt() and 0x7f) shl 24) or
                ((hash[offset + 1].toInt() and 0xff) shl 16) or
                ((hash[offset + 2].toInt() and 0xff) shl 8) or
                (hash[offset + 3].toInt() and 0xff)
            return (binary % 1_000_000).toString().padStart(6, '0')
        }
    }
}
