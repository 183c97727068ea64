//! The process-level benchmark of issue 2 §6: `zid` against a minimal
//! `openidconnect` client (`bench/baseline`), both as child processes, against
//! the same `oidc-provider` on loopback, logins approved in headless Chromium.
//!
//! Not a test: it is `#[ignore]`d and run by `bench/run.sh`, which builds both
//! binaries and passes them in:
//!
//! - `BENCH_ZID`, `BENCH_BASELINE`: the two release binaries (required);
//! - `BENCH_GNU_TIME`: GNU time, for peak RSS (`%M`); without it RSS is not measured;
//! - `BENCH_TOKEN_RUNS` (default 50), `BENCH_LOGINS` (default 5);
//! - `BENCH_TABLE`: where to write the Markdown table (it is printed too).
//!
//! Requests are counted from the provider's request log, keeping only the
//! client's own endpoints (the browser's page loads are left out).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use integration_tests::{Browser, CLIENT_ID, Provider};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

const SCOPE: &str = "openid profile email offline_access";
const USER: &str = "bench-user";

/// The endpoints a client calls; everything else in the log is the browser.
const CLIENT_PATHS: &[&str] = &[
    "/.well-known/openid-configuration",
    "/jwks",
    "/token",
    "/device/auth",
    "/me",
    "/token/revocation",
    "/token/introspection",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Zid,
    Baseline,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Zid => "zid",
            Kind::Baseline => "baseline",
        }
    }
}

struct Bench {
    zid: PathBuf,
    baseline: PathBuf,
    gnu_time: Option<PathBuf>,
    provider: Provider,
    work: tempfile::TempDir,
}

/// What one client process did.
struct Run {
    wall: Duration,
    /// Peak RSS in KiB (GNU time `%M`).
    rss_kib: Option<u64>,
    stdout: String,
    /// The client's requests, by path.
    requests: Vec<String>,
}

impl Bench {
    fn store_arg(&self, kind: Kind, store: &Path) -> Vec<String> {
        match kind {
            Kind::Zid => vec![
                "--store".into(),
                format!("file:{}", store.display()),
                "--scope".into(),
                SCOPE.into(),
            ],
            Kind::Baseline => vec![
                "--store".into(),
                store.join("tokens.json").display().to_string(),
            ],
        }
    }

