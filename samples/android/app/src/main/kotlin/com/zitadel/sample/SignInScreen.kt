package com.zitadel.sample

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.text.input.PasswordVisualTransformation
import androidx.compose.ui.unit.dp
import com.zitadel.sdk.android.signInWithCustomTab
import com.zitadel.sdk.ffi.LoginOptions
import com.zitadel.sdk.ffi.NativeLogin

/**
 * Sign-in: in a Custom Tab always (and registration with `prompt=create`);
 * natively with password (+ TOTP) or a passkey when a login-client token is configured.
 */
@Composable
fun SignInScreen(sample: Sample, busy: Boolean, expired: Boolean, onRegister: () -> Unit) {
    val context = LocalContext.current
    Column(
        Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(24.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        Text("ZITADEL Sample", style = MaterialTheme.typography.headlineMedium)
        if (expired) Text("Your session ended. Please sign in again.")

        Button(
            onClick = { sample.perform { sample.auth.signInWithCustomTab(context) } },
            enabled = !busy,
            modifier = Modifier.fillMaxWidth(),
        ) { Text("Sign in with ZITADEL") }
        OutlinedButton(
            onClick = { sample.perform { sample.auth.signInWithCustomTab(context, LoginOptions(prompt = "create")) } },
            enabled = !busy,
            modifier = Modifier.fillMaxWidth(),
        ) { Text("Create an account") }

        if (Config.LOGIN_CLIENT_TOKEN != null) {
            HorizontalDivider()
            NativeSignIn(sample, busy)
            TextButton(onClick = onRegister, enabled = !busy) { Text("Register in the app") }
        }
    }
}

/** Native login with the login client: password, then a TOTP code when the user has one; or a passkey. */
@Composable
private fun NativeSignIn(sample: Sample, busy: Boolean) {
    var loginName by remember { mutableStateOf("") }
    var password by remember { mutableStateOf("") }
    var code by remember { mutableStateOf("") }
    // A native login waiting for its second factor.
    var pending by remember { mutableStateOf<NativeLogin?>(null) }

    suspend fun finish(login: NativeLogin) {
        sample.auth.call { login.finish() }
        pending = null
        code = ""
        sample.auth.restore() // the session is stored: the state becomes signed-in
    }

    Text("In the app (login client)", style = MaterialTheme.typography.titleMedium)
    OutlinedTextField(loginName, { loginName = it }, label = { Text("Login name") }, singleLine = true)
    val login = pending
    if (login != null) {
        Text("Second factor: ${login.secondFactors().joinToString()}")
        OutlinedTextField(
            code,
            { code = it },
            label = { Text("Code from your authenticator app") },
            keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.NumberPassword),
            singleLine = true,
        )
        Button(onClick = {
            sample.perform {
                sample.auth.call { login.checkTotp(code) }
                finish(login)
            }
        }, enabled = !busy) { Text("Check code") }
    } else {
        OutlinedTextField(
            password,
            { password = it },
            label = { Text("Password") },
            visualTransformation = PasswordVisualTransformation(),
            keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Password),
            singleLine = true,
        )
        Button(onClick = {
            sample.perform {
                val started = sample.auth.call { nativeLogin().password(loginName, password) }
                password = ""
                if (started.needsSecondFactor()) {
                    pending = started
                } else {
                    finish(started)
                }
            }
        }, enabled = !busy) { Text("Sign in with password") }
        OutlinedButton(onClick = {
            sample.perform {
                sample.auth.call { nativeLogin().passkey(loginName, sample.passkeys) }
                sample.auth.restore()
            }
        }, enabled = !busy) { Text("Sign in with a passkey") }
    }
}
