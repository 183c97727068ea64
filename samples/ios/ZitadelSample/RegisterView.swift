import SwiftUI
import ZitadelSdk

/// Native registration (needs the login-client token): the form, then the
/// email code, then signed in.
struct RegisterView: View {
    @EnvironmentObject private var model: AppModel
    @State private var givenName = ""
    @State private var familyName = ""
    @State private var email = ""
    @State private var password = ""
    @State private var acceptedTerms = false
    @State private var emailCode = ""
    @State private var unmetRules: [String] = []
    /// A registration waiting for its email code.
    @State private var pending: PendingRegistration?

    var body: some View {
        Form {
            if let pending {
                Section("We sent you an email with a code") {
                    TextField("Code", text: $emailCode)
                        .textContentType(.oneTimeCode)
                    Button("Verify and sign in") {
                        Task {
                            await model.run {
                                try await model.auth.call { _ in try await pending.verifyEmail(code: emailCode) }
                                _ = try await model.auth.call { _ in try await pending.finish() }
                                try await model.auth.restore()
                            }
                        }
                    }
                }
            } else {
                Section("Your account") {
                    TextField("Given name", text: $givenName).textContentType(.givenName)
                    TextField("Family name", text: $familyName).textContentType(.familyName)
                    TextField("Email", text: $email)
                        .textContentType(.emailAddress)
                        .keyboardType(.emailAddress)
                        .textInputAutocapitalization(.never)
                    SecureField("Password", text: $password).textContentType(.newPassword)
                    ForEach(unmetRules, id: \.self) { rule in
                        Text("Password rule not met: \(rule)").foregroundStyle(.red)
                    }
                    Toggle("I accept the terms of service and the privacy policy", isOn: $acceptedTerms)
                }
                Button("Register") {
                    Task { await register() }
                }
                .disabled(!acceptedTerms)
            }
        }
        .navigationTitle("Register")
        .disabled(model.busy)
    }

    private func register() async {
        unmetRules = []
        await model.run {
            do {
                let user = NewUser(
                    givenName: givenName, familyName: familyName, email: email,
                    username: nil, preferredLanguage: nil, password: password, acceptedTerms: acceptedTerms)
                pending = try await model.auth.call {
                    try await $0.registration().register(user: user, delivery: .send)
                }
                password = ""
            } catch let error as ZitadelError where error.kind == .passwordPolicy {
                unmetRules = error.unmetPasswordRules
            }
        }
    }
}
