// swift-tools-version: 5.9
// The ZITADEL self-service SDK for Swift (iOS 15+, macOS 12+).
//
// Three targets:
// - ZitadelSdkFFIC: the Rust library (libzitadel_sdk_ffi.a) with its C header
//   and module map, as an XCFramework that build-xcframework.sh builds on a Mac
//   (not committed: run the script first);
// - ZitadelSdkFFI: the Swift code uniffi-bindgen generates (committed, checked
//   for drift by scripts/test-bindings.sh);
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
        // The binary target, the XCFramework and the clang module all carry the
        // same name: SwiftPM and Xcode then agree on every tools version.
        .binaryTarget(
            name: "ZitadelSdkFFIC",
            path: "ZitadelSdkFFIC.xcframework"
        ),
        .target(
            name: "ZitadelSdkFFI",
            dependencies: ["ZitadelSdkFFIC"],
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
            path: "Sources/ZitadelSdk"
            // When sdk-ffi exports the PasskeyAuthenticator foreign trait
            // (regenerate with scripts/test-bindings.sh --write-swift), add
            //   swiftSettings: [.define("ZITADEL_PASSKEYS")]
            // to make PlatformPasskeyAuthenticator conform to it.
        ),
        .testTarget(
            name: "ZitadelSdkTests",
            dependencies: ["ZitadelSdk"],
            path: "Tests/ZitadelSdkTests"
        ),
    ]
)
