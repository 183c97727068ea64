package com.zitadel.sdk.android

import com.zitadel.sdk.ffi.FfiException

/**
 * The errors the Android adapters raise towards the Rust core: [FfiException]s
 * (so the core keeps their code), with a message that names what failed and
 * never a value, a key or personal data.
 */
internal object HostErrors {
    fun storage(detail: String): FfiException = FfiException.Storage(10u, "storage", detail, null, emptyList())

    fun cancelled(detail: String): FfiException = FfiException.Cancelled(6u, "cancelled", detail, null, emptyList())

    fun invalidInput(detail: String): FfiException =
        FfiException.InvalidInput(3u, "invalid_input", detail, null, emptyList())

    fun notFound(detail: String): FfiException = FfiException.NotFound(14u, "not_found", detail, null, emptyList())

    fun alreadyExists(detail: String): FfiException =
        FfiException.AlreadyExists(15u, "already_exists", detail, null, emptyList())

    fun internal(detail: String): FfiException = FfiException.Internal(1u, "internal", detail, null, emptyList())
}
