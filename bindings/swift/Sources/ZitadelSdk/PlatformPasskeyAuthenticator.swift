#if canImport(AuthenticationServices)
import AuthenticationServices
import Foundation
import ZitadelSdkFFI

/// A WebAuthn authenticator for the SDK's passkey and security-key flows
/// (`client.passkeys().register(…)`, `client.nativeLogin().passkey(…)`, the
/// U2F check of a native login): `ASAuthorization` with the platform
/// (iCloud Keychain) passkey provider and, unless disabled, the security-key
/// provider — `navigator.credentials.create` and `.get` for a native app.
///
/// Both calls take and return the WebAuthn JSON ZITADEL speaks
/// (`PublicKeyCredentialCreationOptionsJSON` → `RegistrationResponseJSON`,
/// `PublicKeyCredentialRequestOptionsJSON` → `AuthenticationResponseJSON`,
/// binary fields as unpadded base64url). The `origin` argument is ignored:
/// Apple derives the origin from the app's Associated Domains, so the app
/// needs the entitlement `webcredentials:<the issuer's host>` and the issuer
/// must serve an `apple-app-site-association` file naming the app.
///
/// Errors are thrown as `FfiError` so that the Rust core keeps their code:
/// `.cancelled` when the user dismissed the sheet, `.alreadyExists` when the
/// authenticator holds an excluded credential, `.invalidInput` for options it
/// cannot read, `.internal` otherwise (with the `ASAuthorizationError` code only).
///
/// The conformance to the generated `PasskeyAuthenticator` protocol is
/// compiled with `-D ZITADEL_PASSKEYS` (see Package.swift) until sdk-ffi
/// exports that foreign trait.
public final class PlatformPasskeyAuthenticator: @unchecked Sendable {
    private let anchor: ASPresentationAnchor?
    private let allowSecurityKeys: Bool

    /// - Parameters:
    ///   - anchor: the window to show the system sheet over; the key window when `nil`.
    ///   - allowSecurityKeys: also offer external security keys (USB, NFC, BLE).
    public init(anchor: ASPresentationAnchor? = nil, allowSecurityKeys: Bool = true) {
        self.anchor = anchor
        self.allowSecurityKeys = allowSecurityKeys
    }

    /// Creates a credential from a `PublicKeyCredentialCreationOptionsJSON`;
    /// returns the `RegistrationResponseJSON`.
    public func create(optionsJson: String, origin: String) async throws -> String {
        let options = try WebAuthnOptions(optionsJson)
        let rpId = try options.rpId(origin: origin, path: ["rp", "id"])
        let challenge = try options.data(["challenge"])
        let userId = try options.data(["user", "id"])
        let userName = try options.string(["user", "name"])
        let displayName = options.optionalString(["user", "displayName"]) ?? userName
        let attachment = options.optionalString(["authenticatorSelection", "authenticatorAttachment"])
        let verification = options.optionalString(["authenticatorSelection", "userVerification"])
        let residentKey = options.optionalString(["authenticatorSelection", "residentKey"])
        let attestation = options.optionalString(["attestation"])
        let excluded = options.credentialIds("excludeCredentials")
        let algorithms = options.algorithms()

        var requests: [ASAuthorizationRequest] = []
        if attachment != "cross-platform" {
            let request = ASAuthorizationPlatformPublicKeyCredentialProvider(relyingPartyIdentifier: rpId)
                .createCredentialRegistrationRequest(challenge: challenge, name: userName, userID: userId)
            if let verification {
                request.userVerificationPreference = .init(rawValue: verification)
            }
            if let attestation {
                request.attestationPreference = .init(rawValue: attestation)
            }
            if #available(iOS 17.4, macOS 14.4, *) {
                request.excludedCredentials = excluded.map {
                    ASAuthorizationPlatformPublicKeyCredentialDescriptor(credentialID: $0)
                }
            }
            requests.append(request)
        }
        if allowSecurityKeys, attachment != "platform" {
            let request = ASAuthorizationSecurityKeyPublicKeyCredentialProvider(relyingPartyIdentifier: rpId)
                .createCredentialRegistrationRequest(
                    challenge: challenge, displayName: displayName, name: userName, userID: userId)
            request.credentialParameters = algorithms.map {
                ASAuthorizationPublicKeyCredentialParameters(algorithm: ASCOSEAlgorithmIdentifier(rawValue: $0))
            }
            if let verification {
                request.userVerificationPreference = .init(rawValue: verification)
            }
            if let residentKey {
                request.residentKeyPreference = .init(rawValue: residentKey)
            }
            if let attestation {
                request.attestationPreference = .init(rawValue: attestation)
            }
            request.excludedCredentials = excluded.map {
                ASAuthorizationSecurityKeyPublicKeyCredentialDescriptor(
                    credentialID: $0, transports: ASAuthorizationSecurityKeyPublicKeyCredentialDescriptor.Transport.allSupported)
            }
            requests.append(request)
        }
        guard !requests.isEmpty else {
            throw ZitadelError(.invalidInput, "security keys are disabled and a cross-platform authenticator is required").ffiError
        }

