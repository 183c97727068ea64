import Foundation
@_exported import ZitadelSdkFFI

/// An SDK error. `code` is the stable number of the error (the same in Rust,
/// Kotlin and C), `name` its stable name (e.g. `"session_expired"`), and
/// `message` is safe to log (no token, code, password or query string).
///
/// Catch the kind you can act on (as with `catch CocoaError.fileNoSuchFile`):
/// ```swift
/// do { token = try await auth.accessToken() }
/// catch ZitadelError.sessionExpired { showLogin() }
/// catch let error as ZitadelError { show(error.message) }
/// ```
public struct ZitadelError: Error, Equatable, Hashable, Sendable, CustomStringConvertible, LocalizedError {
    /// The stable error codes, numbered as in `zitadel_sdk::ErrorCode`.
    public enum Kind: Int, Sendable, CaseIterable {
        /// A bug or an unexpected state in the SDK. Report it.
        case `internal` = 1
        /// A transient network or server problem. Retry later.
        case retryLater = 2
        /// The input given by the user or the app is invalid. Fix it.
        case invalidInput = 3
        /// There is no signed-in session for this account. Sign in.
        case notSignedIn = 4
        /// The session ended on the server. Sign in again.
        case sessionExpired = 5
        /// The operation was cancelled by the app or the user.
        case cancelled = 6
        /// The SDK is configured wrongly (issuer, client id, redirect URI, insecure URL).
        case misconfigured = 7
        /// The server refused the request.
        case serverRejected = 8
        /// The server's answer is malformed or fails a security check.
        case invalidServerResponse = 9
        /// The token store failed or holds data that cannot be read.
        case storage = 10
        /// The user did not finish in time. Start again.
        case expired = 11
        /// The user or the server denied the authorization.
        case accessDenied = 12
        /// The caller lacks the permission.
        case permissionDenied = 13
        /// The user, session or other object does not exist.
        case notFound = 14
        /// The object exists already.
        case alreadyExists = 15
        /// The user is locked.
        case userLocked = 16
        /// A one-time or verification code is wrong.
        case wrongCode = 17
        /// A one-time or verification code has expired.
        case codeExpired = 18
        /// The password does not meet the complexity policy.
        case passwordPolicy = 19
        /// The login name or password is wrong.
        case invalidCredentials = 20
        /// The object is not in a state that allows this.
        case failedPrecondition = 21

        /// The stable name, e.g. `"session_expired"`.
        public var name: String {
            switch self {
            case .internal: return "internal"
            case .retryLater: return "retry_later"
            case .invalidInput: return "invalid_input"
            case .notSignedIn: return "not_signed_in"
            case .sessionExpired: return "session_expired"
            case .cancelled: return "cancelled"
            case .misconfigured: return "misconfigured"
            case .serverRejected: return "server_rejected"
            case .invalidServerResponse: return "invalid_server_response"
            case .storage: return "storage"
            case .expired: return "expired"
            case .accessDenied: return "access_denied"
            case .permissionDenied: return "permission_denied"
            case .notFound: return "not_found"
            case .alreadyExists: return "already_exists"
            case .userLocked: return "user_locked"
            case .wrongCode: return "wrong_code"
            case .codeExpired: return "code_expired"
            case .passwordPolicy: return "password_policy"
            case .invalidCredentials: return "invalid_credentials"
            case .failedPrecondition: return "failed_precondition"
            }
        }

        /// Lets `catch ZitadelError.notSignedIn { … }` match a thrown `ZitadelError`.
        public static func ~= (kind: Kind, error: Error) -> Bool {
            (error as? ZitadelError)?.kind == kind
        }
    }

