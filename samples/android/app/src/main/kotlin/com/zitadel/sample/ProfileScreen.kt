package com.zitadel.sample

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import com.zitadel.sdk.ffi.ProfileUpdate
import com.zitadel.sdk.ffi.User

/** The signed-in user's profile: `client.profile().get()` and `.update(…)`. */
@Composable
fun ProfileScreen(sample: Sample) {
    var user by remember { mutableStateOf<User?>(null) }
    var givenName by remember { mutableStateOf("") }
    var familyName by remember { mutableStateOf("") }

    suspend fun load() {
        val u = sample.auth.call { profile().get() }
        user = u
        givenName = u.givenName
        familyName = u.familyName
    }

    LaunchedEffect(Unit) { sample.perform { load() } }

    val u = user
    if (u == null) {
        CircularProgressIndicator(Modifier.padding(24.dp))
        return
    }
    Column(Modifier.padding(24.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Login name: ${u.preferredLoginName}")
        Text("Email: ${u.email ?: "—"}${if (u.emailVerified) " (verified)" else ""}")
        Text("User id: ${u.userId}")
        OutlinedTextField(givenName, { givenName = it }, label = { Text("Given name") }, singleLine = true)
        OutlinedTextField(familyName, { familyName = it }, label = { Text("Family name") }, singleLine = true)
        Button(
            onClick = {
                sample.perform {
                    sample.auth.call { profile().update(ProfileUpdate(givenName = givenName, familyName = familyName)) }
                    load()
                }
            },
            enabled = givenName != u.givenName || familyName != u.familyName,
        ) { Text("Save") }
    }
}
