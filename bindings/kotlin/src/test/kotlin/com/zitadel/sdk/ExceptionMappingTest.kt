package com.zitadel.sdk

import com.zitadel.sdk.ffi.ClientConfig
import com.zitadel.sdk.ffi.FfiException
import com.zitadel.sdk.ffi.ProfileUpdate
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class ExceptionMappingTest {
    @Test
    fun `every stable code from 1 to 21 has its own exception class with that code`() {
        val classes = (1..21).map { code ->
            val e = ZitadelException.of(code, "m")
            assertEquals(code, e.code, "code $code")
            e::class
        }
        assertEquals(21, classes.toSet().size, "one class per code")
        assertTrue(ZitadelException.of(99, "future code") is ZitadelException.Internal)
    }

    @Test
    fun `a password policy error keeps its unmet rules and a locked user its failed attempts`() {
        val policy = ZitadelException.from(
            FfiException.PasswordPolicy(19u, "password_policy", "too weak", null, listOf("min_length", "symbol")),
        )
        assertTrue(policy is ZitadelException.PasswordPolicy)
        assertEquals(listOf("min_length", "symbol"), policy.unmetPasswordRules)
        assertEquals("too weak", policy.message)
        assertNull(policy.failedAttempts)

        val cause = FfiException.UserLocked(16u, "user_locked", "locked", 5u, emptyList())
        val locked = ZitadelException.from(cause)
        assertTrue(locked is ZitadelException.UserLocked)
        assertEquals(5, locked.failedAttempts)
        assertSame(cause, locked.cause)
    }

    @Test
    fun `flow calls through ZitadelAuth call raise ZitadelExceptions before any request`() {
        // Nothing listens on port 9: these errors come before any request.
        ZitadelAuth(ClientConfig(issuer = "http://127.0.0.1:9", clientId = "app")).use { auth ->
            runBlocking {
                val empty = assertThrows<ZitadelException.InvalidInput> { auth.call { profile().update(ProfileUpdate()) } }
                assertEquals(3, empty.code)
                val signedOut = assertThrows<ZitadelException.NotSignedIn> { auth.call { profile().get() } }
                assertEquals(4, signedOut.code)
            }
        }
    }
}
