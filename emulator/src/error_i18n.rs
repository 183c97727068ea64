//! German texts for API error messages, chosen by `Accept-Language` (as
//! ZITADEL translates errors; errors raised before its translation step, such
//! as the auth interceptor's, stay English).

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

/// German text for an error id (and, for ZITADEL's shared unique-constraint
/// id, its English message).
fn german(id: &str, message: &str) -> Option<&'static str> {
    Some(match id {
        "V3-DKcYh" if message == "User already exists" => "Benutzer existiert bereits",
        "QUERY-Dfbg2" => "Benutzer konnte nicht gefunden werden",
        "COMMAND-3M0fs" => "Passwort ist ungültig",
        "COMMAND-jae5P" | "QUERY-Thee9" => "AuthRequest existiert nicht",
        "COMMAND-Sx208nt" | "COMMAND-Sx202nt" => "AuthRequest wurde bereits verarbeitet",
        "COMMAND-Aesh5" => "Passwort wurde nicht geändert",
        "COMMAND-QRkNTBwF8q" | "PHONE-5xrra88eq8" | "EMU-USER06" | "COMMAND-Fia4a"
        | "EMAIL-5w5ilin4yt" => "Code ist leer",
        "EMAIL-599BI" => "E-Mail ist ungültig",
        "EMU-USER02" => "Benutzer existiert bereits",
        "EMU-USER03" | "COMMA-HuJf6" | "COMMA-co3Xw" | "COMMA-VoaRj" | "COMMA-ZBv4H"
        | "COMMA-ZDLwA" => "Passwort erfüllt die Komplexitätsanforderungen nicht",
        "EMU-USER07" | "CODE-woT0xc" | "EVENT-8isk2" | "COMMAND-eis9R" => "Code ist ungültig",
        "EMU-SESS01" | "QUERY-SFeaa" => "Session existiert nicht",
        "COMMAND-JLK35" | "COMMAND-SF3fg" | "COMMAND-S6h4R" => "Benutzer ist gesperrt",
        _ => return None,
    })
}

/// Whether the request prefers German.
fn wants_german(req: &Request) -> bool {
    let Some(value) = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    value
        .split(',')
        .next()
        .map(|first| first.trim().to_ascii_lowercase())
        .is_some_and(|first| first == "de" || first.starts_with("de-") || first.starts_with("de;"))
}

/// Rewrites the message of ZITADEL error bodies for German requests.
pub(crate) async fn translate(request: Request, next: Next) -> Response {
    let german_wanted = wants_german(&request);
    let response = next.run(request).await;
    if !german_wanted || !response.status().is_client_error() {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let text = v["details"][0]["id"]
        .as_str()
        .and_then(|id| german(id, v["details"][0]["message"].as_str().unwrap_or_default()));
    let (Some(text), Some(id)) = (text, v["details"][0]["id"].as_str().map(str::to_owned)) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    v["message"] = Value::String(format!("{text} ({id})"));
    v["details"][0]["message"] = Value::String(text.to_owned());
    let out = v.to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
}
