import XCTest
@testable import ZitadelSdk

/// A `TokenStore` written in Swift, which the Rust core calls.
final class SwiftMapStore: TokenStore, @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: Data] = [:]
    private(set) var loads = 0
    private(set) var saves = 0

    func load(key: String) throws -> Data? {
        lock.lock(); defer { lock.unlock() }
        loads += 1
        return values[key]
    }

    func save(key: String, value: Data) throws {
        lock.lock(); defer { lock.unlock() }
        saves += 1
        values[key] = value
    }

    func delete(key: String) throws {
        lock.lock(); defer { lock.unlock() }
        values[key] = nil
    }

    var keys: [String] {
        lock.lock(); defer { lock.unlock() }
        return Array(values.keys)
    }
}

/// A store whose backend always fails with a plain Swift error.
final class BrokenStore: TokenStore, @unchecked Sendable {
    struct DiskOnFire: Error {}
    func load(key: String) throws -> Data? { throw DiskOnFire() }
    func save(key: String, value: Data) throws { throw DiskOnFire() }
    func delete(key: String) throws { throw DiskOnFire() }
}

final class TokenStoreTests: XCTestCase {
    private let config = ClientConfig(issuer: "https://issuer.invalid", clientId: "app")

    func testTheRustMemoryStoreRoundTripsBytes() throws {
        let store = memoryTokenStore()
        XCTAssertNil(try store.load(key: "k"))
        try store.save(key: "k", value: Data([0, 1, 2, 255]))
        XCTAssertEqual(try store.load(key: "k"), Data([0, 1, 2, 255]))
        try store.delete(key: "k")
        XCTAssertNil(try store.load(key: "k"))
        try store.delete(key: "k") // deleting a missing key is no error
    }

    func testTheCoreReadsTheSessionThroughASwiftStore() async throws {
        let store = SwiftMapStore()
        let auth = try ZitadelAuth(config: config, store: store)
        let session = try await auth.restore()
        XCTAssertNil(session)
        XCTAssertGreaterThan(store.loads, 0)
        XCTAssertEqual(auth.state, .signedOut)
    }

    func testAFailingSwiftStoreIsAStorageError() async throws {
        let auth = try ZitadelAuth(config: config, store: BrokenStore())
        do {
            _ = try await auth.session()
            XCTFail("a session from a broken store")
        } catch let error as ZitadelError {
            XCTAssertEqual(error.kind, .storage)
            XCTAssertEqual(error.code, 10)
        }
    }

    #if os(macOS)
    func testTheKeychainStoreRoundTripsBytes() throws {
        // The login Keychain: `swift test` runs unsigned, without the entitlement
        // the data-protection Keychain needs.
        let store = KeychainTokenStore(service: "com.zitadel.sdk.tests.\(UUID().uuidString)",
                                       useDataProtectionKeychain: false)
        do {
            try store.save(key: "session.default", value: Data("first".utf8))
        } catch {
            throw XCTSkip("no usable Keychain here: \(ZitadelError(error).message)")
        }
        defer { try? store.delete(key: "session.default") }
        XCTAssertEqual(try store.load(key: "session.default"), Data("first".utf8))
        try store.save(key: "session.default", value: Data("second".utf8))
        XCTAssertEqual(try store.load(key: "session.default"), Data("second".utf8))
        try store.delete(key: "session.default")
        XCTAssertNil(try store.load(key: "session.default"))
    }
    #endif
}