    // The kinds as patterns: `catch ZitadelError.sessionExpired { … }`.
    /// Matches a `ZitadelError` of kind `.internal` in a `catch`.
    public static let `internal` = Kind.internal
    /// Matches a `ZitadelError` of kind `.retryLater` in a `catch`.
    public static let retryLater = Kind.retryLater
    /// Matches a `ZitadelError` of kind `.invalidInput` in a `catch`.
    public static let invalidInput = Kind.invalidInput
    /// Matches a `ZitadelError` of kind `.notSignedIn` in a `catch`.
    public static let notSignedIn = Kind.notSignedIn
    /// Matches a `ZitadelError` of kind `.sessionExpired` in a `catch`.
    public static let sessionExpired = Kind.sessionExpired
    /// Matches a `ZitadelError` of kind `.cancelled` in a `catch`.
    public static let cancelled = Kind.cancelled
    /// Matches a `ZitadelError` of kind `.misconfigured` in a `catch`.
    public static let misconfigured = Kind.misconfigured
    /// Matches a `ZitadelError` of kind `.serverRejected` in a `catch`.
    public static let serverRejected = Kind.serverRejected
    /// Matches a `ZitadelError` of kind `.invalidServerResponse` in a `catch`.
    public static let invalidServerResponse = Kind.invalidServerResponse
    /// Matches a `ZitadelError` of kind `.storage` in a `catch`.
    public static let storage = Kind.storage
    /// Matches a `ZitadelError` of kind `.expired` in a `catch`.
    public static let expired = Kind.expired
    /// Matches a `ZitadelError` of kind `.accessDenied` in a `catch`.
    public static let accessDenied = Kind.accessDenied
    /// Matches a `ZitadelError` of kind `.permissionDenied` in a `catch`.
    public static let permissionDenied = Kind.permissionDenied
    /// Matches a `ZitadelError` of kind `.notFound` in a `catch`.
    public static let notFound = Kind.notFound
    /// Matches a `ZitadelError` of kind `.alreadyExists` in a `catch`.
    public static let alreadyExists = Kind.alreadyExists
    /// Matches a `ZitadelError` of kind `.userLocked` in a `catch`.
    public static let userLocked = Kind.userLocked
    /// Matches a `ZitadelError` of kind `.wrongCode` in a `catch`.
    public static let wrongCode = Kind.wrongCode
    /// Matches a `ZitadelError` of kind `.codeExpired` in a `catch`.
    public static let codeExpired = Kind.codeExpired
    /// Matches a `ZitadelError` of kind `.passwordPolicy` in a `catch`.
    public static let passwordPolicy = Kind.passwordPolicy
    /// Matches a `ZitadelError` of kind `.invalidCredentials` in a `catch`.
    public static let invalidCredentials = Kind.invalidCredentials
    /// Matches a `ZitadelError` of kind `.failedPrecondition` in a `catch`.
    public static let failedPrecondition = Kind.failedPrecondition

    /// What went wrong; `.internal` for a code this version does not know.
    public let kind: Kind
    /// The stable number the SDK sent (equal to `kind.rawValue` unless the code is newer than this layer).
    public let code: Int
    /// The stable name the SDK sent, e.g. `"session_expired"`.
    public let name: String
    /// A human-readable message, safe to log.
    public let message: String
    /// For a wrong password or a locked user: the failed attempts the server counted, when it told them.
    public let failedAttempts: UInt32?
    /// For `.passwordPolicy`: the unmet rules (`"min_length"`, `"lowercase"`, `"uppercase"`,
    /// `"number"`, `"symbol"`); empty otherwise.
    public let unmetPasswordRules: [String]

    /// An error of `kind` with a safe `message` (for host code: stores, authenticators, tests).
    public init(_ kind: Kind, _ message: String, failedAttempts: UInt32? = nil, unmetPasswordRules: [String] = []) {
        self.kind = kind
        self.code = kind.rawValue
        self.name = kind.name
        self.message = message
        self.failedAttempts = failedAttempts
        self.unmetPasswordRules = unmetPasswordRules
    }

    /// The error of a call into the SDK: an `FfiError` keeps its code, name and
    /// extras; a `ZitadelError` stays as it is; `CancellationError` is
    /// `.cancelled`; anything else is `.internal` (its text is not kept: it
    /// may come from anywhere).
    public init(_ error: Error) {
        switch error {
        case let e as ZitadelError:
            self = e
        case let e as FfiError:
            self.init(ffi: e)
        case is CancellationError:
            self.init(.cancelled, "the task was cancelled")
        default:
            self.init(.internal, "unexpected error: \(type(of: error))")
        }
    }

