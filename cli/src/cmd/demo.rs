//! `zid demo`: a walkthrough of the self-service flows, non-interactive,
//! against an emulator embedded in-process — or, with `--issuer` and
//! `--login-client-token`, against any ZITADEL (an emulator started
//! separately, or a real instance). Each step prints its time and HTTP
//! request count; a summary table ends it; the exit status is 0 only when
//! every step worked.

use crate::Cli;
use crate::output::Out;
use clap::Args;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zitadel_sdk::{Client, Error, ErrorCode};

/// `zid demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// The email of the user the demo registers (default: a fresh one).
    #[arg(long = "demo-email")]
    email: Option<String>,
}

/// One line of the summary.
#[derive(serde::Serialize)]
struct Row {
    step: String,
    ok: bool,
    millis: f64,
    requests: u64,
    note: String,
}

/// Runs the steps and keeps the summary.
struct Walk<'a> {
    out: &'a Out,
    rows: Vec<Row>,
    clients: Vec<Client>,
    total: usize,
}

impl Walk<'_> {
    fn requests(&self) -> u64 {
        self.clients.iter().map(Client::request_count).sum()
    }

    /// Records a step's result; returns its value or the error.
    fn record<T>(
        &mut self,
        name: &str,
        start: (Instant, u64),
        r: Result<(T, String), Error>,
    ) -> Result<T, Error> {
        let millis = start.0.elapsed().as_secs_f64() * 1000.0;
        let requests = self.requests().saturating_sub(start.1);
        let n = self.rows.len() + 1;
        let (ok, note, value) = match r {
            Ok((v, note)) => (true, note, Ok(v)),
            Err(e) => (
                false,
                format!("{} [{}]", e.message(), e.code().name()),
                Err(e),
            ),
        };
        self.out.info(&format!(
            "[{n:>2}/{}] {:<38} {} {:>7.1} ms {:>3} requests  {}",
            self.total,
            name,
            if ok { "ok  " } else { "FAIL" },
            millis,
            requests,
            note
        ));
        self.rows.push(Row {
            step: name.to_owned(),
            ok,
            millis,
            requests,
            note,
        });
        value
    }

    fn start(&self) -> (Instant, u64) {
        (Instant::now(), self.requests())
    }
}

/// Where the demo runs.
struct Target {
    issuer: String,
    client_id: String,
    login_client_token: String,
    org_id: Option<String>,
    #[cfg(feature = "demo")]
    embedded: Option<zitadel_emulator::RunningEmulator>,
}

impl Target {
    /// The newest code the embedded emulator's outbox holds for `to`.
    fn outbox_code(&self, to: &str) -> Option<String> {
        #[cfg(feature = "demo")]
        if let Some(emu) = &self.embedded {
            return emu
                .outbox()
                .into_iter()
                .rev()
                .find(|m| m.to == to)
                .and_then(|m| m.code);
        }
        let _ = to;
        None
    }
}

async fn target(cli: &Cli) -> Result<Target, Error> {
    if let Some(issuer) = &cli.issuer {
        let token = cli
            .login_client_token
            .clone()
            .ok_or_else(|| crate::missing("--login-client-token (with --issuer)"))?;
        return Ok(Target {
            issuer: issuer.clone(),
            client_id: cli
                .client_id
                .clone()
                .ok_or_else(|| crate::missing("--client-id (with --issuer)"))?,
            login_client_token: token,
            org_id: None,
            #[cfg(feature = "demo")]
            embedded: None,
        });
    }
    #[cfg(feature = "demo")]
    {
        let emu = zitadel_emulator::Emulator::start(zitadel_emulator::EmulatorConfig::ephemeral())
            .await
            .map_err(|e| {
                Error::host(
                    ErrorCode::Internal,
                    format!("the embedded emulator did not start: {e}"),
                )
            })?;
        let info = emu.seed_info().clone();
        Ok(Target {
            issuer: emu.issuer().to_owned(),
            client_id: info.client_id,
            login_client_token: info.login_client_token,
            org_id: Some(info.org_id),
            embedded: Some(emu),
        })
    }
    #[cfg(not(feature = "demo"))]
    Err(Error::host(
        ErrorCode::Misconfigured,
        "this zid was built without the embedded emulator: pass --issuer, --client-id and --login-client-token",
    ))
}

