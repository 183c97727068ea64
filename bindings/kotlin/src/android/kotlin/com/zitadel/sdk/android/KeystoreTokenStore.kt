package com.zitadel.sdk.android

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.util.Base64
import com.zitadel.sdk.ffi.TokenStore
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * A [TokenStore] for Android: values are encrypted with AES-256-GCM under a
 * key that never leaves the Android Keystore, and kept in private
 * SharedPreferences (the SDK's key is the associated data, so a value cannot
 * be moved to another key). Failures reach the SDK as storage errors.
 *
 * Not part of the JVM build (no Android SDK there): compile this source set
 * in an Android module (see bindings/README.md).
 */
class KeystoreTokenStore(
    context: Context,
    private val keyAlias: String = "zitadel-sdk-token-store",
    preferencesName: String = "zitadel-sdk-token-store",
) : TokenStore {
    private val prefs = context.applicationContext.getSharedPreferences(preferencesName, Context.MODE_PRIVATE)

    override fun load(key: String): ByteArray? = storage {
        val stored = prefs.getString(key, null) ?: return@storage null
        val bytes = Base64.decode(stored, Base64.NO_WRAP)
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, secretKey(), GCMParameterSpec(TAG_BITS, bytes, 0, IV_BYTES))
        cipher.updateAAD(key.encodeToByteArray())
        cipher.doFinal(bytes, IV_BYTES, bytes.size - IV_BYTES)
    }

    override fun save(key: String, value: ByteArray) = storage {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, secretKey()) // the Keystore picks a fresh IV
        cipher.updateAAD(key.encodeToByteArray())
        val sealed = cipher.iv + cipher.doFinal(value)
        check(prefs.edit().putString(key, Base64.encodeToString(sealed, Base64.NO_WRAP)).commit()) { "not written" }
    }

    override fun delete(key: String) = storage {
        check(prefs.edit().remove(key).commit()) { "not removed" }
    }

    @Synchronized
    private fun secretKey(): SecretKey {
        val keyStore = KeyStore.getInstance(KEYSTORE).apply { load(null) }
        (keyStore.getEntry(keyAlias, null) as? KeyStore.SecretKeyEntry)?.let { return it.secretKey }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, KEYSTORE)
        generator.init(
            KeyGenParameterSpec.Builder(keyAlias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .build(),
        )
        return generator.generateKey()
    }

    /** Runs a backend operation; any failure is a storage error without the value in it. */
    private inline fun <T> storage(block: () -> T): T =
        try {
            block()
        } catch (e: Exception) {
            throw HostErrors.storage("Android Keystore store: ${e.javaClass.simpleName}")
        }

    private companion object {
        const val KEYSTORE = "AndroidKeyStore"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
        const val TAG_BITS = 128
    }
}
