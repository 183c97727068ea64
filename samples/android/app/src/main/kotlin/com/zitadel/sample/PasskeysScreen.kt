package com.zitadel.sample

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import com.zitadel.sdk.ffi.Passkey

/** Passkeys: list, create with the Credential Manager, remove (`client.passkeys()`). */
@Composable
fun PasskeysScreen(sample: Sample) {
    var registered by remember { mutableStateOf(emptyList<Passkey>()) }
    var name by remember { mutableStateOf("Android phone") }

    suspend fun load() {
        registered = sample.auth.call { passkeys().list() }
    }

    LaunchedEffect(Unit) { sample.perform { load() } }

    Column(Modifier.padding(24.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Your passkeys", style = MaterialTheme.typography.titleMedium)
        if (registered.isEmpty()) Text("No passkey yet")
        registered.forEach { passkey ->
            Row(verticalAlignment = Alignment.CenterVertically) {
                Text(passkey.name ?: "Passkey", Modifier.weight(1f))
                if (!passkey.ready) Text("not finished ")
                TextButton(onClick = {
                    sample.perform {
                        sample.auth.call { passkeys().remove(passkey.id) }
                        load()
                    }
                }) { Text("Remove") }
            }
        }
        OutlinedTextField(name, { name = it }, label = { Text("Name of the new passkey") }, singleLine = true)
        Button(
            onClick = {
                sample.perform {
                    sample.auth.call { passkeys().register(sample.passkeys, name) }
                    load()
                }
            },
            enabled = name.isNotBlank(),
        ) { Text("Create passkey") }
    }
}
