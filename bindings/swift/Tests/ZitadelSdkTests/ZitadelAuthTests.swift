import XCTest
@testable import ZitadelSdk

/// The auth state stream and the flows against the emulator.
final class ZitadelAuthTests: XCTestCase {
    /// Collects the states of `auth` in a task.
    private final class StateRecorder: @unchecked Sendable {
        private let lock = NSLock()
        private var seen: [AuthState] = []
        private var task: Task<Void, Never>?

        init(_ auth: ZitadelAuth) {
            let stream = auth.states
            task = Task { [weak self] in
                for await state in stream {
                    self?.append(state)
                }
            }
        }

        private func append(_ state: AuthState) {
            lock.lock(); defer { lock.unlock() }
            seen.append(state)
        }

        var states: [AuthState] {
            lock.lock(); defer { lock.unlock() }
            return seen
        }

        /// Waits until `expected` were seen (at most 10 s).
        func wait(for expected: [AuthState], file: StaticString = #filePath, line: UInt = #line) async {
            var tries = 0
            while states != expected, tries < 200 {
                try? await Task.sleep(nanoseconds: 50_000_000)
                tries += 1
            }
            XCTAssertEqual(states, expected, file: file, line: line)
        }

        func stop() {
            task?.cancel()
        }
    }

    func testTheStateStreamStartsUnknownAndRestoreWithoutSessionMakesItSignedOut() async throws {
        let auth = try ZitadelAuth(config: ClientConfig(issuer: "https://issuer.invalid", clientId: "app"))
        XCTAssertEqual(auth.state, .unknown)
        let recorder = StateRecorder(auth)
        defer { recorder.stop() }
        await recorder.wait(for: [.unknown])
        try await auth.restore()
        await recorder.wait(for: [.unknown, .signedOut])
        try await auth.restore() // equal states are not repeated
        await recorder.wait(for: [.unknown, .signedOut])
    }

    func testDeviceLoginProfileRefreshAndLogoutAgainstTheEmulatorDriveTheStateStream() async throws {
        let emulator = try Emulator()
        defer { emulator.stop() }
        let store = SwiftMapStore()
        let auth = try ZitadelAuth(config: ClientConfig(issuer: emulator.issuer, clientId: emulator.clientId), store: store)
        let restored = try await auth.restore()
        XCTAssertNil(restored)
        let recorder = StateRecorder(auth)
        defer { recorder.stop() }

        let device = try await auth.startDeviceLogin()
        XCTAssertFalse(device.userCode.isEmpty)
        try await emulator.approveDevice(userCode: device.userCode)
        let session = try await device.wait()
        XCTAssertTrue(session.hasRefreshToken)
        XCTAssertEqual(auth.state, .signedIn(account: session.account, subject: session.subject))
        XCTAssertGreaterThan(store.saves, 0)

        let user = try await auth.call { try await $0.profile().get() }
        XCTAssertEqual(user.userId, session.subject)
        XCTAssertFalse(user.machine)
        let token = try await auth.accessToken()
        XCTAssertFalse(token.isEmpty)
        try await auth.refresh()
        let userinfo = try await auth.userinfo()
        XCTAssertTrue(userinfo.contains(session.subject))

        try await auth.logout()
        let after = try await auth.session()
        XCTAssertNil(after)
        await recorder.wait(for: [.signedOut, .signedIn(account: session.account, subject: session.subject), .signedOut])
    }

    func testCancellingTheTaskThatWaitsForADeviceLoginEndsItAsCancelled() async throws {
        let emulator = try Emulator()
        defer { emulator.stop() }
        let auth = try ZitadelAuth(config: ClientConfig(issuer: emulator.issuer, clientId: emulator.clientId))
        let device = try await auth.startDeviceLogin()
        let waiting = Task { try await device.wait() }
        try await Task.sleep(nanoseconds: 300_000_000)
        waiting.cancel()
        do {
            _ = try await waiting.value
            XCTFail("a device login nobody approved")
        } catch ZitadelError.cancelled {
            // the polling in Rust stopped
        }
    }
}
