//! Human and JSON output.

use serde_json::json;
use std::io::{IsTerminal, Write};
use std::time::Duration;
use zitadel_sdk::{DeviceAuthorization, Error, Secret, SessionInfo};

/// Server-supplied text made safe for a terminal: control characters
/// (escape sequences that could move the cursor, rewrite the screen or set
/// the window title, and bidi overrides that reorder what is shown) are dropped.
/// JSON output needs no such step: the encoder escapes control characters.
pub fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

/// Where results go: plain text, or one JSON document on stdout.
pub struct Out {
    /// JSON mode.
    pub json: bool,
}

impl Out {
    pub fn new(json: bool) -> Self {
        Out { json }
    }

    pub fn fail(&self, e: &Error) {
        self.fail_msg(e.code().name(), e.code().as_u16(), &e.message());
    }

    pub fn fail_msg(&self, name: &str, code: u16, message: &str) {
        if self.json {
            println!(
                "{}",
                json!({"error": {"code": code, "name": name, "message": message}})
            );
        } else {
            eprintln!("zid: error: {} [{name}]", clean(message));
        }
    }

    pub fn warn(&self, msg: &str) {
        eprintln!("zid: warning: {}", clean(msg));
    }

    pub fn session(&self, s: &SessionInfo, verb: &str) {
        let claim = |n: &str| {
            s.claims
                .as_ref()
                .and_then(|c| c.get_str(n))
                .map(str::to_owned)
        };
        if self.json {
            println!(
                "{}",
                json!({
                    "account": s.account, "subject": s.subject,
                    "name": claim("name"), "email": claim("email"),
                    "preferred_username": claim("preferred_username"),
                    "expires_at": s.expires_at, "scopes": s.scopes,
                    "has_refresh_token": s.has_refresh_token,
                })
            );
        } else {
            let who = claim("preferred_username")
                .or_else(|| claim("email"))
                .unwrap_or_else(|| s.subject.clone());
            println!(
                "{verb} as {} (subject {}, account {})",
                clean(&who),
                clean(&s.subject),
                clean(&s.account)
            );
            if let Some(exp) = s.expires_at {
                println!("Access token expires at {exp} (unix time)");
            }
        }
    }

    /// A result: with --json the value as one JSON document, else `human`
    /// (server text in it is stripped of control characters).
    pub fn show<T: serde::Serialize>(&self, value: &T, human: &str) {
        if self.json {
            match serde_json::to_string(value) {
                Ok(s) => println!("{s}"),
                Err(_) => println!("{}", json!({"ok": true})),
            }
        } else {
            println!("{}", clean_multiline(human));
        }
    }

    /// A command that returns nothing but success.
    pub fn ok(&self, message: &str) {
        if self.json {
            println!("{}", json!({"ok": true, "message": message}));
        } else {
            println!("{}", clean(message));
        }
    }

    /// A QR code of `data` on stderr (human mode only).
    pub fn qr(&self, data: &str) {
        if !self.json
            && let Some(q) = qr(data)
        {
            eprintln!("{q}");
        }
    }

    /// A progress or information line on stderr (human mode only).
    pub fn info(&self, msg: &str) {
        if !self.json {
            eprintln!("{}", clean(msg));
        }
    }

    pub fn token(&self, t: &Secret) {
        if self.json {
            println!("{}", json!({"access_token": t.expose()}));
        } else {
            println!("{}", t.expose());
        }
    }

    pub fn value(&self, v: &serde_json::Value) {
        if self.json {
            println!("{v}");
        } else {
            println!(
                "{}",
                clean_multiline(&serde_json::to_string_pretty(v).unwrap_or_default())
            );
        }
    }

    pub fn logout(&self, revoked: bool, browser: bool, unreadable: bool) {
        if self.json {
            println!(
                "{}",
                json!({"signed_out": true, "revoked": revoked, "browser_session_ended": browser,
                       "unreadable_session_removed": unreadable})
            );
        } else {
            println!("Signed out.");
            if unreadable {
                eprintln!(
                    "zid: warning: the stored session could not be read (damaged, or written by a newer zid); it was removed without revoking its tokens"
                );
            } else if !revoked {
                eprintln!(
                    "zid: warning: the server did not confirm the revocation; the local session is wiped anyway"
                );
            }
        }
    }

    pub fn device_prompt(&self, d: &DeviceAuthorization) {
        let url = d
            .verification_uri_complete
            .clone()
            .unwrap_or_else(|| d.verification_uri.clone());
        if self.json {
            // The prompt goes to stderr so stdout stays one JSON document.
            eprintln!(
                "{}",
                json!({"verification_uri": d.verification_uri, "verification_uri_complete": d.verification_uri_complete,
                       "user_code": d.user_code, "expires_in": d.expires_in})
            );
            return;
        }
        // The SDK accepts only HTTPS (or loopback) verification pages; what is
        // shown is stripped of control characters all the same.
        let url = clean(&url);
        eprintln!("To sign in, open {url}");
        eprintln!("and confirm the code: {}", clean(&d.user_code));
        if let Some(qr) = qr(&url) {
            eprintln!("{qr}");
        }
    }
}

/// [`clean`] for multi-line text: keeps the line breaks.
fn clean_multiline(s: &str) -> String {
    s.lines().map(clean).collect::<Vec<_>>().join("\n")
}

fn qr(data: &str) -> Option<String> {
    let code = qrcode::QrCode::new(data.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

/// Counts down on stderr once a second; completes when the time is up.
pub async fn countdown(out: &Out, total: Duration) {
    let live = !out.json && std::io::stderr().is_terminal();
    let start = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let left = total.saturating_sub(start.elapsed());
        if live {
            let s = left.as_secs();
            eprint!("\rWaiting for approval… {:02}:{:02} left ", s / 60, s % 60);
            let _ = std::io::stderr().flush();
        }
        if left.is_zero() {
            if live {
                eprintln!();
            }
            return;
        }
    }
}

/// Ends the countdown line.
pub fn end_countdown(out: &Out) {
    if !out.json && std::io::stderr().is_terminal() {
        eprintln!();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_control_characters_in_server_text_are_stripped() {
        assert_eq!(
            clean("ABCD\u{1b}]0;pwned\u{7}-EFGH\u{1b}[2J\r\n"),
            "ABCD]0;pwned-EFGH[2J"
        );
        assert_eq!(clean("evil\u{202e}gpj.exe"), "evilgpj.exe");
        assert_eq!(clean("Zoë Müller"), "Zoë Müller");
        assert_eq!(
            clean_multiline("{\n  \"a\": \"x\u{1b}[31m\"\n}"),
            "{\n  \"a\": \"x[31m\"\n}"
        );
    }
}