        let authorization = try await AuthorizationRun(anchor: anchor).perform(requests)
        guard let credential = authorization.credential as? ASAuthorizationPublicKeyCredentialRegistration,
              let attestationObject = credential.rawAttestationObject
        else {
            throw ZitadelError(.internal, "the authenticator returned no attestation").ffiError
        }
        let id = credential.credentialID.base64URLEncoded
        let platform = credential is ASAuthorizationPlatformPublicKeyCredentialRegistration
        return try json([
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": platform ? "platform" : "cross-platform",
            "clientExtensionResults": [String: Any](),
            "response": [
                "clientDataJSON": credential.rawClientDataJSON.base64URLEncoded,
                "attestationObject": attestationObject.base64URLEncoded,
                "transports": platform ? ["internal", "hybrid"] : ["usb", "nfc"],
            ] as [String: Any],
        ])
    }

    /// Signs a login challenge from a `PublicKeyCredentialRequestOptionsJSON`;
    /// returns the `AuthenticationResponseJSON`.
    public func get(optionsJson: String, origin: String) async throws -> String {
        let options = try WebAuthnOptions(optionsJson)
        let rpId = try options.rpId(origin: origin, path: ["rpId"])
        let challenge = try options.data(["challenge"])
        let verification = options.optionalString(["userVerification"])
        let allowed = options.credentialIds("allowCredentials")

        let platform = ASAuthorizationPlatformPublicKeyCredentialProvider(relyingPartyIdentifier: rpId)
            .createCredentialAssertionRequest(challenge: challenge)
        platform.allowedCredentials = allowed.map { ASAuthorizationPlatformPublicKeyCredentialDescriptor(credentialID: $0) }
        if let verification {
            platform.userVerificationPreference = .init(rawValue: verification)
        }
        var requests: [ASAuthorizationRequest] = [platform]
        if allowSecurityKeys {
            let key = ASAuthorizationSecurityKeyPublicKeyCredentialProvider(relyingPartyIdentifier: rpId)
                .createCredentialAssertionRequest(challenge: challenge)
            key.allowedCredentials = allowed.map {
                ASAuthorizationSecurityKeyPublicKeyCredentialDescriptor(
                    credentialID: $0, transports: ASAuthorizationSecurityKeyPublicKeyCredentialDescriptor.Transport.allSupported)
            }
            if let verification {
                key.userVerificationPreference = .init(rawValue: verification)
            }
            requests.append(key)
        }

        let authorization = try await AuthorizationRun(anchor: anchor).perform(requests)
        guard let credential = authorization.credential as? ASAuthorizationPublicKeyCredentialAssertion else {
            throw ZitadelError(.internal, "the authenticator returned no assertion").ffiError
        }
        let id = credential.credentialID.base64URLEncoded
        var response: [String: Any] = [
            "clientDataJSON": credential.rawClientDataJSON.base64URLEncoded,
            "authenticatorData": credential.rawAuthenticatorData.base64URLEncoded,
            "signature": credential.signature.base64URLEncoded,
        ]
        // `userID` is optional in some SDK versions; this reads both.
        let userID: Data? = credential.userID
        if let userID, !userID.isEmpty {
            response["userHandle"] = userID.base64URLEncoded
        }
        let isPlatform = credential is ASAuthorizationPlatformPublicKeyCredentialAssertion
        return try json([
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": isPlatform ? "platform" : "cross-platform",
            "clientExtensionResults": [String: Any](),
            "response": response,
        ])
    }

    private func json(_ object: [String: Any]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        guard let text = String(data: data, encoding: .utf8) else {
            throw ZitadelError(.internal, "the WebAuthn response is not UTF-8").ffiError
        }
        return text
    }
}

#if ZITADEL_PASSKEYS
extension PlatformPasskeyAuthenticator: PasskeyAuthenticator {}
#endif

