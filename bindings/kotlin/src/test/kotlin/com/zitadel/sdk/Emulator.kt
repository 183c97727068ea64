package com.zitadel.sdk

import org.openqa.selenium.json.Json
import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * The zitadel-emulator binary (system property `zitadel.emulator`), started
 * on a free port with a request log; stopped by [close].
 */
class Emulator : AutoCloseable {
    private val process: Process
    val requestLog: File = Files.createTempFile("zitadel-emulator-requests", ".jsonl").toFile()
    val issuer: String
    val clientId: String
    /** The login-client token of the seed (role `IAM_LOGIN_CLIENT`), for native registration and login. */
    val loginClientToken: String

    /** The id of the seed organization. */
    val orgId: String
    private val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()

    init {
        val binary = System.getProperty("zitadel.emulator") ?: error("the system property zitadel.emulator is not set")
        process = ProcessBuilder(binary, "--port", "0", "--request-log", requestLog.path)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start()
        val line = process.inputStream.bufferedReader().readLine() ?: error("the emulator printed nothing")
        val seed = parse(line)
        issuer = seed["issuer"] as String
        clientId = seed["client_id"] as String
        loginClientToken = seed["login_client_token"] as String
        orgId = seed["org_id"] as String
    }

    /** Approves the device login of [userCode] as [login], like a login UI: a session, then the approval. */
    fun approveDevice(userCode: String, login: String = USER, password: String = PASSWORD) {
        val session = call(
            "POST",
            "/v2/sessions",
            """{"checks":{"user":{"loginName":"$login"},"password":{"password":"$password"}}}""",
        )
        val request = call("GET", "/v2/oidc/device_authorization/$userCode", null)
        @Suppress("UNCHECKED_CAST")
        val id = (request["deviceAuthorizationRequest"] as Map<String, Any?>)["id"] as String
        call(
            "POST",
            "/v2/oidc/device_authorization/$id",
            """{"session":{"sessionId":"${session["sessionId"]}","sessionToken":"${session["sessionToken"]}"}}""",
        )
    }

    /** How many token requests of [grantType] the emulator answered so far. */
    fun tokenRequests(grantType: String): Int = requestLog.readLines().count { line ->
        val entry = parse(line)
        @Suppress("UNCHECKED_CAST")
        val body = entry["request_body"] as? Map<String, Any?>
        entry["path"] == "/oauth/v2/token" && body?.get("grant_type") == grantType
    }

    private fun call(method: String, path: String, body: String?): Map<String, Any?> {
        val request = HttpRequest.newBuilder(URI.create(issuer + path))
            .header("Authorization", "Bearer $loginClientToken")
            .header("Content-Type", "application/json")
            .method(method, body?.let { HttpRequest.BodyPublishers.ofString(it) } ?: HttpRequest.BodyPublishers.noBody())
            .timeout(Duration.ofSeconds(10))
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        check(response.statusCode() in 200..299) { "$method $path: HTTP ${response.statusCode()} ${response.body()}" }
        return parse(response.body())
    }

    override fun close() {
        process.destroy()
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly()
        requestLog.delete()
    }

    companion object {
        const val USER = "alice@acme.localhost"
        const val PASSWORD = "Password1!"

        @Suppress("UNCHECKED_CAST")
        fun parse(json: String): Map<String, Any?> = Json().toType(json, Map::class.java) as Map<String, Any?>
    }
}
