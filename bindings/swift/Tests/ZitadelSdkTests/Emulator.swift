import Foundation
import XCTest

/// The zitadel-emulator binary named by the environment variable
/// `ZITADEL_EMULATOR` (build it with `cargo build -p zitadel-emulator`),
/// started on a free loopback port. Tests that need it skip without it.
final class Emulator {
    static let user = "alice@acme.localhost"
    static let password = "Password1!"

    let issuer: String
    let clientId: String
    private let loginClientToken: String
    private let process: Process

    init() throws {
        guard let binary = ProcessInfo.processInfo.environment["ZITADEL_EMULATOR"], !binary.isEmpty else {
            throw XCTSkip("set ZITADEL_EMULATOR to the zitadel-emulator binary to run this test")
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--port", "0"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line is the seed: issuer, client id, login-client token.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let firstLine = line.split(separator: UInt8(ascii: "\n")).first ?? Data()
        guard let seed = try JSONSerialization.jsonObject(with: Data(firstLine)) as? [String: Any],
              let issuer = seed["issuer"] as? String,
              let clientId = seed["client_id"] as? String,
              let token = seed["login_client_token"] as? String
        else {
            process.terminate()
            throw XCTSkip("the emulator printed no seed")
        }
        self.issuer = issuer
        self.clientId = clientId
        loginClientToken = token
    }

    deinit {
        stop()
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// Approves the device login of `userCode` as a login UI would: a session, then the approval.
    func approveDevice(userCode: String, login: String = Emulator.user, password: String = Emulator.password) async throws {
        let session = try await call("POST", "/v2/sessions", [
            "checks": ["user": ["loginName": login], "password": ["password": password]],
        ])
        let request = try await call("GET", "/v2/oidc/device_authorization/\(userCode)", nil)
        let id = try XCTUnwrap((request["deviceAuthorizationRequest"] as? [String: Any])?["id"] as? String)
        _ = try await call("POST", "/v2/oidc/device_authorization/\(id)", [
            "session": ["sessionId": session["sessionId"] as Any, "sessionToken": session["sessionToken"] as Any],
        ])
    }

    private func call(_ method: String, _ path: String, _ body: [String: Any]?) async throws -> [String: Any] {
        var request = URLRequest(url: try XCTUnwrap(URL(string: issuer + path)), timeoutInterval: 10)
        request.httpMethod = method
        request.setValue("Bearer \(loginClientToken)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw XCTSkip("\(method) \(path): HTTP \(status)") // not the SDK's fault: report, do not fail
        }
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }
}
