//! The uniffi binding generator of this workspace, used in library mode:
//! `cargo run -p zitadel-sdk-ffi --features bindgen --bin uniffi-bindgen -- generate --library <cdylib> --language kotlin --out-dir <dir>`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
