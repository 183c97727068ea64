package com.zitadel.sdk

import com.zitadel.sdk.ffi.CodeDelivery
import com.zitadel.sdk.ffi.FfiException
import com.zitadel.sdk.ffi.LockoutPolicy
import com.zitadel.sdk.ffi.NewHuman
import com.zitadel.sdk.ffi.NewMachine
import com.zitadel.sdk.ffi.ServiceCredential
import com.zitadel.sdk.ffi.UserSearch
import com.zitadel.sdk.ffi.UserState
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ManagerTest {
    private val emulator = Emulator()

    @AfterAll
    fun stop() = emulator.close()

    private suspend fun signedIn(loginName: String) = nativeClient(emulator).also {
        signInNatively(it, loginName, Emulator.PASSWORD)
    }

    @Test
    fun `the seeded manager searches users and a plain user is refused with code 13`() = runBlocking<Unit> {
        val manager = signedIn("manager@acme.localhost").manager()
        val found = manager.searchUsers(UserSearch(email = "acme.localhost"))
        assertEquals(3uL, found.total, "$found")
        assertTrue(found.items.any { it.username == "alice" })
        assertEquals(0uL, manager.searchUsers(UserSearch(state = UserState.LOCKED)).total)
        assertTrue(manager.grants(null).total > 0uL)
        assertTrue(manager.members().items.any { it.preferredLoginName == "manager@acme.localhost" })

        // A plain user (searching finds only what she may read) is refused manager operations.
        val alice = signedIn(Emulator.USER).manager()
        val denied = assertThrows<FfiException.PermissionDenied> {
            runBlocking {
                alice.createHuman(
                    NewHuman(givenName = "Mal", familyName = "Lory", email = "mallory@example.com"),
                    CodeDelivery.Send,
                )
            }
        }
        assertEquals(13, denied.errorCode)
        assertThrows<FfiException.PermissionDenied> { runBlocking { alice.members() } }
        assertThrows<FfiException.PermissionDenied> { runBlocking { alice.grants(null) } }
    }

    @Test
    fun `a manager creates, locks and unlocks a user, and a weak initial password is refused`() = runBlocking<Unit> {
        val manager = signedIn("manager@acme.localhost").manager()
        val created = manager.createHuman(
            NewHuman(username = "kotlin-user", givenName = "Kot", familyName = "Lin", email = "kotlin-user@example.com"),
            CodeDelivery.Return,
        )
        assertNotNull(created.emailCode)
        manager.lockUser(created.userId)
        assertEquals("USER_STATE_LOCKED", manager.user(created.userId).state)
        manager.unlockUser(created.userId)
        assertTrue(manager.user(created.userId).state != "USER_STATE_LOCKED")

        val weak = assertThrows<FfiException.PasswordPolicy> {
            runBlocking {
                manager.createHuman(
                    NewHuman(givenName = "W", familyName = "Eak", email = "weak@example.com", password = "weak"),
                    CodeDelivery.Send,
                )
            }
        }
        assertEquals(19, weak.errorCode)
        assertTrue(weak.unmetPasswordRules.isNotEmpty())

        val lockout = manager.lockoutPolicy()
        manager.setLockoutPolicy(LockoutPolicy(maxPasswordAttempts = 5u, maxOtpAttempts = lockout.maxOtpAttempts))
        assertEquals(5u, manager.lockoutPolicy().maxPasswordAttempts)
    }

    @Test
    fun `a service user signed in with its PAT manages users through a service account`() = runBlocking<Unit> {
        val client = signedIn("manager@acme.localhost")
        val manager = client.manager()
        val machineId = manager.createMachine(NewMachine(username = "kotlin-svc", name = "Kotlin service"))
        manager.addMember(machineId, listOf("ORG_OWNER"))
        val pat = manager.addMachinePat(machineId, "2030-01-01T00:00:00Z")

        client.serviceAccount(ServiceCredential.Pat(pat.token)).use { service ->
            assertEquals(pat.token, service.accessToken())
            val found = service.manager().searchUsers(UserSearch(username = "alice"))
            assertEquals(1uL, found.total)
        }
        // A key file that is not one is refused before any request.
        val bad = assertThrows<FfiException.InvalidInput> {
            client.serviceAccount(ServiceCredential.KeyFile("{}"))
        }
        assertEquals(3, bad.errorCode)
    }
}
