//! `baseline`: a minimal OpenID Connect login client on the `openidconnect`
//! crate, the yardstick `zid` is measured against (see `bench/README.md`).
//!
//! - `login`: discovery + JWKS, authorization code with PKCE on a loopback
//!   redirect (ephemeral port), code exchange, ID token validation, tokens
//!   saved to the `--store` JSON file.
//! - `token`: prints the stored access token while it is valid (no network).
//! - `refresh`: discovery + JWKS + refresh token grant, tokens saved.

use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, TokenResponse, reqwest, url::Url,
};
use serde::{Deserialize, Serialize};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

#[derive(Parser)]
#[command(name = "baseline", about = "Minimal openidconnect login client")]
struct Cli {
    #[arg(long)]
    issuer: String,
    #[arg(long = "client-id", default_value = "native-app")]
    client_id: String,
    /// The JSON file tokens are stored in.
    #[arg(long)]
    store: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in in the browser (loopback redirect).
    Login,
    /// Print the stored access token if it is still valid.
    Token,
    /// Refresh the tokens.
    Refresh,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    access_token: String,
    refresh_token: Option<String>,
    id_token: Option<String>,
    expires_at: Option<u64>,
    subject: String,
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Login => login(&cli),
        Command::Token => token(&cli),
        Command::Refresh => refresh(&cli),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn http_client() -> Result<reqwest::blocking::Client> {
    // No redirects on OAuth endpoints (SSRF), as the openidconnect docs advise.
    Ok(reqwest::blocking::ClientBuilder::new()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

fn discover(cli: &Cli, http: &reqwest::blocking::Client) -> Result<CoreProviderMetadata> {
    // Fetches the discovery document and then the JWKS.
    Ok(CoreProviderMetadata::discover(
        &IssuerUrl::new(cli.issuer.clone())?,
        http,
    )?)
}

fn login(cli: &Cli) -> Result<()> {
    let http = http_client()?;
    let metadata = discover(cli, &http)?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new(cli.client_id.clone()), None)
            .set_redirect_uri(RedirectUrl::new(format!(
                "http://127.0.0.1:{port}/callback"
            ))?);

    let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf_state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(pkce_challenge)
        .url();
    open_browser(&auth_url);

    let code = wait_for_code(&listener, &csrf_state)?;
    let response = client
        .exchange_code(code)?
        .set_pkce_verifier(pkce_verifier)
        .request(&http)?;

    let id_token = response
        .id_token()
        .ok_or("the server returned no ID token")?;
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce)?;
    if let Some(expected) = claims.access_token_hash() {
        let actual = AccessTokenHash::from_token(
            response.access_token(),
            id_token.signing_alg()?,
            id_token.signing_key(&verifier)?,
        )?;
        if actual != *expected {
            return Err("invalid access token hash".into());
        }
    }

    save(
        &cli.store,
        &Stored {
            access_token: response.access_token().secret().clone(),
            refresh_token: response.refresh_token().map(|t| t.secret().clone()),
            id_token: Some(id_token.to_string()),
            expires_at: response.expires_in().map(|d| now() + d.as_secs()),
            subject: claims.subject().to_string(),
        },
    )?;
    eprintln!("Signed in as {}", claims.subject().as_str());
    Ok(())
}

/// Hands the URL to `$BROWSER` (or prints it only).
fn open_browser(url: &Url) {
    eprintln!("Open this URL in your browser:\n  {url}");
    if let Ok(browser) = std::env::var("BROWSER") {
        let _ = std::process::Command::new(browser)
            .arg(url.as_str())
            .spawn();
    }
}

/// Accepts connections on the loopback listener until the redirect with the
/// authorization code arrives.
fn wait_for_code(listener: &TcpListener, state: &CsrfToken) -> Result<AuthorizationCode> {
    for stream in listener.incoming() {
        let mut stream = stream?;
        let mut request_line = String::new();
        BufReader::new(&stream).read_line(&mut request_line)?;
        let Some(target) = request_line.split_whitespace().nth(1) else {
            continue;
        };
        let url = Url::parse(&format!("http://127.0.0.1{target}"))?;
        if url.path() != "/callback" {
            stream.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")?;
            continue;
        }
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let body = "Signed in. You can close this window.";
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )?;
        if let Some(error) = param("error") {
            return Err(format!("authorization failed: {error}").into());
        }
        if param("state").as_deref() != Some(state.secret().as_str()) {
            return Err("state mismatch".into());
        }
        let code = param("code").ok_or("no code in the redirect")?;
        return Ok(AuthorizationCode::new(code));
    }
    Err("the loopback listener closed".into())
}

fn token(cli: &Cli) -> Result<()> {
    let stored = load(&cli.store)?;
    match stored.expires_at {
        Some(exp) if exp <= now() + 30 => Err("the access token has expired".into()),
        _ => {
            println!("{}", stored.access_token);
            Ok(())
        }
    }
}

fn refresh(cli: &Cli) -> Result<()> {
    let mut stored = load(&cli.store)?;
    let refresh_token = stored
        .refresh_token
        .clone()
        .ok_or("no refresh token stored")?;
    let http = http_client()?;
    let metadata = discover(cli, &http)?;
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new(cli.client_id.clone()), None);
    let response = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token))?
        .request(&http)?;
    if let Some(id_token) = response.id_token() {
        // A refreshed ID token carries no new nonce.
        let claims: &CoreIdTokenClaims =
            id_token.claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))?;
        if claims.subject().as_str() != stored.subject {
            return Err("the refreshed ID token names another subject".into());
        }
        stored.id_token = Some(id_token.to_string());
    }
    stored.access_token = response.access_token().secret().clone();
    if let Some(rt) = response.refresh_token() {
        stored.refresh_token = Some(rt.secret().clone());
    }
    stored.expires_at = response.expires_in().map(|d| now() + d.as_secs());
    save(&cli.store, &stored)?;
    eprintln!("Refreshed");
    Ok(())
}

fn load(path: &Path) -> Result<Stored> {
    let bytes = std::fs::read(path).map_err(|e| format!("not signed in ({e})"))?;
    Ok(serde_json::from_slice(&bytes)?)
}

fn save(path: &Path, stored: &Stored) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(stored)?)?;
    std::fs::rename(tmp, path)?;
    Ok(())
}