/// One `ASAuthorizationController` run as an async call.
private final class AuthorizationRun: NSObject, ASAuthorizationControllerDelegate,
    ASAuthorizationControllerPresentationContextProviding, @unchecked Sendable
{
    private var anchor: ASPresentationAnchor?
    private var controller: ASAuthorizationController?
    private var continuation: CheckedContinuation<ASAuthorization, Error>?

    init(anchor: ASPresentationAnchor?) {
        self.anchor = anchor
    }

    /// Shows the system sheet; returns what the user chose. Cancelling the task closes the sheet (iOS 16+, macOS 13+).
    @MainActor
    func perform(_ requests: [ASAuthorizationRequest]) async throws -> ASAuthorization {
        if anchor == nil {
            anchor = keyWindowAnchor()
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ASAuthorization, Error>) in
                guard !Task.isCancelled else {
                    continuation.resume(throwing: ZitadelError(.cancelled, "the passkey prompt was cancelled").ffiError)
                    return
                }
                self.continuation = continuation
                let controller = ASAuthorizationController(authorizationRequests: requests)
                controller.delegate = self
                controller.presentationContextProvider = self
                self.controller = controller
                controller.performRequests()
            }
        } onCancel: {
            Task { @MainActor in
                if #available(iOS 16.0, macOS 13.0, *) {
                    self.controller?.cancel()
                }
            }
        }
    }

    func authorizationController(
        controller: ASAuthorizationController, didCompleteWithAuthorization authorization: ASAuthorization
    ) {
        finish(.success(authorization))
    }

    func authorizationController(controller: ASAuthorizationController, didCompleteWithError error: Error) {
        let code = (error as NSError).domain == ASAuthorizationError.errorDomain ? (error as NSError).code : -1
        let mapped: ZitadelError
        switch code {
        case ASAuthorizationError.Code.canceled.rawValue:
            mapped = ZitadelError(.cancelled, "the user dismissed the passkey prompt")
        case 1006: // ASAuthorizationError.Code.matchedExcludedCredential (iOS 18, macOS 15)
            mapped = ZitadelError(.alreadyExists, "the authenticator is registered for this account already")
        default:
            mapped = ZitadelError(.internal, "the passkey prompt failed (ASAuthorizationError \(code))")
        }
        finish(.failure(mapped.ffiError))
    }

    func presentationAnchor(for controller: ASAuthorizationController) -> ASPresentationAnchor {
        anchor ?? ASPresentationAnchor()
    }

    private func finish(_ result: Result<ASAuthorization, Error>) {
        controller = nil
        continuation?.resume(with: result)
        continuation = nil
    }
}

/// Reads the WebAuthn options JSON ZITADEL sends.
private struct WebAuthnOptions {
    let root: [String: Any]

    init(_ json: String) throws {
        guard let data = json.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw ZitadelError(.invalidInput, "the WebAuthn options are not a JSON object").ffiError }
        // Some servers wrap the options in {"publicKey": {...}}.
        root = (object["publicKey"] as? [String: Any]) ?? object
    }

    func value(_ path: [String]) -> Any? {
        var node: Any? = root
        for key in path {
            node = (node as? [String: Any])?[key]
        }
        return node
    }

    func optionalString(_ path: [String]) -> String? {
        value(path) as? String
    }

    func string(_ path: [String]) throws -> String {
        guard let s = optionalString(path) else {
            throw ZitadelError(.invalidInput, "the WebAuthn options lack \(path.joined(separator: "."))").ffiError
        }
        return s
    }

    func data(_ path: [String]) throws -> Data {
        guard let d = Data(base64URLEncoded: try string(path)) else {
            throw ZitadelError(.invalidInput, "\(path.joined(separator: ".")) is not base64url").ffiError
        }
        return d
    }

    /// The relying party id: the options' own, else the host of `origin`.
    func rpId(origin: String, path: [String]) throws -> String {
        if let id = optionalString(path), !id.isEmpty {
            return id
        }
        guard let host = URL(string: origin)?.host, !host.isEmpty else {
            throw ZitadelError(.invalidInput, "no relying party id in the WebAuthn options or the origin").ffiError
        }
        return host
    }

    func credentialIds(_ key: String) -> [Data] {
        ((root[key] as? [[String: Any]]) ?? []).compactMap { ($0["id"] as? String).flatMap(Data.init(base64URLEncoded:)) }
    }

    /// The COSE algorithms asked for (ES256 when none is given).
    func algorithms() -> [Int] {
        let algs = ((root["pubKeyCredParams"] as? [[String: Any]]) ?? []).compactMap { $0["alg"] as? Int }
        return algs.isEmpty ? [-7] : algs
    }
}

extension Data {
    /// Decodes unpadded (or padded) base64url.
    init?(base64URLEncoded text: String) {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        s += String(repeating: "=", count: (4 - s.count % 4) % 4)
        self.init(base64Encoded: s)
    }

    /// Unpadded base64url.
    var base64URLEncoded: String {
        base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
#endif
