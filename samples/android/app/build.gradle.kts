plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
    id("org.jetbrains.kotlin.plugin.compose")
}

android {
    namespace = "com.zitadel.sample"
    compileSdk = 35

    defaultConfig {
        applicationId = "com.zitadel.sample"
        minSdk = 28 // passkeys through the Credential Manager
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        // The redirect URI com.zitadel.sample:/callback (see AndroidManifest.xml).
        manifestPlaceholders["zitadelRedirectScheme"] = "com.zitadel.sample"
    }

    sourceSets["main"].apply {
        // The Android adapters of the SDK: Custom Tabs login, Keystore token
        // store, Credential Manager passkeys (compiled here, not in the JVM build).
        java.srcDir("../../../bindings/kotlin/src/android/kotlin")
        // libzitadel_sdk_ffi.so per ABI, from cargo ndk (see README.md).
        jniLibs.srcDir("src/main/jniLibs")
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    buildFeatures {
        compose = true
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(org.jetbrains.kotlin.gradle.dsl.JvmTarget.JVM_17)
    }
}

dependencies {
    // The Kotlin bindings (generated uniffi code + ZitadelAuth, ZitadelException):
    // `mvn -DskipTests install` in bindings/kotlin. Its JNA is the desktop jar:
    // Android takes the AAR, which carries libjnidispatch.so for each ABI.
    implementation("com.zitadel:zitadel-sdk:0.1.0") {
        exclude(group = "net.java.dev.jna", module = "jna")
    }
    implementation("net.java.dev.jna:jna:5.19.1@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.11.0")

    // The adapters' dependencies.
    implementation("androidx.browser:browser:1.8.0")
    implementation("androidx.credentials:credentials:1.3.0")
    implementation("androidx.credentials:credentials-play-services-auth:1.3.0")

    // The UI.
    implementation(platform("androidx.compose:compose-bom:2024.12.01"))
    implementation("androidx.compose.material3:material3")
    implementation("androidx.compose.ui:ui")
    implementation("androidx.activity:activity-compose:1.9.3")
    implementation("androidx.lifecycle:lifecycle-runtime-compose:2.8.7")
}