    /// The error the generated code threw.
    public init(ffi error: FfiError) {
        let parts: (UInt16, String, String, UInt32?, [String])
        switch error {
        case let .Internal(code, name, detail, attempts, rules),
             let .RetryLater(code, name, detail, attempts, rules),
             let .InvalidInput(code, name, detail, attempts, rules),
             let .NotSignedIn(code, name, detail, attempts, rules),
             let .SessionExpired(code, name, detail, attempts, rules),
             let .Cancelled(code, name, detail, attempts, rules),
             let .Misconfigured(code, name, detail, attempts, rules),
             let .ServerRejected(code, name, detail, attempts, rules),
             let .InvalidServerResponse(code, name, detail, attempts, rules),
             let .Storage(code, name, detail, attempts, rules),
             let .Expired(code, name, detail, attempts, rules),
             let .AccessDenied(code, name, detail, attempts, rules),
             let .PermissionDenied(code, name, detail, attempts, rules),
             let .NotFound(code, name, detail, attempts, rules),
             let .AlreadyExists(code, name, detail, attempts, rules),
             let .UserLocked(code, name, detail, attempts, rules),
             let .WrongCode(code, name, detail, attempts, rules),
             let .CodeExpired(code, name, detail, attempts, rules),
             let .PasswordPolicy(code, name, detail, attempts, rules),
             let .InvalidCredentials(code, name, detail, attempts, rules),
             let .FailedPrecondition(code, name, detail, attempts, rules):
            parts = (code, name, detail, attempts, rules)
        }
        self.code = Int(parts.0)
        self.kind = Kind(rawValue: Int(parts.0)) ?? .internal
        self.name = parts.1
        self.message = parts.2
        self.failedAttempts = parts.3
        self.unmetPasswordRules = parts.4
    }

    /// The `FfiError` of this error, to throw from a host implementation of a
    /// foreign trait (`TokenStore`, `PasskeyAuthenticator`, `BrowserLauncher`):
    /// the Rust core then sees this code, not an unexpected error.
    public var ffiError: FfiError {
        let (c, n, d, a, r) = (UInt16(clamping: code), name, message, failedAttempts, unmetPasswordRules)
        switch kind {
        case .internal: return .Internal(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .retryLater: return .RetryLater(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .invalidInput: return .InvalidInput(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .notSignedIn: return .NotSignedIn(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .sessionExpired:
            return .SessionExpired(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .cancelled: return .Cancelled(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .misconfigured:
            return .Misconfigured(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .serverRejected:
            return .ServerRejected(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .invalidServerResponse:
            return .InvalidServerResponse(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .storage: return .Storage(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .expired: return .Expired(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .accessDenied: return .AccessDenied(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .permissionDenied:
            return .PermissionDenied(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .notFound: return .NotFound(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .alreadyExists:
            return .AlreadyExists(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .userLocked: return .UserLocked(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .wrongCode: return .WrongCode(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .codeExpired: return .CodeExpired(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .passwordPolicy:
            return .PasswordPolicy(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .invalidCredentials:
            return .InvalidCredentials(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        case .failedPrecondition:
            return .FailedPrecondition(code: c, name: n, detail: d, failedAttempts: a, unmetPasswordRules: r)
        }
    }

    public var description: String { "ZitadelError.\(kind)(\(code) \(name): \(message))" }

    public var errorDescription: String? { message }
}

/// Runs calls into the generated code (`client.profile().get()`, …) and
/// rethrows their errors as `ZitadelError`:
/// ```swift
/// let user = try await withZitadelErrors { try await auth.client.profile().get() }
/// ```
public func withZitadelErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        throw ZitadelError(error)
    }
}

/// The synchronous form of `withZitadelErrors` (for this layer's own calls).
func mapErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw ZitadelError(error)
    }
}
