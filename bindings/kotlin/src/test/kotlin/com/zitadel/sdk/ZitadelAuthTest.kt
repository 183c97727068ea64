package com.zitadel.sdk

import com.zitadel.sdk.ffi.ClientConfig
import com.zitadel.sdk.ffi.FfiException
import com.zitadel.sdk.ffi.TokenStore
import com.zitadel.sdk.ffi.keyringTokenStore
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.seconds

/** A [TokenStore] written in Kotlin, which the Rust core calls. */
class KotlinMapStore : TokenStore {
    val values = ConcurrentHashMap<String, ByteArray>()
    val saves = AtomicInteger()
    val loads = AtomicInteger()

    override fun load(key: String): ByteArray? = values[key].also { loads.incrementAndGet() }

    override fun save(key: String, value: ByteArray) {
        saves.incrementAndGet()
        values[key] = value.copyOf()
    }

    override fun delete(key: String) {
        values.remove(key)
    }

    /** The stored session of the default account, as text (it holds tokens: tests only). */
    fun sessionJson(): String? = values.entries.firstOrNull { "session" in it.key }?.value?.decodeToString()
}

/** A store whose backend always fails with a plain Kotlin exception. */
class BrokenStore : TokenStore {
    override fun load(key: String): ByteArray? = throw IllegalStateException("disk on fire")

    override fun save(key: String, value: ByteArray) = throw IllegalStateException("disk on fire")