fn new_client(t: &Target, cli: &Cli) -> Result<Client, Error> {
    let mut b = Client::builder(&t.issuer, &t.client_id)
        .redirect_uri("http://127.0.0.1/callback")
        .login_client_token(&t.login_client_token)
        .ui_locales(cli.locales.iter().filter(|l| !l.is_empty()).cloned())
        .store(Arc::new(zitadel_sdk::store::MemoryStore::new()));
    if let Some(org) = &t.org_id {
        b = b.organization_id(org);
    }
    b.build()
}

pub async fn run(cli: &Cli, a: &DemoArgs, out: &Out) -> Result<(), Error> {
    let wall = Instant::now();
    let t = target(cli).await?;
    let embedded = t.org_id.is_some();
    out.info(&format!(
        "zid demo against {} ({})",
        t.issuer,
        if embedded {
            "embedded emulator"
        } else {
            "external server"
        }
    ));
    let c = new_client(&t, cli)?;
    let mut w = Walk {
        out,
        rows: Vec::new(),
        clients: vec![c.clone()],
        total: 17,
    };
    let result = steps(&t, cli, &c, a, &mut w).await;
    let ok = result.is_ok() && w.rows.iter().all(|r| r.ok);
    let total_ms = wall.elapsed().as_millis();
    let total_requests: u64 = w.rows.iter().map(|r| r.requests).sum();
    if out.json {
        out.show(
            &serde_json::json!({"ok": ok, "steps": w.rows, "wall_ms": total_ms, "requests": total_requests}),
            "",
        );
    } else {
        println!(
            "\n{:<40} {:>6} {:>9} {:>9}",
            "step", "result", "time ms", "requests"
        );
        for r in &w.rows {
            println!(
                "{:<40} {:>6} {:>9.1} {:>9}",
                r.step,
                if r.ok { "ok" } else { "FAIL" },
                r.millis,
                r.requests
            );
        }
        println!(
            "{:<40} {:>6} {:>9} {:>9}",
            "total (wall time)",
            if ok { "ok" } else { "FAIL" },
            total_ms,
            total_requests
        );
    }
    #[cfg(feature = "demo")]
    if let Some(emu) = t.embedded {
        emu.shutdown().await;
    }
    result
}

