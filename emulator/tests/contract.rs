//! Contract: every REST route the emulator serves exists, with the same
//! method, among the `google.api.http` rules of ZITADEL's official protos
//! (`shared/zitadel-api/proto`, beside the repository), and the emulator
//! really routes it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::*;
use reqwest::{Client, Method};
use serde_json::Value;

fn proto_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/zitadel-api/proto");
    assert!(
        dir.is_dir(),
        "official protos expected at {}",
        dir.display()
    );
    dir
}

/// `/v1` services are mounted under a prefix by the gateway.
fn prefix_for(file: &Path) -> &'static str {
    match file.file_name().and_then(|n| n.to_str()) {
        Some("auth.proto") if file.parent().is_some_and(|p| p.ends_with("zitadel")) => "/auth/v1",
        Some("management.proto") => "/management/v1",
        Some("admin.proto") => "/admin/v1",
        Some("system.proto") => "/system/v1",
        _ => "",
    }
}

/// Replaces every `{param}` with `{}`.
fn normalize(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push_str("{}");
                }
                depth += 1;
            }
            '}' => depth -= 1,
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    out
}

/// `(METHOD, normalized path)` of every HTTP rule in the protos.
fn proto_rules() -> BTreeSet<(String, String)> {
    let mut rules = BTreeSet::new();
    let mut stack = vec![proto_dir()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("proto") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let prefix = prefix_for(&path);
            for line in text.lines() {
                let line = line.trim();
                for method in ["get", "post", "put", "patch", "delete"] {
                    let Some(rest) = line.strip_prefix(method) else {
                        continue;
                    };
                    let Some(rest) = rest.trim_start().strip_prefix(':') else {
                        continue;
                    };
                    let rest = rest.trim_start();
                    let Some(quoted) = rest.strip_prefix('"') else {
                        continue;
                    };
                    let Some(end) = quoted.find('"') else {
                        continue;
                    };
                    let route = &quoted[..end];
                    if route.starts_with('/') {
                        rules.insert((
                            method.to_uppercase(),
                            normalize(&format!("{prefix}{route}")),
                        ));
                    }
                }
            }
        }
    }
    rules
}

#[test]
fn proto_parser_finds_known_rules() {
    let rules = proto_rules();
    assert!(rules.len() > 300, "only {} rules found", rules.len());
    assert!(rules.contains(&("POST".into(), "/v2/sessions".into())));
    assert!(rules.contains(&("GET".into(), "/auth/v1/users/me".into())));
    assert!(rules.contains(&("POST".into(), "/management/v1/users/{}/grants".into())));
}

#[test]
fn every_served_route_is_a_proto_http_rule() {
    let rules = proto_rules();
    let missing: Vec<_> = zitadel_emulator::API_ROUTES
        .iter()
        .filter(|(m, p)| !rules.contains(&((*m).to_owned(), normalize(p))))
        .collect();
    assert!(missing.is_empty(), "routes not in the protos: {missing:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_listed_route_is_routed_by_the_emulator() {
    let emu = start().await;
    for (method, path) in zitadel_emulator::API_ROUTES {
        let concrete = normalize(path).replace("{}", "x");
        let resp = Client::new()
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{concrete}", emu.issuer()),
            )
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let fallback = status == 404 && body["details"] == serde_json::json!([]);
        assert!(
            !fallback && status != 405,
            "{method} {path} is not routed ({status} {body})"
        );
        assert_eq!(status, 401, "{method} {path} must require a token");
    }
    emu.shutdown().await;
}
