// The Kotlin side of the FFI benchmark of issue 9 §5 (bench/ffi-speed.sh):
// one ZitadelClient.accessToken() call through uniffi (JNA, the uniffi future
// polled from a coroutine) with a valid cached token, timed
// call by call with System.nanoTime.
//
// - kotlin-suspend: accessToken() awaited in a loop inside one coroutine
//   (runBlocking's event loop), the way app code calls it;
// - kotlin-blocking: runBlocking { accessToken() } per call, from plain
//   blocking code: the suspend call plus one runBlocking per call;
// - kotlin-sync-cached: client.cachedAccessToken(), the synchronous call
//   that returns the token in memory (or null), without uniffi's async protocol;
// - kotlin-sync-account: client.account(), a synchronous uniffi call that
//   returns a String without touching the SDK's runtime: the floor of one
//   uniffi call over JNA, for comparison.
//
// Usage: AccessTokenBenchKt STORE_DIR OUT_DIR ROUND [N [WARMUP]]
// STORE_DIR holds the session written by the Rust side (same issuer and
// client id); writes OUT_DIR/NAME.ROUND.txt, one sample (ns) per line.
package com.zitadel.sdk.bench

import com.zitadel.sdk.ffi.ClientConfig
import com.zitadel.sdk.ffi.ZitadelClient
import com.zitadel.sdk.ffi.fileTokenStore
import java.io.File
import kotlin.system.exitProcess
import kotlinx.coroutines.runBlocking

private fun report(name: String, samples: LongArray, outDir: File, round: String) {
    File(outDir, "$name.$round.txt").writeText(samples.joinToString("\n", postfix = "\n"))
    val sorted = samples.sortedArray()
    fun at(q: Double) = sorted[((sorted.size - 1) * q).toInt()] / 1000.0
    println(
        "$name: median %.2f µs (p10 %.2f, p90 %.2f) over %d calls"
            .format(at(0.5), at(0.1), at(0.9), sorted.size),
    )
}

private fun check(token: String) {
    if (token.length != 43) {
        System.err.println("unexpected token length ${token.length}")
        exitProcess(1)
    }
}

fun main(args: Array<String>) {
    if (args.size < 3) {
        System.err.println("usage: AccessTokenBenchKt STORE_DIR OUT_DIR ROUND [N [WARMUP]]")
        exitProcess(2)
    }
    val outDir = File(args[1])
    val round = args[2]
    val n = args.getOrNull(3)?.toInt() ?: 10_000
    val warmup = args.getOrNull(4)?.toInt() ?: 2_000
    val client = ZitadelClient(
        ClientConfig(issuer = "https://idp.example", clientId = "native-app"),
        fileTokenStore(args[0]),
    )

    val suspendSamples = runBlocking {
        repeat(warmup) { check(client.accessToken()) }
        LongArray(n) {
            val t = System.nanoTime()
            val token = client.accessToken()
            val elapsed = System.nanoTime() - t
            check(token)
            elapsed
        }
    }
    report("kotlin-suspend", suspendSamples, outDir, round)

    repeat(warmup) { check(runBlocking { client.accessToken() }) }
    val blockingSamples = LongArray(n) {
        val t = System.nanoTime()
        val token = runBlocking { client.accessToken() }
        val elapsed = System.nanoTime() - t
        check(token)
        elapsed
    }
    report("kotlin-blocking", blockingSamples, outDir, round)

    repeat(warmup) { check(client.cachedAccessToken() ?: "") }
    val cachedSamples = LongArray(n) {
        val t = System.nanoTime()
        val token = client.cachedAccessToken()
        val elapsed = System.nanoTime() - t
        check(token ?: "")
        elapsed
    }
    report("kotlin-sync-cached", cachedSamples, outDir, round)

    repeat(warmup) { client.account() }
    val syncSamples = LongArray(n) {
        val t = System.nanoTime()
        val account = client.account()
        val elapsed = System.nanoTime() - t
        if (account != "default") exitProcess(1)
        elapsed
    }
    report("kotlin-sync-account", syncSamples, outDir, round)
    client.close()
}
