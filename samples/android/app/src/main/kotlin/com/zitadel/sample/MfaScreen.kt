package com.zitadel.sample

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.foundation.text.selection.SelectionContainer
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.font.FontFamily
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import com.zitadel.sdk.ffi.AuthMethod
import com.zitadel.sdk.ffi.TotpEnrollment

/** Second factors: the user's methods, TOTP set-up and removal (`client.mfa()`). */
@Composable
fun MfaScreen(sample: Sample) {
    var methods by remember { mutableStateOf(emptyList<AuthMethod>()) }
    var enrollment by remember { mutableStateOf<TotpEnrollment?>(null) }
    var code by remember { mutableStateOf("") }

    suspend fun load() {
        methods = sample.auth.call { mfa().methods() }
    }

    LaunchedEffect(Unit) { sample.perform { load() } }

    Column(Modifier.padding(24.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Your sign-in methods", style = MaterialTheme.typography.titleMedium)
        methods.forEach { Text(it.name) }
        Text("Authenticator app (TOTP)", style = MaterialTheme.typography.titleMedium)
        val totp = enrollment
        when {
            totp != null -> {
                // Show totp.uri (otpauth://) as a QR code in a real app; the secret is for typing.
                Text("Add this key to your authenticator app:")
                SelectionContainer { Text(totp.secret, fontFamily = FontFamily.Monospace) }
                OutlinedTextField(
                    code,
                    { code = it },
                    label = { Text("Code from the app") },
                    keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.NumberPassword),
                    singleLine = true,
                )
                Button(onClick = {
                    sample.perform {
                        sample.auth.call { mfa().verifyTotp(code) }
                        enrollment = null
                        code = ""
                        load()
                    }
                }) { Text("Verify") }
            }
            AuthMethod.TOTP in methods -> OutlinedButton(onClick = {
                sample.perform {
                    sample.auth.call { mfa().removeTotp() }
                    load()
                }
            }) { Text("Remove authenticator app") }
            else -> Button(onClick = {
                sample.perform { enrollment = sample.auth.call { mfa().addTotp() } }
            }) { Text("Set up authenticator app") }
        }
    }
}
