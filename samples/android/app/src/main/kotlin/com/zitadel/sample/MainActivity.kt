package com.zitadel.sample

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.NavigationBar
import androidx.compose.material3.NavigationBarItem
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import com.zitadel.sdk.AuthState
import com.zitadel.sdk.ZitadelAuth
import com.zitadel.sdk.ZitadelException
import com.zitadel.sdk.android.CredentialManagerPasskeys
import com.zitadel.sdk.android.ZitadelRedirects
import com.zitadel.sdk.ffi.FfiException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch

class MainActivity : ComponentActivity() {
    private lateinit var passkeys: CredentialManagerPasskeys

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val auth = (application as SampleApplication).auth
        passkeys = CredentialManagerPasskeys(this)
        setContent {
            MaterialTheme {
                SampleApp(auth, passkeys)
            }
        }
    }
}

/**
 * What the screens share: the SDK client (flow calls go through
 * `auth.call { profile().get() }`, which throws [ZitadelException]s), the
 * passkey authenticator, and [perform], which shows an action's error (a
 * dismissed browser or passkey prompt is no error).
 */
class Sample(
    val auth: ZitadelAuth,
    val passkeys: CredentialManagerPasskeys,
    private val scope: CoroutineScope,
    private val onError: (String) -> Unit,
    private val onBusy: (Boolean) -> Unit,
) {
    fun perform(action: suspend () -> Unit) {
        scope.launch {
            onBusy(true)
            try {
                action()
            } catch (e: ZitadelException.Cancelled) {
                // the user closed the tab or the prompt
            } catch (e: FfiException.Cancelled) {
                // the same, from a generated call
            } catch (e: ZitadelException) {
                onError(e.message ?: e.codeName)
            } catch (e: FfiException) {
                onError(ZitadelException.from(e).message ?: "error")
            } finally {
                onBusy(false)
            }
        }
    }
}

private enum class Tab(val label: String) { Profile("Profile"), Security("Security"), Passkeys("Passkeys") }

@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun SampleApp(auth: ZitadelAuth, passkeys: CredentialManagerPasskeys) {
    val state by auth.state.collectAsStateWithLifecycle()
    var error by remember { mutableStateOf<String?>(null) }
    var busy by remember { mutableStateOf(false) }
    val scope = rememberCoroutineScope()
    val sample = remember(auth, passkeys) {
        Sample(auth, passkeys, scope, onError = { error = it }, onBusy = { busy = it })
    }

    LaunchedEffect(auth) {
        sample.perform { auth.restore() }
        // A redirect that arrived while the app process was gone: finish that login.
        ZitadelRedirects.unclaimed.collect { uri ->
            if (uri != null) {
                ZitadelRedirects.consumeUnclaimed()
                sample.perform { auth.completeLogin(uri.toString()) }
            }
        }
    }

    error?.let { message ->
        AlertDialog(
            onDismissRequest = { error = null },
            confirmButton = { TextButton(onClick = { error = null }) { Text("OK") } },
            title = { Text("Something went wrong") },
            text = { Text(message) },
        )
    }

    when (state) {
        AuthState.Unknown -> Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) {
            CircularProgressIndicator()
        }
        is AuthState.SignedIn -> {
            var tab by rememberSaveable { mutableStateOf(Tab.Profile) }
            Scaffold(
                topBar = {
                    TopAppBar(
                        title = { Text(tab.label) },
                        actions = { TextButton(onClick = { sample.perform { auth.logout() } }) { Text("Sign out") } },
                    )
                },
                bottomBar = {
                    NavigationBar {
                        Tab.entries.forEach { t ->
                            NavigationBarItem(
                                selected = tab == t,
                                onClick = { tab = t },
                                icon = {},
                                label = { Text(t.label) },
                            )
                        }
                    }
                },
            ) { padding ->
                Box(Modifier.padding(padding)) {
                    when (tab) {
                        Tab.Profile -> ProfileScreen(sample)
                        Tab.Security -> MfaScreen(sample)
                        Tab.Passkeys -> PasskeysScreen(sample)
                    }
                }
            }
        }
        AuthState.SignedOut, is AuthState.SessionExpired -> {
            var registering by rememberSaveable { mutableStateOf(false) }
            if (registering) {
                RegisterScreen(sample, busy, onBack = { registering = false })
            } else {
                SignInScreen(sample, busy, expired = state is AuthState.SessionExpired, onRegister = { registering = true })
            }
        }
    }
}
