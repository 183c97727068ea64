#if canImport(AuthenticationServices)
import AuthenticationServices
import Foundation
import ZitadelSdkFFI
#if canImport(UIKit)
import UIKit
#elseif canImport(AppKit)
import AppKit
#endif

/// Browser sign-in with `ASWebAuthenticationSession` and the configured
/// custom-scheme redirect URI (e.g. `com.example.app:/callback`):
/// `startLogin` → the session shows ZITADEL's login page → the redirect comes
/// back to the session → `completeLogin`. Cancelling the task closes the
/// sheet; a user who closes it gets `ZitadelError` `.cancelled`.
///
/// ```swift
/// let login = WebAuthenticationLogin()
/// let session = try await login.signIn(auth)                                  // sign in
/// try await login.signIn(auth, options: LoginOptions(prompt: "create"))       // register in the browser
/// ```
public final class WebAuthenticationLogin: NSObject, ASWebAuthenticationPresentationContextProviding {
    private let prefersEphemeralSession: Bool
    private var anchor: ASPresentationAnchor?

    /// - Parameters:
    ///   - anchor: the window to show the sheet over; the key window when `nil`.
    ///   - prefersEphemeralSession: `true` shares no cookies with Safari (no
    ///     single sign-on, no "wants to sign in" prompt).
    public init(anchor: ASPresentationAnchor? = nil, prefersEphemeralSession: Bool = false) {
        self.anchor = anchor
        self.prefersEphemeralSession = prefersEphemeralSession
    }

    /// Signs in (or registers, with `prompt: "create"`) in the browser.
    ///
    /// - Parameters:
    ///   - callbackURLScheme: the scheme the session waits for; by default the
    ///     scheme of the client's redirect URI.
    /// - Throws: `ZitadelError`: `.cancelled` when the user closed the sheet or
    ///   the task was cancelled; `.misconfigured` without a custom-scheme
    ///   redirect URI; the login's own errors.
    @MainActor
    @discardableResult
    public func signIn(
        _ auth: ZitadelAuth,
        options: LoginOptions = LoginOptions(),
        callbackURLScheme: String? = nil
    ) async throws -> SessionInfo {
        guard let scheme = callbackURLScheme ?? auth.redirectUri.flatMap({ URL(string: $0)?.scheme }),
              scheme != "http", scheme != "https"
        else {
            throw ZitadelError(.misconfigured, "ASWebAuthenticationSession needs a custom-scheme redirect URI")
        }
        let url = try await auth.startLogin(options: options)
        if anchor == nil {
            anchor = keyWindowAnchor()
        }
        let callback = try await present(url: url, scheme: scheme)
        return try await auth.completeLogin(callbackURL: callback)
    }

    @MainActor
    private func present(url: URL, scheme: String) async throws -> URL {
        let box = SessionBox()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<URL, Error>) in
                guard !Task.isCancelled else {
                    continuation.resume(throwing: ZitadelError(.cancelled, "the sign-in was cancelled"))
                    return
                }
                let webSession = ASWebAuthenticationSession(url: url, callbackURLScheme: scheme) { callback, error in
                    continuation.resume(with: Self.outcome(callback, error))
                }
                webSession.presentationContextProvider = self
                webSession.prefersEphemeralWebBrowserSession = prefersEphemeralSession
                box.session = webSession
                // A session that does not start never calls its completion handler.
                if !webSession.start() {
                    box.session = nil
                    continuation.resume(throwing: ZitadelError(.internal, "the sign-in sheet could not be shown"))
                }
            }
        } onCancel: {
            // Runs after the continuation body above (both on the main actor);
            // cancel() ends the session with .canceledLogin.
            Task { @MainActor in box.session?.cancel() }
        }
    }

    /// What the completion handler of the session means.
    private static func outcome(_ callback: URL?, _ error: Error?) -> Result<URL, Error> {
        if let callback {
            return .success(callback)
        }
        if let error = error as? ASWebAuthenticationSessionError, error.code == .canceledLogin {
            return .failure(ZitadelError(.cancelled, "the user closed the sign-in sheet"))
        }
        let code = (error as NSError?)?.code ?? 0
        return .failure(ZitadelError(.internal, "the sign-in sheet failed (ASWebAuthenticationSession error \(code))"))
    }

    public func presentationAnchor(for session: ASWebAuthenticationSession) -> ASPresentationAnchor {
        anchor ?? ASPresentationAnchor()
    }
}

/// The key window of the app, to show system sheets over.
@MainActor
func keyWindowAnchor() -> ASPresentationAnchor? {
    #if canImport(UIKit)
    return UIApplication.shared.connectedScenes
        .compactMap { $0 as? UIWindowScene }
        .flatMap(\.windows)
        .first(where: \.isKeyWindow)
    #elseif canImport(AppKit)
    return NSApplication.shared.keyWindow
    #else
    return nil
    #endif
}

/// The session in flight, for the cancellation handler.
private final class SessionBox: @unchecked Sendable {
    var session: ASWebAuthenticationSession?
}
#endif
