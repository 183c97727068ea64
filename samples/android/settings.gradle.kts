// The Android sample of the ZITADEL SDK: a Jetpack Compose app on the Kotlin
// bindings (bindings/kotlin, installed to Maven Local) and the Android
// adapters (bindings/kotlin/src/android). See README.md.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
        // com.zitadel:zitadel-sdk from `mvn install` in bindings/kotlin
        mavenLocal {
            content { includeGroup("com.zitadel") }
        }
    }
}

rootProject.name = "zitadel-android-sample"
include(":app")
