package com.zitadel.sample

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Checkbox
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.text.input.PasswordVisualTransformation
import androidx.compose.ui.unit.dp
import com.zitadel.sdk.ZitadelException
import com.zitadel.sdk.ffi.CodeDelivery
import com.zitadel.sdk.ffi.NewUser
import com.zitadel.sdk.ffi.PendingRegistration

/** Native registration (needs the login-client token): the form, the email code, signed in. */
@Composable
fun RegisterScreen(sample: Sample, busy: Boolean, onBack: () -> Unit) {
    var givenName by remember { mutableStateOf("") }
    var familyName by remember { mutableStateOf("") }
    var email by remember { mutableStateOf("") }
    var password by remember { mutableStateOf("") }
    var acceptedTerms by remember { mutableStateOf(false) }
    var emailCode by remember { mutableStateOf("") }
    var unmetRules by remember { mutableStateOf(emptyList<String>()) }
    // A registration waiting for its email code.
    var pending by remember { mutableStateOf<PendingRegistration?>(null) }

    Column(
        Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(24.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        Text("Register", style = MaterialTheme.typography.headlineMedium)
        val awaitingCode = pending
        if (awaitingCode != null) {
            Text("We sent you an email with a code.")
            OutlinedTextField(emailCode, { emailCode = it }, label = { Text("Code") }, singleLine = true)
            Button(onClick = {
                sample.perform {
                    sample.auth.call { awaitingCode.verifyEmail(emailCode) }
                    sample.auth.call { awaitingCode.finish() }
                    sample.auth.restore()
                }
            }, enabled = !busy) { Text("Verify and sign in") }
        } else {
            OutlinedTextField(givenName, { givenName = it }, label = { Text("Given name") }, singleLine = true)
            OutlinedTextField(familyName, { familyName = it }, label = { Text("Family name") }, singleLine = true)
            OutlinedTextField(
                email,
                { email = it },
                label = { Text("Email") },
                keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Email),
                singleLine = true,
            )
            OutlinedTextField(
                password,
                { password = it },
                label = { Text("Password") },
                visualTransformation = PasswordVisualTransformation(),
                keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Password),
                singleLine = true,
            )
            unmetRules.forEach { Text("Password rule not met: $it", color = MaterialTheme.colorScheme.error) }
            Row(verticalAlignment = Alignment.CenterVertically) {
                Checkbox(acceptedTerms, { acceptedTerms = it })
                Text("I accept the terms of service and the privacy policy")
            }
            Button(onClick = {
                unmetRules = emptyList()
                sample.perform {
                    val user = NewUser(
                        givenName = givenName,
                        familyName = familyName,
                        email = email,
                        username = null,
                        preferredLanguage = null,
                        password = password,
                        acceptedTerms = acceptedTerms,
                    )
                    try {
                        pending = sample.auth.call { registration().register(user, CodeDelivery.Send) }
                        password = ""
                    } catch (e: ZitadelException.PasswordPolicy) {
                        unmetRules = e.unmetPasswordRules
                    }
                }
            }, enabled = !busy && acceptedTerms) { Text("Register") }
        }
        TextButton(onClick = onBack) { Text("Back to sign-in") }
    }
}
