package com.zitadel.sample

import android.app.Application
import com.zitadel.sdk.ZitadelAuth
import com.zitadel.sdk.android.KeystoreTokenStore

/** Holds the one SDK client of the app; the session lives in the Android Keystore store. */
class SampleApplication : Application() {
    lateinit var auth: ZitadelAuth
        private set

    override fun onCreate() {
        super.onCreate()
        auth = ZitadelAuth(Config.clientConfig, KeystoreTokenStore(this))
    }
}
