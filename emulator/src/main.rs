//! The `zitadel-emulator` binary.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use zitadel_emulator::{Emulator, EmulatorConfig, Seed};

/// A local ZITADEL-compatible identity server for development, demos and tests.
#[derive(Debug, Parser)]
#[command(name = "zitadel-emulator", version)]
struct Args {
    /// TCP port on the loopback interface (0 picks a free port).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Persist state in SQLite in this directory (kept across restarts).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Seed file (JSON); defaults to the built-in seed.
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Append one JSON line per request to this file (secrets redacted).
    #[arg(long = "request-log")]
    request_log: Option<PathBuf>,
    /// Host name used in the issuer URL.
    #[arg(long, default_value = "localhost")]
    host: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let seed = match &args.seed {
        Some(path) => match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<Seed>(&b).map_err(|e| e.to_string()))
        {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("zitadel-emulator: cannot read seed {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let config = EmulatorConfig {
        port: args.port,
        host: args.host,
        data_dir: args.data,
        seed,
        request_log: args.request_log,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("zitadel-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let running = match Emulator::start(config).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("zitadel-emulator: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("{}", running.startup_json());
        tracing::info!(issuer = running.issuer(), "zitadel-emulator listening");
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
        running.shutdown().await;
        ExitCode::SUCCESS
    })
}