    override fun delete(key: String) = throw IllegalStateException("disk on fire")
}

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ZitadelAuthTest {
    private val emulator = Emulator()

    @AfterAll
    fun stop() = emulator.close()

    private fun config(refreshMarginSecs: UInt? = null) = ClientConfig(
        issuer = emulator.issuer,
        clientId = emulator.clientId,
        redirectUri = "http://127.0.0.1/callback",
        refreshMarginSecs = refreshMarginSecs,
    )

    /** Signs in through the device flow, approved through the login-client API. */
    private suspend fun signInWithDevice(auth: ZitadelAuth) = auth.startDeviceLogin().use { device ->
        emulator.approveDevice(device.userCode)
        withTimeout(30.seconds) { device.await() }
    }

    @Test
    fun `browser login in headless Chromium, userinfo, refresh and logout`() = runBlocking {
        val store = KotlinMapStore()
        ZitadelAuth(config(), store).use { auth ->
            assertEquals(AuthState.Unknown, auth.state.value)
            assertNull(auth.restore())
            assertEquals(AuthState.SignedOut, auth.state.value)

            val session = HostedLoginBrowser().use { browser ->
                try {
                    auth.loginWithLoopback(browser, timeout = 60.seconds)
                } catch (e: ZitadelException) {
                    throw AssertionError("login failed; the browser: ${browser.failure}", e)
                }
            }
            assertTrue(session.hasRefreshToken)
            assertEquals(AuthState.SignedIn(session.account, session.subject), auth.state.value)
            // Rust stored the session through the Kotlin store.
            assertTrue(store.saves.get() > 0 && store.sessionJson()!!.contains("refresh_token"))

            val userinfo = Emulator.parse(auth.userinfo())
            assertEquals(session.subject, userinfo["sub"])
            assertEquals(Emulator.USER, userinfo["preferred_username"])

            val before = auth.accessToken()
            assertEquals(before, auth.cachedAccessToken())
            val refreshed = auth.refresh()
            assertEquals(session.subject, refreshed.subject)
            assertNotEquals(before, auth.accessToken())
            assertEquals(auth.accessToken(), auth.cachedAccessToken())

            assertTrue(auth.endSessionUrl().startsWith(emulator.issuer + "/oidc/v1/end_session"))
            assertTrue(auth.logout().revoked)
            assertEquals(AuthState.SignedOut, auth.state.value)
            assertNull(auth.session())
            assertNull(store.sessionJson())
            assertNull(auth.cachedAccessToken())
            val e = assertThrows<ZitadelException.NotSignedIn> { auth.accessToken() }
            assertEquals(4, e.code)
        }
    }

    /**
     * The OS keyring store of the library (feature `keyring`, which the test
     * build enables) keeps the session beyond one client. Runs where a keyring
     * is reachable: scripts/with-keyring.sh starts one and sets ZID_TEST_KEYRING=1.
     */
    @Test
    fun `the OS keyring store keeps a session across clients until logout`() {
        assumeTrue(System.getenv("ZID_TEST_KEYRING") == "1", "no keyring session (ZID_TEST_KEYRING is not 1)")
        runBlocking {
            val service = "zitadel-sdk-kotlin-test"
            val session = ZitadelAuth(config(), keyringTokenStore(service)).use { signInWithDevice(it) }
            ZitadelAuth(config(), keyringTokenStore(service)).use { auth ->
                assertEquals(session.subject, auth.restore()?.subject)
                assertTrue(auth.accessToken().isNotEmpty())
                assertTrue(auth.logout().revoked)
            }
            ZitadelAuth(config(), keyringTokenStore(service)).use { assertNull(it.restore()) }
            // Another service name is another set of items.
            val other = keyringTokenStore("zitadel-sdk-kotlin-other")
            other.save("k", byteArrayOf(1, 2, 3))
            assertNull(keyringTokenStore(service).load("k"))
            assertEquals(listOf<Byte>(1, 2, 3), other.load("k")?.toList())
            other.delete("k")
            assertNull(other.load("k"))
        }
    }

    @Test
    fun `an empty keyring service name is invalid input`() {
        val e = assertThrows<FfiException.InvalidInput> { keyringTokenStore("") }
        assertEquals(3u.toUShort(), e.code)
    }

    @Test
    fun `Rust errors arrive as Kotlin exceptions with their codes`() = runBlocking {
        val misconfigured = assertThrows<ZitadelException.Misconfigured> {
            ZitadelAuth(ClientConfig(issuer = "http://idp.example", clientId = "app"))
        }
        assertEquals(7, misconfigured.code)
        assertEquals("misconfigured", misconfigured.codeName)
        assertTrue(misconfigured.cause is FfiException.Misconfigured)

        ZitadelAuth(config()).use { auth ->
            val notSignedIn = assertThrows<ZitadelException.NotSignedIn> { auth.accessToken() }
            assertEquals(4, notSignedIn.code)
            assertEquals("not_signed_in", notSignedIn.codeName)
            assertEquals("not signed in", notSignedIn.message)
        }
        // A Kotlin store throwing a plain exception is a storage error in Rust and back here.
        ZitadelAuth(config(), BrokenStore()).use { auth ->
            val storage = assertThrows<ZitadelException.Storage> { auth.session() }
            assertEquals(10, storage.code)
        }
        val ended = ZitadelAuth(config()).use { auth ->
            val device = auth.startDeviceLogin()
            device.cancel()
            assertThrows<ZitadelException.Cancelled> { device.await() }
        }
        assertEquals(6, ended.code)
    }

    @Test
    fun `cancelling the coroutine cancels the device-flow wait`() = runBlocking {
        ZitadelAuth(config()).use { auth ->
            val polls = emulator.tokenRequests(DEVICE_GRANT)
            val device = auth.startDeviceLogin()
            val waiting = launch(Dispatchers.Default) { device.await() }
            delay(500)
            waiting.cancel()
            withTimeout(2.seconds) { waiting.join() }
            // Approve after the cancellation: a wait still polling in Rust would
            // get the tokens within the 5 s interval and store a session.
            emulator.approveDevice(device.userCode)
            delay(7_000)
            assertNull(auth.session(), "the cancelled wait must not sign in")
            assertEquals(polls, emulator.tokenRequests(DEVICE_GRANT), "no device-code poll after the cancellation")
            device.close()
        }
    }

    @Test
    fun `many coroutines asking for a token at once cause one refresh`() = runBlocking {
        val store = KotlinMapStore()
        ZitadelAuth(config(), store).use { signInWithDevice(it) }
        // Expire the stored access token (the emulator's live 12 h), then
        // read the session with a fresh client.
        val expired = System.currentTimeMillis() / 1000 - 1
        val key = store.values.keys.first { "session" in it }
        store.values[key] = store.sessionJson()!!.replace(Regex("\"expires_at\":\\d+"), "\"expires_at\":$expired")
            .encodeToByteArray()
        val refreshesBefore = emulator.tokenRequests(REFRESH_GRANT)

        ZitadelAuth(config(), store).use { auth ->
            val tokens = (1..32).map { async(Dispatchers.Default) { auth.accessToken() } }.awaitAll()
            assertEquals(1, tokens.toSet().size, "every caller gets the same token")
            assertEquals(1, emulator.tokenRequests(REFRESH_GRANT) - refreshesBefore, "one refresh request")
            assertEquals(tokens[0], auth.accessToken(), "the refreshed token is cached")
        }
    }

    companion object {
        const val DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
        const val REFRESH_GRANT = "refresh_token"
    }
}
