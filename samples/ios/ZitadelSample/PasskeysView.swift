import SwiftUI
import ZitadelSdk

/// Passkeys: list, register with the platform authenticator (Face ID / Touch
/// ID, iCloud Keychain), remove (`client.passkeys()`).
struct PasskeysView: View {
    @EnvironmentObject private var model: AppModel
    @State private var passkeys: [Passkey] = []
    @State private var name = "iPhone"

    var body: some View {
        Form {
            Section("Your passkeys") {
                if passkeys.isEmpty {
                    Text("No passkey yet").foregroundStyle(.secondary)
                }
                ForEach(passkeys, id: \.id) { passkey in
                    HStack {
                        Text(passkey.name ?? "Passkey")
                        Spacer()
                        if !passkey.ready {
                            Text("not finished").foregroundStyle(.secondary)
                        }
                    }
                }
                .onDelete { offsets in
                    let ids = offsets.map { passkeys[$0].id }
                    Task {
                        await model.run {
                            for id in ids {
                                try await model.auth.call { try await $0.passkeys().remove(passkeyId: id) }
                            }
                            try await load()
                        }
                    }
                }
            }
            Section("Add a passkey") {
                TextField("Name", text: $name)
                Button("Create passkey") {
                    Task {
                        await model.run {
                            _ = try await model.auth.call {
                                try await $0.passkeys().register(
                                    authenticator: PlatformPasskeyAuthenticator(), name: name)
                            }
                            try await load()
                        }
                    }
                }
                .disabled(name.trimmingCharacters(in: .whitespaces).isEmpty)
            }
        }
        .navigationTitle("Passkeys")
        .task { await model.run { try await load() } }
    }

    private func load() async throws {
        passkeys = try await model.auth.call { try await $0.passkeys().list() }
    }
}
