//! Opening the system browser: `$BROWSER` first (the command gets the URL as
//! its argument), then the platform's opener; the URL is always printed so
//! the user can open it by hand.

use std::process::{Command, Stdio};
use zitadel_sdk::{BrowserLauncher, Url};

/// Opens URLs in the system browser.
pub struct SystemBrowser {
    /// Print nothing to stdout (JSON mode); the URL still goes to stderr.
    pub quiet: bool,
}

impl SystemBrowser {
    /// Opens `url`, printing it first; failures to open are not errors (the
    /// user can open the printed URL).
    pub fn open_url(&self, url: &Url) {
        eprintln!("Open this URL in your browser if it does not open by itself:\n  {url}");
        if !launch(url.as_str()) {
            eprintln!("(no browser could be started)");
        }
        let _ = self.quiet;
    }
}

impl BrowserLauncher for SystemBrowser {
    fn open(&self, url: &Url) -> zitadel_sdk::Result<()> {
        self.open_url(url);
        Ok(())
    }
}

fn spawn(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .is_ok()
}

fn launch(url: &str) -> bool {
    if let Ok(b) = std::env::var("BROWSER") {
        // Like xdg-open: a colon-separated list of commands; each may carry arguments.
        for cmd in b.split(':').filter(|c| !c.trim().is_empty()) {
            let mut parts = cmd.split_whitespace();
            if let Some(prog) = parts.next() {
                let mut args: Vec<&str> = parts.collect();
                args.push(url);
                if spawn(prog, &args) {
                    return true;
                }
            }
        }
        return false;
    }
    if cfg!(target_os = "macos") {
        spawn("open", &[url])
    } else if cfg!(target_os = "windows") {
        spawn("rundll32", &["url.dll,FileProtocolHandler", url])
    } else {
        spawn("xdg-open", &[url])
    }
}
