#if canImport(Security)
import Foundation
import ZitadelSdkFFI
import Security

/// A `TokenStore` in the Keychain: one generic-password item per SDK key
/// (`kSecAttrService` = `service`, `kSecAttrAccount` = the key), readable
/// only while the device is unlocked once after boot and never migrated to
/// another device (`kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`: a
/// background refresh still works, backups carry no tokens).
///
/// Failures reach the SDK as `.storage` errors carrying the `OSStatus` only,
/// never a value.
public final class KeychainTokenStore: TokenStore, @unchecked Sendable {
    private let service: String
    private let accessGroup: String?
    private let useDataProtectionKeychain: Bool
    // Update-or-add is two calls: one writer at a time keeps `save` atomic.
    private let lock = NSLock()

    /// - Parameters:
    ///   - service: the `kSecAttrService` of the items (one per app or per SDK client).
    ///   - accessGroup: a Keychain access group shared with app extensions, or `nil`.
    ///   - useDataProtectionKeychain: on macOS, use the data-protection Keychain
    ///     (as on iOS; needs a signed app with a Keychain entitlement). `false`
    ///     uses the login Keychain, e.g. for command-line tools and `swift test`.
    ///     Ignored on iOS, where there is only the data-protection Keychain.
    public init(
        service: String = "com.zitadel.sdk.tokens",
        accessGroup: String? = nil,
        useDataProtectionKeychain: Bool = true
    ) {
        self.service = service
        self.accessGroup = accessGroup
        self.useDataProtectionKeychain = useDataProtectionKeychain
    }

    private func query(_ key: String) -> [String: Any] {
        var q: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: key,
        ]
        if let accessGroup {
            q[kSecAttrAccessGroup as String] = accessGroup
        }
        #if os(macOS)
        if useDataProtectionKeychain {
            q[kSecUseDataProtectionKeychain as String] = true
        }
        #endif
        return q
    }

    public func load(key: String) throws -> Data? {
        var q = query(key)
        q[kSecReturnData as String] = true
        q[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        let status = SecItemCopyMatching(q as CFDictionary, &result)
        switch status {
        case errSecSuccess:
            guard let data = result as? Data else { throw Self.failure("load", errSecInternalError) }
            return data
        case errSecItemNotFound:
            return nil
        default:
            throw Self.failure("load", status)
        }
    }

    public func save(key: String, value: Data) throws {
        lock.lock()
        defer { lock.unlock() }
        let attributes: [String: Any] = [
            kSecValueData as String: value,
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
        ]
        let status = SecItemUpdate(query(key) as CFDictionary, attributes as CFDictionary)
        if status == errSecSuccess { return }
        guard status == errSecItemNotFound else { throw Self.failure("save", status) }
        var add = query(key)
        add.merge(attributes) { _, new in new }
        let added = SecItemAdd(add as CFDictionary, nil)
        guard added == errSecSuccess else { throw Self.failure("save", added) }
    }

    public func delete(key: String) throws {
        lock.lock()
        defer { lock.unlock() }
        let status = SecItemDelete(query(key) as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else { throw Self.failure("delete", status) }
    }

    /// A storage error naming the operation and the status, nothing else.
    private static func failure(_ operation: String, _ status: OSStatus) -> FfiError {
        ZitadelError(.storage, "Keychain \(operation) failed (OSStatus \(status))").ffiError
    }
}
#endif
