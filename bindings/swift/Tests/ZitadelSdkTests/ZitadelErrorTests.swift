import XCTest
@testable import ZitadelSdk

/// `FfiError` → `ZitadelError`: every stable code keeps its number and name,
/// and the errors the Rust core raises arrive with the right kind.
final class ZitadelErrorTests: XCTestCase {
    func testEveryCodeKeepsItsNumberAndNameThroughTheFfiError() {
        XCTAssertEqual(ZitadelError.Kind.allCases.map(\.rawValue), Array(1...21))
        for kind in ZitadelError.Kind.allCases {
            let error = ZitadelError(kind, "detail \(kind.rawValue)", failedAttempts: 3, unmetPasswordRules: ["symbol"])
            let back = ZitadelError(error.ffiError)
            XCTAssertEqual(back, error)
            XCTAssertEqual(back.code, kind.rawValue)
            XCTAssertEqual(back.name, kind.name)
        }
    }

    func testStableNamesMatchTheRustCodes() {
        XCTAssertEqual(ZitadelError.Kind.sessionExpired.name, "session_expired")
        XCTAssertEqual(ZitadelError.Kind.invalidServerResponse.name, "invalid_server_response")
        XCTAssertEqual(ZitadelError.Kind.failedPrecondition.name, "failed_precondition")
    }

    func testACodeNewerThanThisLayerIsInternalButKeepsItsNumberAndName() {
        let ffi = FfiError.Internal(code: 99, name: "brand_new", detail: "d", failedAttempts: nil, unmetPasswordRules: [])
        let error = ZitadelError(ffi)
        XCTAssertEqual(error.kind, .internal)
        XCTAssertEqual(error.code, 99)
        XCTAssertEqual(error.name, "brand_new")
    }

    func testForeignErrorsLoseTheirTextAndCancellationIsCancelled() {
        struct Leaky: Error { let secret = "token-123" }
        let error = ZitadelError(Leaky())
        XCTAssertEqual(error.kind, .internal)
        XCTAssertFalse(error.message.contains("token-123"))
        XCTAssertEqual(ZitadelError(CancellationError()).kind, .cancelled)
    }

    func testAnInsecureIssuerIsRejectedByTheCoreAsMisconfigured() {
        XCTAssertThrowsError(try ZitadelAuth(config: ClientConfig(issuer: "http://example.com", clientId: "app"))) {
            let error = $0 as? ZitadelError
            XCTAssertEqual(error?.kind, .misconfigured)
            XCTAssertEqual(error?.code, 7)
            XCTAssertEqual(error?.name, "misconfigured")
        }
    }

    func testAnAccessTokenWithoutSessionIsNotSignedInAndMatchesTheKindPattern() async throws {
        let auth = try ZitadelAuth(config: ClientConfig(issuer: "https://issuer.invalid", clientId: "app"),
                                   store: memoryTokenStore())
        do {
            _ = try await auth.accessToken()
            XCTFail("an access token without a session")
        } catch ZitadelError.notSignedIn {
            // the pattern of the docs
        } catch {
            XCTFail("unexpected \(error)")
        }
    }

    func testCallsOfTheGeneratedSubClientsThrowZitadelErrors() async throws {
        let auth = try ZitadelAuth(config: ClientConfig(issuer: "https://issuer.invalid", clientId: "app"))
        do {
            _ = try await auth.call { try await $0.profile().get() }
            XCTFail("a profile without a session")
        } catch let error as ZitadelError {
            XCTAssertEqual(error.kind, .notSignedIn)
        }
    }
}
