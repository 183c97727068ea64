// swift-tools-version: 5.9
// The ZITADEL self-service SDK for Swift (iOS 15+, macOS 12+).
//
// The targets:
// - ZitadelSdkFFILib: the Rust library (libzitadel_sdk_ffi.a) for iOS, the iOS
//   simulator and macOS, as an XCFramework that build-xcframework.sh builds
//   on a Mac (not committed: run the script first). It carries no headers.
// - ZitadelSdkFFIC: the C module of the generated code, its header and module
//   map in ffi/ (committed). A system-library target, so SwiftPM hands the
//   module map to the compiler itself (-fmodule-map-file): Xcode 26's explicit
//   module builds find it, and no module.modulemap of an XCFramework can clash
//   with another package's in Xcode's shared include directory.
// - ZitadelSdkFFI: the Swift code uniffi-bindgen generates (committed).
//   The generated code and ffi/ are checked for drift by scripts/test-bindings.sh.
// - ZitadelSdk: the idiomatic layer apps import (async/await, AsyncStream of
//   the auth state, ZitadelError, Keychain store, ASWebAuthenticationSession
//   login, ASAuthorization passkeys).
import PackageDescription

let package = Package(
    name: "ZitadelSdk",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "ZitadelSdk", targets: ["ZitadelSdk"]),
    ],
    targets: [
        // The binary target and its XCFramework carry the same name, as SwiftPM
        // wants on every tools version.
        .binaryTarget(
            name: "ZitadelSdkFFILib",
            path: "ZitadelSdkFFILib.xcframework"
        ),
        .systemLibrary(
            name: "ZitadelSdkFFIC",
            path: "ffi"
        ),
        .target(
            name: "ZitadelSdkFFI",
            dependencies: ["ZitadelSdkFFIC", "ZitadelSdkFFILib"],
            path: "Sources/ZitadelSdkFFI",
            linkerSettings: [
                // rustls-platform-verifier checks certificates with the system trust store.
                .linkedFramework("Security"),
                .linkedFramework("CoreFoundation"),
            ]
        ),
        .target(
            name: "ZitadelSdk",
            dependencies: ["ZitadelSdkFFI"],
            path: "Sources/ZitadelSdk",
            // sdk-ffi exports the PasskeyAuthenticator foreign trait:
            // PlatformPasskeyAuthenticator conforms to it.
            swiftSettings: [.define("ZITADEL_PASSKEYS")]
        ),
        .testTarget(
            name: "ZitadelSdkTests",
            dependencies: ["ZitadelSdk"],
            path: "Tests/ZitadelSdkTests"
        ),
    ]
)
