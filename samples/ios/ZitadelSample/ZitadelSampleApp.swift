import SwiftUI
import ZitadelSdk

@main
struct ZitadelSampleApp: App {
    @StateObject private var model = AppModel()

    var body: some Scene {
        WindowGroup {
            RootView()
                .environmentObject(model)
        }
    }
}

/// The SDK client of the app and its auth state, for the views.
@MainActor
final class AppModel: ObservableObject {
    let auth: ZitadelAuth
    @Published private(set) var state: AuthState = .unknown
    /// The message of the last failed action (safe to show: SDK messages hold no secrets).
    @Published var error: String?
    @Published private(set) var busy = false

    init() {
        do {
            // The session lives in the Keychain: it survives app restarts.
            auth = try ZitadelAuth(config: Config.clientConfig, store: KeychainTokenStore())
        } catch {
            fatalError("Config.swift holds an invalid configuration: \(ZitadelError(error))")
        }
        let states = auth.states
        Task { [weak self] in
            for await state in states {
                self?.state = state
            }
        }
        Task { await run { try await self.auth.restore() } }
    }

    /// Runs an SDK action, showing its error; a dismissed browser or passkey sheet is no error.
    func run(_ action: () async throws -> Void) async {
        busy = true
        defer { busy = false }
        do {
            try await action()
        } catch ZitadelError.cancelled {
            // the user closed the sheet
        } catch {
            self.error = ZitadelError(error).message
        }
    }
}

struct RootView: View {
    @EnvironmentObject private var model: AppModel

    var body: some View {
        Group {
            switch model.state {
            case .unknown:
                ProgressView()
            case .signedIn:
                HomeView()
            case .signedOut, .sessionExpired:
                SignInView()
            }
        }
        .alert("Something went wrong", isPresented: Binding(
            get: { model.error != nil },
            set: { if !$0 { model.error = nil } }
        )) {
            Button("OK", role: .cancel) {}
        } message: {
            Text(model.error ?? "")
        }
    }
}

struct HomeView: View {
    @EnvironmentObject private var model: AppModel

    var body: some View {
        TabView {
            NavigationStack { ProfileView().toolbar { signOut } }
                .tabItem { Label("Profile", systemImage: "person.crop.circle") }
            NavigationStack { MfaView().toolbar { signOut } }
                .tabItem { Label("Security", systemImage: "lock.shield") }
            NavigationStack { PasskeysView().toolbar { signOut } }
                .tabItem { Label("Passkeys", systemImage: "person.badge.key") }
        }
    }

    private var signOut: some ToolbarContent {
        ToolbarItem(placement: .navigationBarTrailing) {
            Button("Sign out") {
                Task { await model.run { try await model.auth.logout() } }
            }
        }
    }
}