    /// A command for `kind` with its global options and `args`, wrapped in GNU
    /// time when `rss` (its report goes to `rss_file`).
    fn command(&self, kind: Kind, store: &Path, args: &[&str], rss_file: Option<&Path>) -> Command {
        let bin = match kind {
            Kind::Zid => &self.zid,
            Kind::Baseline => &self.baseline,
        };
        let mut cmd = match (&self.gnu_time, rss_file) {
            (Some(time), Some(out)) => {
                let mut c = Command::new(time);
                c.arg("-f").arg("%M").arg("-o").arg(out).arg(bin);
                c
            }
            _ => Command::new(bin),
        };
        cmd.arg("--issuer")
            .arg(self.provider.issuer())
            .arg("--client-id")
            .arg(CLIENT_ID)
            .args(self.store_arg(kind, store))
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    fn client_requests(&self) -> Vec<String> {
        self.provider
            .requests()
            .into_iter()
            .filter(|r| CLIENT_PATHS.contains(&r.path.as_str()))
            .map(|r| r.path)
            .collect()
    }

    /// Runs a command that needs no browser.
    async fn run(&self, kind: Kind, store: &Path, args: &[&str], rss: bool) -> Run {
        let rss_file = self.work.path().join("rss.txt");
        let mut cmd = self.command(kind, store, args, rss.then_some(rss_file.as_path()));
        self.provider.clear_requests().unwrap();
        let start = Instant::now();
        let out = cmd.output().await.unwrap();
        let wall = start.elapsed();
        assert!(
            out.status.success(),
            "{} {args:?} failed: {}",
            kind.name(),
            String::from_utf8_lossy(&out.stderr)
        );
        Run {
            wall,
            rss_kib: rss.then(|| read_rss(&rss_file)).flatten(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            requests: self.client_requests(),
        }
    }

    /// A full browser login: the client is started with `BROWSER` set to a
    /// script that writes the URL to a file; Chromium (fresh profile, so
    /// through the login and consent pages) is driven to it.
    async fn browser_login(&self, kind: Kind, store: &Path) -> Run {
        let browser = Browser::start().await.unwrap();
        let url_file = self.work.path().join("browser-url.txt");
        let _ = std::fs::remove_file(&url_file);
        let script = self.work.path().join("browser.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" > '{0}.tmp' && mv '{0}.tmp' '{0}'\n",
                url_file.display()
            ),
        )
        .unwrap();
        make_executable(&script);
        let rss_file = self.work.path().join("rss.txt");
        let mut cmd = self.command(kind, store, &["login"], Some(&rss_file));
        cmd.env("BROWSER", &script)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.provider.clear_requests().unwrap();
        let start = Instant::now();
        let child = cmd.spawn().unwrap();
        let url = wait_for_file(&url_file, Duration::from_secs(20)).await;
        let landed = browser.login(url.trim(), USER, "pw").await.unwrap();
        assert!(landed.as_str().contains("code="), "landed on {landed}");
        let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
            .await
            .expect("the client exits after the redirect")
            .unwrap();
        let wall = start.elapsed();
        browser.close().await;
        assert!(
            out.status.success(),
            "{} login failed: {}",
            kind.name(),
            String::from_utf8_lossy(&out.stderr)
        );
        Run {
            wall,
            rss_kib: read_rss(&rss_file),
            stdout: String::new(),
            requests: self.client_requests(),
        }
    }

    /// `zid --json login --device`, approved in Chromium.
    async fn device_login(&self, store: &Path) -> Run {
        let browser = Browser::start().await.unwrap();
        let mut cmd = self.command(Kind::Zid, store, &["--json", "login", "--device"], None);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        self.provider.clear_requests().unwrap();
        let start = Instant::now();
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<String>();
        let drain = tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            let mut tx = Some(tx);
            let mut seen = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                    && let Some(uri) = v["verification_uri_complete"].as_str()
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(uri.to_owned());
                }
                seen.push_str(&line);
                seen.push('\n');
            }
            seen
        });
        let uri = tokio::time::timeout(Duration::from_secs(20), rx)
            .await
            .expect("zid prints the verification URI")
            .expect("zid prints the verification URI");
        browser.approve_device(&uri, USER, "pw").await.unwrap();
        let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
            .await
            .expect("zid exits after the approval")
            .unwrap();
        let wall = start.elapsed();
        let stderr = drain.await.unwrap_or_default();
        browser.close().await;
        assert!(status.success(), "zid login --device failed: {stderr}");
        Run {
            wall,
            rss_kib: None,
            stdout: String::new(),
            requests: self.client_requests(),
        }
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

