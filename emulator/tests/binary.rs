//! The `zitadel-emulator` binary: start-up line, flags.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

#[test]
fn binary_prints_one_json_line_and_serves_discovery() {
    // Given the binary started on a free port
    let mut child = Command::new(env!("CARGO_BIN_EXE_zitadel-emulator"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // Then the first stdout line is the documented JSON object
    let v: Value = serde_json::from_str(&line).unwrap();
    let issuer = v["issuer"].as_str().unwrap().to_owned();
    assert!(issuer.starts_with("http://localhost:"));
    assert_eq!(v["client_id"], "native-app");
    assert!(v["login_client_token"].is_string());
    assert!(v["org_id"].is_string());
    assert_eq!(v["users"].as_array().unwrap().len(), 3);
    // And the server answers on that issuer
    let port: u16 = issuer.rsplit(':').next().unwrap().parse().unwrap();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    use std::io::{Read as _, Write as _};
    stream
        .write_all(b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("/oauth/v2/authorize"));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn binary_rejects_a_malformed_seed_file() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(&seed, b"{\"org\": 5}").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_zitadel-emulator"))
        .args(["--port", "0", "--seed"])
        .arg(&seed)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}