/// The walkthrough. Stops at the first failing step (later ones depend on it).
async fn steps(
    t: &Target,
    cli: &Cli,
    c: &Client,
    a: &DemoArgs,
    w: &mut Walk<'_>,
) -> Result<(), Error> {
    use zitadel_sdk::flows::profile::ProfileUpdate;
    use zitadel_sdk::flows::registration::NewUser;
    use zitadel_sdk::flows::verification::CodeDelivery;

    let suffix: u32 = rand::random::<u32>() % 1_000_000;
    let email = a
        .email
        .clone()
        .unwrap_or_else(|| format!("demo.user{suffix}@example.com"));
    let password = format!("Demo-{suffix}-pass!");
    let delivery = if t.embedded_outbox() {
        CodeDelivery::Send
    } else {
        CodeDelivery::Return
    };

    // 1. The rules an app shows before registration.
    let s = w.start();
    let rules = c.registration().rules().await;
    let rules = w.record(
        "registration rules (cached settings)",
        s,
        rules.map(|r| {
            let note = format!(
                "register allowed: {}, min length {}, terms: {}",
                r.login.allow_register,
                r.password.min_length,
                r.legal.tos_link.as_deref().unwrap_or("-")
            );
            (r, note)
        }),
    )?;

    // 2. Native registration with the terms accepted, the password chosen
    // to meet the policy of step 1.
    rules.password.check(&password)?;
    let s = w.start();
    let user = NewUser {
        given_name: "Demo".into(),
        family_name: "User".into(),
        email: email.clone(),
        username: None,
        preferred_language: Some("en".into()),
        password: password.clone(),
        // The scripted user read the links of step 1 and accepts them.
        accepted_terms: true,
    };
    let r = c.registration().register(&user, &delivery).await;
    let mut pending = w.record(
        "register (terms accepted)",
        s,
        r.map(|p| {
            let note = format!("user {}", p.user_id());
            (p, note)
        }),
    )?;

    // 3. The email code: from the outbox (embedded) or returned by the server.
    let s = w.start();
    let code = pending
        .returned_email_code()
        .map(|c| c.expose().to_owned())
        .or_else(|| t.outbox_code(&email))
        .ok_or_else(|| Error::host(ErrorCode::Internal, "no email code to read"));
    let r = match code {
        Ok(code) => pending
            .verify_email(&code)
            .await
            .map(|()| ((), "email verified".to_owned())),
        Err(e) => Err(e),
    };
    w.record("verify the email code", s, r)?;

    // 4. Sign in: Session API session → CreateCallback → code exchange.
    let s = w.start();
    let r = pending.finish().await;
    w.record(
        "sign in (CreateCallback + token)",
        s,
        r.map(|si| {
            let note = format!("subject {}", si.session.subject);
            (si, note)
        }),
    )?;

    // 5. TOTP set-up, the code computed as an authenticator app would.
    let s = w.start();
    let r = async {
        let e = c.mfa().add_totp().await?;
        let code = totp(e.secret.expose())?;
        c.mfa().verify_totp(&code).await?;
        Ok((e, "TOTP registered and verified".to_owned()))
    }
    .await;
    let enrollment = w.record("TOTP set-up", s, r)?;

    // 6. Sign out, then sign in natively with password + TOTP.
    c.logout().await?;
    let s = w.start();
    let r = async {
        let mut login = c.native_login().password(&email, &password).await?;
        login.check_totp(&totp(enrollment.secret.expose())?).await?;
        let si = login.finish().await?;
        Ok((si, "password + TOTP".to_owned()))
    }
    .await;
    w.record("native login (password + TOTP)", s, r)?;

    // A passkey with the software authenticator, then a passwordless sign-in.
    let authenticator = zitadel_sdk::software_authenticator::SoftwareAuthenticator::for_client(c);
    let s = w.start();
    let r = c.passkeys().register(&authenticator, "zid demo").await;
    w.record(
        "passkey registration",
        s,
        r.map(|p| ((), format!("passkey {}", p.id))),
    )?;
    c.logout().await?;
    let s = w.start();
    let r = c.native_login().passkey(&email, &authenticator).await;
    w.record(
        "passwordless sign-in (passkey)",
        s,
        r.map(|si| ((), format!("subject {}", si.session.subject))),
    )?;

    // 7. Profile update.
    let s = w.start();
    let r = async {
        c.profile()
            .update(&ProfileUpdate {
                nick_name: Some("demo".into()),
                display_name: Some("Demo the User".into()),
                preferred_language: Some("de".into()),
                ..Default::default()
            })
            .await?;
        let me = c.profile().get().await?;
        Ok(((), format!("display name now {:?}", me.display_name)))
    }
    .await;
    w.record("profile update", s, r)?;

    // 8. Email change with a code.
    let s = w.start();
    let new_email = format!("demo.changed{suffix}@example.com");
    let r = async {
        let returned = c.email().set(&new_email, &delivery).await?;
        let code = returned
            .map(|c| c.expose().to_owned())
            .or_else(|| t.outbox_code(&new_email))
            .ok_or_else(|| Error::host(ErrorCode::Internal, "no email code to read"))?;
        c.email().verify(&code).await?;
        Ok(((), format!("now {new_email}, verified")))
    }
    .await;
    w.record("email change + verification", s, r)?;

    // 9. Phone verification.
    let s = w.start();
    let phone = format!("+4179{:07}", suffix);
    let r = async {
        let returned = c.phone().set(&phone, &delivery).await?;
        let code = returned
            .map(|c| c.expose().to_owned())
            .or_else(|| t.outbox_code(&phone))
            .ok_or_else(|| Error::host(ErrorCode::Internal, "no SMS code to read"))?;
        c.phone().verify(&code).await?;
        Ok(((), format!("{phone} verified")))
    }
    .await;
    w.record("phone + verification", s, r)?;

    // 10. Recovery codes.
    let s = w.start();
    let r = c.mfa().generate_recovery_codes(5).await;
    w.record(
        "recovery codes",
        s,
        r.map(|codes| ((), format!("{} codes generated", codes.len()))),
    )?;

    // 11. IdP link through the emulator's test IdP.
    let s = w.start();
    let r = link_test_idp(t, c).await;
    w.record("IdP link (test IdP)", s, r)?;

    // 12. Metadata.
    let s = w.start();
    let r = async {
        c.profile().set_metadata("demo", "yes").await?;
        let md = c.profile().metadata().await?;
        Ok(((), format!("{} entries", md.items.len())))
    }
    .await;
    w.record("metadata", s, r)?;

    // A manager (ORG_OWNER) grants the new user a project role.
    let s = w.start();
    let r = grant_role(t, cli, c, w).await;
    w.record("manager grants a role", s, r)?;

    // 13. Sessions listed.
    let s = w.start();
    let r = c.sessions().list().await;
    w.record(
        "sessions listed",
        s,
        r.map(|p| ((), format!("{} sessions", p.items.len()))),
    )?;

    // 14. Logout everywhere.
    let s = w.start();
    let r = c.sessions().end_all().await;
    w.record(
        "logout everywhere",
        s,
        r.map(|e| ((), format!("{} sessions ended", e.ended))),
    )?;
    let _ = cli;
    Ok(())
}

