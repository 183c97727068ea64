import Foundation
import ZitadelSdkFFI

/// Whether a user is signed in, as `ZitadelAuth.states` tells it.
public enum AuthState: Equatable, Hashable, Sendable {
    /// Not known yet: call `ZitadelAuth.restore()` once at start.
    case unknown
    /// No session: show the sign-in screen.
    case signedOut
    /// A session of `subject` (the user id) under `account`.
    case signedIn(account: String, subject: String)
    /// The server ended the session: sign in again.
    case sessionExpired(account: String)
}

/// The Swift face of the SDK for one issuer, client id and account: every
/// call is `async throws` (errors are `ZitadelError`s), cancelling the Swift
/// `Task` cancels the long waits (device login, loopback login), and
/// `states` follows sign-in, refresh, sign-out and session expiry.
///
/// ```swift
/// let auth = try ZitadelAuth(
///     config: ClientConfig(issuer: "https://my-instance.zitadel.cloud", clientId: "<id>",
///                          redirectUri: "com.example.app:/callback"),
///     store: KeychainTokenStore())
/// try await auth.restore()
/// for await state in auth.states { … }
/// let user = try await auth.call { try await $0.profile().get() }
/// ```
public final class ZitadelAuth: @unchecked Sendable {
    /// The generated client, for the flows this layer does not wrap
    /// (`client.profile()`, …); wrap such calls in `call(_:)` to get `ZitadelError`s.
    public let client: ZitadelClient
    /// The account this client is bound to.
    public let account: String
    /// The configured redirect URI (its scheme is the callback scheme of `WebAuthenticationLogin`).
    public let redirectUri: String?

    private let lock = NSLock()
    private var current: AuthState = .unknown
    private var continuations: [UUID: AsyncStream<AuthState>.Continuation] = [:]

    /// Builds the client (no network request).
    ///
    /// - Parameters:
    ///   - config: issuer, client id, redirect URI, …
    ///   - store: where the session is kept: `KeychainTokenStore()` in apps; in
    ///     memory when `nil`.
    /// - Throws: `ZitadelError` `.misconfigured` for an invalid or insecure issuer or redirect URI.
    public init(config: ClientConfig, store: TokenStore? = nil) throws {
        client = try mapErrors { try ZitadelClient(config: config, store: store) }
        account = client.account()
        redirectUri = config.redirectUri
        client.addListener(listener: EventForwarder(owner: self))
    }

    // MARK: - State

