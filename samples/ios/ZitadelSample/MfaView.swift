import SwiftUI
import ZitadelSdk

/// Second factors: the methods the user has, TOTP set-up and removal
/// (`client.mfa()`).
struct MfaView: View {
    @EnvironmentObject private var model: AppModel
    @State private var methods: [AuthMethod] = []
    @State private var enrollment: TotpEnrollment?
    @State private var code = ""

    var body: some View {
        Form {
            Section("Your sign-in methods") {
                ForEach(methods, id: \.self) { method in
                    Text(String(describing: method))
                }
            }
            Section("Authenticator app (TOTP)") {
                if let enrollment {
                    // Show the otpauth:// URI as a QR code in a real app; the secret is for typing.
                    Text("Add this key to your authenticator app:")
                    Text(enrollment.secret).font(.system(.body, design: .monospaced)).textSelection(.enabled)
                    if let url = URL(string: enrollment.uri) {
                        Link("Open in authenticator app", destination: url)
                    }
                    TextField("Code from the app", text: $code)
                        .textContentType(.oneTimeCode)
                        .keyboardType(.numberPad)
                    Button("Verify") {
                        Task {
                            await model.run {
                                try await model.auth.call { try await $0.mfa().verifyTotp(code: code) }
                                self.enrollment = nil
                                code = ""
                                try await load()
                            }
                        }
                    }
                } else if methods.contains(.totp) {
                    Button("Remove authenticator app", role: .destructive) {
                        Task {
                            await model.run {
                                try await model.auth.call { try await $0.mfa().removeTotp() }
                                try await load()
                            }
                        }
                    }
                } else {
                    Button("Set up authenticator app") {
                        Task {
                            await model.run {
                                enrollment = try await model.auth.call { try await $0.mfa().addTotp() }
                            }
                        }
                    }
                }
            }
        }
        .navigationTitle("Security")
        .task { await model.run { try await load() } }
    }

    private func load() async throws {
        methods = try await model.auth.call { try await $0.mfa().methods() }
    }
}
