import SwiftUI
import ZitadelSdk

/// Sign-in: in the browser (ASWebAuthenticationSession) always; natively with
/// password (+ TOTP) or a passkey when a login-client token is configured.
struct SignInView: View {
    @EnvironmentObject private var model: AppModel
    @State private var loginName = ""
    @State private var password = ""
    @State private var secondFactorCode = ""
    /// A native login waiting for its second factor.
    @State private var pending: NativeLogin?
    private let browser = WebAuthenticationLogin()

    var body: some View {
        NavigationStack {
            Form {
                Section {
                    Button("Sign in with ZITADEL") {
                        Task { await model.run { try await browser.signIn(model.auth) } }
                    }
                    Button("Create an account") {
                        Task {
                            await model.run {
                                try await browser.signIn(model.auth, options: LoginOptions(prompt: "create"))
                            }
                        }
                    }
                } header: {
                    Text("In the browser")
                } footer: {
                    if case .sessionExpired = model.state {
                        Text("Your session ended. Please sign in again.")
                    }
                }

                if Config.loginClientToken != nil {
                    nativeSection
                    Section {
                        NavigationLink("Register in the app") { RegisterView() }
                    }
                }
            }
            .navigationTitle("ZITADEL Sample")
            .disabled(model.busy)
        }
    }

    @ViewBuilder
    private var nativeSection: some View {
        Section("In the app (login client)") {
            TextField("Login name", text: $loginName)
                .textContentType(.username)
                .textInputAutocapitalization(.never)
                .autocorrectionDisabled()
            if let pending {
                Text("Second factor: \(pending.secondFactors().map { "\($0)" }.joined(separator: ", "))")
                TextField("Code from your authenticator app", text: $secondFactorCode)
                    .textContentType(.oneTimeCode)
                    .keyboardType(.numberPad)
                Button("Check code") {
                    Task {
                        await model.run {
                            try await model.auth.call { _ in try await pending.checkTotp(code: secondFactorCode) }
                            try await finish(pending)
                        }
                    }
                }
            } else {
                SecureField("Password", text: $password)
                    .textContentType(.password)
                Button("Sign in with password") {
                    Task {
                        await model.run {
                            let login = try await model.auth.call {
                                try await $0.nativeLogin().password(loginName: loginName, password: password)
                            }
                            password = ""
                            if login.needsSecondFactor() {
                                pending = login
                            } else {
                                try await finish(login)
                            }
                        }
                    }
                }
                Button("Sign in with a passkey") {
                    Task {
                        await model.run {
                            _ = try await model.auth.call {
                                try await $0.nativeLogin().passkey(
                                    loginName: loginName, authenticator: PlatformPasskeyAuthenticator())
                            }
                            try await model.auth.restore()
                        }
                    }
                }
            }
        }
    }

    /// Ends a native login: the session is stored and the state becomes signed-in.
    private func finish(_ login: NativeLogin) async throws {
        _ = try await model.auth.call { _ in try await login.finish() }
        pending = nil
        secondFactorCode = ""
        try await model.auth.restore()
    }
}