    /// The current auth state of `account`.
    public var state: AuthState {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    /// The auth state of `account`: the current state first, then every
    /// change (equal states are not repeated). Each access returns a new
    /// stream; iterate it in a `Task` and cancel the task to stop.
    public var states: AsyncStream<AuthState> {
        AsyncStream(bufferingPolicy: .bufferingNewest(32)) { continuation in
            let id = UUID()
            lock.lock()
            continuations[id] = continuation
            continuation.yield(current)
            lock.unlock()
            continuation.onTermination = { [weak self] _ in
                guard let self else { return }
                self.lock.lock()
                self.continuations[id] = nil
                self.lock.unlock()
            }
        }
    }

    private func set(_ state: AuthState) {
        lock.lock()
        defer { lock.unlock() }
        guard state != current else { return }
        current = state
        for continuation in continuations.values {
            continuation.yield(state)
        }
    }

    fileprivate func handle(_ event: AuthEvent) {
        switch event {
        case let .signedIn(account, subject) where account == self.account:
            set(.signedIn(account: account, subject: subject))
        case let .signedOut(account) where account == self.account:
            set(.signedOut)
        case let .sessionExpired(account) where account == self.account:
            set(.sessionExpired(account: account))
        default:
            break
        }
    }

    @discardableResult
    private func signedIn(_ session: SessionInfo) -> SessionInfo {
        set(.signedIn(account: session.account, subject: session.subject))
        return session
    }

    // MARK: - Session

    /// Reads the stored session (no request) and sets the state from it.
    @discardableResult
    public func restore() async throws -> SessionInfo? {
        let session = try await withZitadelErrors { try await client.session() }
        if let session {
            signedIn(session)
        } else {
            set(.signedOut)
        }
        return session
    }

    /// The signed-in session, or `nil`. Makes no request.
    public func session() async throws -> SessionInfo? {
        try await withZitadelErrors { try await client.session() }
    }

    /// A valid access token, refreshed first when it is about to expire;
    /// however many tasks ask at once, one refresh request is made. Never log it.
    public func accessToken() async throws -> String {
        try await withZitadelErrors { try await client.accessToken() }
    }

    /// The access token already in memory when it can be used as it is,
    /// else `nil` (then call ``accessToken()``). Synchronous and never waits:
    /// safe on the main thread or in a render loop. Never log it.
    public func cachedAccessToken() -> String? {
        client.cachedAccessToken()
    }

    /// Refreshes the tokens now.
    @discardableResult
    public func refresh() async throws -> SessionInfo {
        try await withZitadelErrors { try await client.refresh() }
    }

    /// The userinfo of the signed-in user, as a JSON object.
    public func userinfo() async throws -> String {
        try await withZitadelErrors { try await client.userinfo() }
    }

    /// The URL that ends the browser (SSO) session; open it before `logout()`.
    public func endSessionURL(postLogoutRedirectUri: String? = nil, state: String? = nil) async throws -> URL {
        let url = try await withZitadelErrors {
            try await client.endSessionUrl(postLogoutRedirectUri: postLogoutRedirectUri, state: state)
        }
        return try Self.url(url)
    }

    /// Signs out: revokes the tokens and wipes the stored session (the wipe
    /// happens even when the revocation fails).
    @discardableResult
    public func logout() async throws -> LogoutResult {
        let result = try await withZitadelErrors { try await client.logout() }
        set(.signedOut)
        return result
    }

    /// Runs calls of the generated sub-clients with `ZitadelError`s:
    /// `try await auth.call { try await $0.profile().get() }`.
    public func call<T>(_ body: (ZitadelClient) async throws -> T) async throws -> T {
        try await withZitadelErrors { try await body(client) }
    }

    // MARK: - Browser login

    /// Starts a browser login with the configured redirect URI and returns the
    /// URL to open (see `WebAuthenticationLogin`). The login in flight is
    /// stored: `completeLogin` works after the app was restarted.
    public func startLogin(options: LoginOptions = LoginOptions()) async throws -> URL {
        let url = try await withZitadelErrors { try await client.startLogin(options: options) }
        return try Self.url(url)
    }

    /// Completes a browser login with the URL the browser was redirected to.
    @discardableResult
    public func completeLogin(callbackURL: URL) async throws -> SessionInfo {
        let session = try await withZitadelErrors {
            try await client.completeLogin(callbackUrl: callbackURL.absoluteString)
        }
        return signedIn(session)
    }

    /// Whether `url` is the redirect of the login in flight.
    public func isLoginCallback(_ url: URL) -> Bool {
        client.isLoginCallback(url: url.absoluteString)
    }

    /// Signs in through `browser` with a loopback redirect (macOS apps): the
    /// SDK waits for the redirect on 127.0.0.1. Cancel the task to stop waiting.
    @discardableResult
    public func loginWithLoopback(
        browser: BrowserLauncher,
        options: LoginOptions = LoginOptions(),
        timeout: TimeInterval = 300
    ) async throws -> SessionInfo {
        let secs = UInt32(max(1, min(timeout.isNaN ? 300 : timeout.rounded(.up), Double(UInt32.max))))
        let cancel = CancelHandle()
        let session = try await withTaskCancellationHandler {
            try await withZitadelErrors {
                try await client.loginWithLoopback(browser: browser, options: options, timeoutSecs: secs, cancel: cancel)
            }
        } onCancel: {
            cancel.cancel()
        }
        return signedIn(session)
    }

    // MARK: - Device login

    /// Starts a device login (TVs, consoles): show `userCode` and
    /// `verificationURI`, then `wait()`.
    public func startDeviceLogin() async throws -> DeviceSignIn {
        let device = try await withZitadelErrors { try await client.startDeviceLogin() }
        return DeviceSignIn(device: device) { [weak self] session in
            self?.signedIn(session)
        }
    }

    private static func url(_ text: String) throws -> URL {
        guard let url = URL(string: text) else {
            throw ZitadelError(.invalidServerResponse, "the SDK returned a URL Foundation cannot parse")
        }
        return url
    }
}

/// Hands the SDK's events to a `ZitadelAuth` without keeping it alive (the
/// Rust client keeps its listeners for its whole life).
private final class EventForwarder: AuthStateListener, @unchecked Sendable {
    weak var owner: ZitadelAuth?

    init(owner: ZitadelAuth) {
        self.owner = owner
    }

    func onEvent(event: AuthEvent) {
        owner?.handle(event)
    }
}

/// A device login in progress: the codes to show, and the wait for the user's approval.
public final class DeviceSignIn: @unchecked Sendable {
    private let device: DeviceLogin
    private let onSession: (SessionInfo) -> Void

    /// The code the user enters on `verificationURI`, e.g. `BCDF-GHJK`.
    public let userCode: String
    /// The page where the user enters the code.
    public let verificationURI: String
    /// The page with the code filled in (for a QR code), when offered.
    public let verificationURIComplete: String?
    /// How long the code is valid, in seconds.
    public let expiresIn: TimeInterval

    init(device: DeviceLogin, onSession: @escaping (SessionInfo) -> Void) {
        self.device = device
        self.onSession = onSession
        userCode = device.userCode()
        verificationURI = device.verificationUri()
        verificationURIComplete = device.verificationUriComplete()
        expiresIn = TimeInterval(device.expiresInSecs())
    }

    /// Waits until the user approved. Cancelling the task stops the polling.
    ///
    /// - Throws: `ZitadelError` `.expired` when the code expired, `.accessDenied`
    ///   when the user denied, `.cancelled` after `cancel()` or task cancellation.
    @discardableResult
    public func wait() async throws -> SessionInfo {
        let device = self.device
        let session = try await withTaskCancellationHandler {
            try await withZitadelErrors { try await device.wait() }
        } onCancel: {
            device.cancel()
        }
        onSession(session)
        return session
    }

    /// Cancels `wait()`, now and for any later call.
    public func cancel() {
        device.cancel()
    }
}

public extension SessionInfo {
    /// The claims of the ID token (`claimsJson` parsed). Personal data: do not log them.
    var claims: [String: Any] {
        guard let data = claimsJson.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return object
    }
}