async fn wait_for_file(path: &Path, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(s) = std::fs::read_to_string(path)
            && !s.trim().is_empty()
        {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "no URL was handed to $BROWSER within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The CPU time (user + system) of this process's reaped children so far, in
/// clock ticks (`cutime` + `cstime` of `/proc/self/stat`; 100 per second).
fn children_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // cutime and cstime are fields 16 and 17 of the whole line (1-based).
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    field(16).unwrap_or(0) + field(17).unwrap_or(0)
}

fn read_rss(path: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().rev().find_map(|l| l.trim().parse().ok())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn mib_kib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "not measured".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

fn summarize(requests: &[String]) -> String {
    let mut parts: Vec<(String, usize)> = Vec::new();
    for r in requests {
        let name = match r.as_str() {
            "/.well-known/openid-configuration" => "discovery",
            "/jwks" => "jwks",
            "/token" => "token",
            "/device/auth" => "device_authorization",
            other => other,
        };
        match parts.iter_mut().find(|(n, _)| n == name) {
            Some((_, c)) => *c += 1,
            None => parts.push((name.to_owned(), 1)),
        }
    }
    if parts.is_empty() {
        return "0".to_owned();
    }
    let detail: Vec<String> = parts
        .iter()
        .map(|(n, c)| {
            if *c == 1 {
                n.clone()
            } else {
                format!("{c}× {n}")
            }
        })
        .collect();
    format!("{} ({})", requests.len(), detail.join(" + "))
}

fn env_path(name: &str) -> PathBuf {
    let p = PathBuf::from(
        std::env::var_os(name).unwrap_or_else(|| panic!("{name} must name a binary")),
    );
    assert!(p.is_file(), "{name}={} is not a file", p.display());
    p
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by bench/run.sh"]
async fn process_level_benchmark() {
    let bench = Bench {
        zid: env_path("BENCH_ZID"),
        baseline: env_path("BENCH_BASELINE"),
        gnu_time: std::env::var_os("BENCH_GNU_TIME").map(PathBuf::from),
        provider: Provider::start_default().await.unwrap(),
        work: tempfile::Builder::new().prefix("bench-").tempdir().unwrap(),
    };
    let token_runs = env_usize("BENCH_TOKEN_RUNS", 50);
    let logins = env_usize("BENCH_LOGINS", 5).max(2);
    let kinds = [Kind::Zid, Kind::Baseline];

    // --- Browser logins: the first on an empty store, the others warm --------
    struct LoginFigures {
        store: tempfile::TempDir,
        cold: Vec<String>,
        warm: Vec<Vec<String>>,
        walls: Vec<Duration>,
        rss: Vec<u64>,
    }
    let mut figures = Vec::new();
    for kind in kinds {
        figures.push(LoginFigures {
            store: tempfile::tempdir_in(bench.work.path()).unwrap(),
            cold: Vec::new(),
            warm: Vec::new(),
            walls: Vec::new(),
            rss: Vec::new(),
        });
        let _ = kind;
    }
    for i in 0..logins {
        // Alternate the clients so drift on the machine hits both alike.
        for (kind, f) in kinds.iter().zip(figures.iter_mut()) {
            let run = bench.browser_login(*kind, f.store.path()).await;
            eprintln!(
                "bench: {} login #{}: {} requests {:?}, {}, peak RSS {}",
                kind.name(),
                i + 1,
                run.requests.len(),
                run.requests,
                ms(run.wall),
                mib_kib(run.rss_kib)
            );
            if i == 0 {
                f.cold = run.requests;
            } else {
                f.warm.push(run.requests);
            }
            f.walls.push(run.wall);
            f.rss.extend(run.rss_kib);
        }
    }

    // --- token with a valid stored token --------------------------------------
    let mut token_walls = [Vec::new(), Vec::new()];
    let mut token_requests = [0usize, 0usize];
    let mut token_rss = [None, None];
    for (k, (kind, f)) in kinds.iter().zip(&figures).enumerate() {
        // Warm-up (page cache), checked to print a token.
        let run = bench.run(*kind, f.store.path(), &["token"], true).await;
        assert!(
            run.stdout.trim().len() > 10,
            "{}: {:?}",
            kind.name(),
            run.stdout
        );
        token_rss[k] = run.rss_kib;
    }
    let mut token_cpu_ticks = [0u64, 0u64];
    for _ in 0..token_runs {
        for (k, (kind, f)) in kinds.iter().zip(&figures).enumerate() {
            let before = children_cpu_ticks();
            let run = bench.run(*kind, f.store.path(), &["token"], false).await;
            token_cpu_ticks[k] += children_cpu_ticks().saturating_sub(before);
            token_requests[k] += run.requests.len();
            token_walls[k].push(run.wall);
        }
    }
    // Clock ticks are 10 ms; summed over the runs, the mean is good to ~10 ms / runs.
    let token_cpu_ms = token_cpu_ticks.map(|t| t as f64 * 10.0 / token_runs.max(1) as f64);
    let token_median = [
        median(token_walls[0].clone()),
        median(token_walls[1].clone()),
    ];

    // --- refresh ------------------------------------------------------------------
    let mut refresh = Vec::new();
    for (kind, f) in kinds.iter().zip(&figures) {
        let run = bench.run(*kind, f.store.path(), &["refresh"], true).await;
        eprintln!(
            "bench: {} refresh: {:?}, {}, peak RSS {}",
            kind.name(),
            run.requests,
            ms(run.wall),
            mib_kib(run.rss_kib)
        );
        refresh.push(run);
    }

    // --- device flow (zid only), cold then warm -----------------------------------
    let device_store = tempfile::tempdir_in(bench.work.path()).unwrap();
    let device_cold = bench.device_login(device_store.path()).await;
    let device_warm = bench.device_login(device_store.path()).await;
    eprintln!(
        "bench: zid device flow: cold {:?} ({}), warm {:?} ({})",
        device_cold.requests,
        ms(device_cold.wall),
        device_warm.requests,
        ms(device_warm.wall)
    );

    // --- the table ------------------------------------------------------------------
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    let sizes = [size(&bench.zid), size(&bench.baseline)];
    let warm_summary = |f: &LoginFigures| {
        let mut all: Vec<String> = f.warm.iter().map(|r| summarize(r)).collect();
        all.dedup();
        all.join(" / ")
    };
    let max_rss = |f: &LoginFigures| f.rss.iter().copied().max();
    let mut t = String::new();
    let row = |t: &mut String, what: &str, zid: String, base: String, target: &str| {
        writeln!(t, "| {what} | {zid} | {base} | {target} |").unwrap();
    };
    writeln!(
        t,
        "| figure | zid | baseline (openidconnect) | target for zid |"
    )
    .unwrap();
    writeln!(t, "| --- | --- | --- | --- |").unwrap();
    row(
        &mut t,
        "requests, cold login (empty store)",
        summarize(&figures[0].cold),
        summarize(&figures[1].cold),
        "3",
    );
    row(
        &mut t,
        &format!("requests, login with a warm store ({} runs)", logins - 1),
        warm_summary(&figures[0]),
        warm_summary(&figures[1]),
        "1",
    );
    row(
        &mut t,
        "requests, refresh",
        summarize(&refresh[0].requests),
        summarize(&refresh[1].requests),
        "1",
    );
    row(
        &mut t,
        &format!("requests, `token` with a valid token ({token_runs} runs)"),
        token_requests[0].to_string(),
        token_requests[1].to_string(),
        "0",
    );
    let ratio = token_median[0].as_secs_f64() / token_median[1].as_secs_f64();
    row(
        &mut t,
        &format!("`token` wall time, median of {token_runs} (process spawn to exit)"),
        format!("{} ({ratio:.2}× baseline)", ms(token_median[0])),
        ms(token_median[1]),
        "≤ 1.5× baseline",
    );
    row(
        &mut t,
        &format!("`token` CPU time (user + sys), mean of {token_runs}"),
        format!(
            "{:.1} ms ({:.2}× baseline)",
            token_cpu_ms[0],
            token_cpu_ms[0] / token_cpu_ms[1].max(f64::MIN_POSITIVE)
        ),
        format!("{:.1} ms", token_cpu_ms[1]),
        "",
    );
    row(
        &mut t,
        &format!("peak RSS, `login` (max of {logins})"),
        mib_kib(max_rss(&figures[0])),
        mib_kib(max_rss(&figures[1])),
        "≤ 8 MB",
    );
    row(
        &mut t,
        "peak RSS, `token`",
        mib_kib(token_rss[0]),
        mib_kib(token_rss[1]),
        "",
    );
    row(
        &mut t,
        "peak RSS, `refresh`",
        mib_kib(refresh[0].rss_kib),
        mib_kib(refresh[1].rss_kib),
        "",
    );
    row(
        &mut t,
        "stripped release binary",
        format!(
            "{:.2} MiB ({} bytes)",
            sizes[0] as f64 / 1048576.0,
            sizes[0]
        ),
        format!(
            "{:.2} MiB ({} bytes)",
            sizes[1] as f64 / 1048576.0,
            sizes[1]
        ),
        "≤ 8 MB",
    );
    row(
        &mut t,
        &format!("full browser login wall time, median of {logins}"),
        ms(median(figures[0].walls.clone())),
        ms(median(figures[1].walls.clone())),
        "",
    );
    row(
        &mut t,
        "requests, device flow, cold store (protocol minimum 4: discovery + JWKS + device authorization + 1 token poll)",
        summarize(&device_cold.requests),
        "n/a (no device flow)".into(),
        "4",
    );
    row(
        &mut t,
        "requests, device flow, warm store (protocol minimum 2: device authorization + 1 token poll)",
        summarize(&device_warm.requests),
        "n/a".into(),
        "2",
    );
    row(
        &mut t,
        "device flow wall time, start to approved (cold / warm)",
        format!("{} / {}", ms(device_cold.wall), ms(device_warm.wall)),
        "n/a".into(),
        "",
    );
    println!("\n{t}");
    if let Some(path) = std::env::var_os("BENCH_TABLE") {
        std::fs::write(path, &t).unwrap();
    }
}
