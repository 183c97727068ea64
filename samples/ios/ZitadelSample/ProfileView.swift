import SwiftUI
import ZitadelSdk

/// The signed-in user's profile: `client.profile().get()` and `.update(…)`.
struct ProfileView: View {
    @EnvironmentObject private var model: AppModel
    @State private var user: User?
    @State private var givenName = ""
    @State private var familyName = ""

    var body: some View {
        Form {
            if let user {
                Section("Account") {
                    LabeledContent("Login name", value: user.preferredLoginName)
                    LabeledContent("Email", value: user.email ?? "—")
                    LabeledContent("Email verified", value: user.emailVerified ? "yes" : "no")
                    LabeledContent("User id", value: user.userId)
                }
                Section("Name") {
                    TextField("Given name", text: $givenName)
                    TextField("Family name", text: $familyName)
                    Button("Save") {
                        Task {
                            await model.run {
                                try await model.auth.call {
                                    try await $0.profile().update(
                                        update: ProfileUpdate(givenName: givenName, familyName: familyName))
                                }
                                try await load()
                            }
                        }
                    }
                    .disabled(givenName == user.givenName && familyName == user.familyName)
                }
            } else {
                ProgressView()
            }
        }
        .navigationTitle("Profile")
        .task { await model.run { try await load() } }
        .refreshable { await model.run { try await load() } }
    }

    private func load() async throws {
        let user = try await model.auth.call { try await $0.profile().get() }
        self.user = user
        givenName = user.givenName
        familyName = user.familyName
    }
}