impl Target {
    fn embedded_outbox(&self) -> bool {
        #[cfg(feature = "demo")]
        return self.embedded.is_some();
        #[cfg(not(feature = "demo"))]
        false
    }
}

fn totp(secret: &str) -> Result<String, Error> {
    #[cfg(feature = "demo")]
    return zitadel_emulator::scripted::totp_code(secret).ok_or_else(|| {
        Error::host(
            ErrorCode::InvalidServerResponse,
            "the TOTP secret is not base32",
        )
    });
    #[cfg(not(feature = "demo"))]
    {
        let _ = secret;
        Err(Error::host(
            ErrorCode::Misconfigured,
            "built without the demo feature",
        ))
    }
}

/// Signs the seeded org owner in (a second client) and assigns the demo
/// user the project role `user`.
async fn grant_role(
    t: &Target,
    cli: &Cli,
    c: &Client,
    w: &mut Walk<'_>,
) -> Result<((), String), Error> {
    #[cfg(feature = "demo")]
    {
        let Some(emu) = &t.embedded else {
            return Ok((
                (),
                "skipped: no manager account known on an external server".to_owned(),
            ));
        };
        let info = emu.seed_info();
        let owner = info
            .users
            .iter()
            .find(|u| u.roles.iter().any(|r| r == "ORG_OWNER"))
            .ok_or_else(|| Error::host(ErrorCode::Internal, "the seed has no org owner"))?;
        let m = new_client(t, cli)?;
        w.clients.push(m.clone());
        m.native_login()
            .password(&owner.login_name, &owner.password)
            .await?
            .finish()
            .await?;
        let me = c.profile().get().await?;
        let grant = m
            .manager()
            .add_grant(&me.user_id, &info.project_id, &["user"])
            .await?;
        Ok((
            (),
            format!("{} granted role user (grant {grant})", owner.login_name),
        ))
    }
    #[cfg(not(feature = "demo"))]
    {
        let _ = (t, cli, c, w);
        Ok(((), "skipped".to_owned()))
    }
}

/// Links an account at the emulator's test IdP (filled in over HTTP).
async fn link_test_idp(t: &Target, c: &Client) -> Result<((), String), Error> {
    #[cfg(feature = "demo")]
    {
        use zitadel_emulator::scripted::{TestIdpUser, test_idp_sign_in};
        let Some(emu) = &t.embedded else {
            return Ok(((), "skipped: no test IdP on an external server".to_owned()));
        };
        let _ = emu;
        let idp = c
            .settings()
            .identity_providers(t.org_id.as_deref())
            .await?
            .into_iter()
            .find(|i| i.name == "Test IdP")
            .map(|i| i.id)
            .ok_or_else(|| Error::host(ErrorCode::NotFound, "the emulator lists no test IdP"))?;
        struct Scripted;
        #[zitadel_sdk::async_trait]
        impl zitadel_sdk::BrowserLauncher for Scripted {
            async fn open(
                &self,
                url: &zitadel_sdk::Url,
                _redirect_uri: &zitadel_sdk::Url,
            ) -> zitadel_sdk::Result<Option<zitadel_sdk::Url>> {
                let url = url.to_string();
                let user = TestIdpUser {
                    subject: "demo-external-1".into(),
                    username: "demo.external".into(),
                    email: "demo.external@idp.example".into(),
                    given_name: "Demo".into(),
                    family_name: "External".into(),
                };
                tokio::spawn(async move {
                    let _ = test_idp_sign_in(&url, &user).await;
                });
                Ok(None)
            }
        }
        let link = c
            .links()
            .add(
                &idp,
                &Scripted,
                Duration::from_secs(30),
                &zitadel_sdk::CancellationToken::new(),
            )
            .await?;
        Ok(((), format!("linked {}", link.linked_user_name)))
    }
    #[cfg(not(feature = "demo"))]
    {
        let _ = (t, c);
        Ok(((), "skipped".to_owned()))
    }
}
