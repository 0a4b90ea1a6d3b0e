//! What each subcommand does. Business rules live in the domain and app crates; this file
//! wires arguments, progress output and exit codes.

use crate::cli::{
    CatalogCommand, Cli, Command, DepartmentsCommand, ExportFormat, RegionsCommand, UserCommand,
};
use crate::cmd_audit::cli_actor;
use crate::config::{Config, DEFAULT_TOML};
use crate::env::{lang, now_ms};
use anyhow::{Context, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::time::Instant;
use yiwang_app::{CatalogFormat, ImportError};
use yiwang_domain::enums::CodeSet;
use yiwang_domain::policy::{CatalogScope, Grant, Role};
use yiwang_domain::{CreditCode, RegionCode};
use yiwang_i18n::issue_message;
use yiwang_store::{NewUser, Store};

fn everything() -> CatalogScope {
    CatalogScope {
        all: true,
        grants: Vec::new(),
    }
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} ({elapsed})") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_string());
    pb
}

async fn open(cli: &Cli, cfg: &Config) -> anyhow::Result<Store> {
    let url = cfg.database_url(cli.database_url.as_deref())?;
    let store = Store::connect_with(&url, cfg.connect_options())
        .await
        .with_context(|| "cannot open the database")?;
    if store.backend() == yiwang_store::Backend::Sqlite && !cfg.connect_options().durable {
        tracing::warn!(
            "sqlite_synchronous = \"normal\": commits are not fsynced before the answer; a power \
             loss may drop the last acknowledged cases"
        );
        eprintln!(
            "warning: sqlite_synchronous = \"normal\": a power loss may drop the last acknowledged commits"
        );
    }
    store.migrate().await.context("migrations failed")?;
    Ok(store)
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let cfg = Config::load(cli.config.as_deref())?;
    match &cli.command {
        Command::DefaultConfig => {
            print!("{DEFAULT_TOML}");
            Ok(())
        }
        Command::Migrate => {
            let store = open(&cli, &cfg).await?;
            println!("migrations applied ({})", store.backend().name());
            Ok(())
        }
        Command::Serve(args) => {
            let store = open(&cli, &cfg).await?;
            let store = crate::cmd_keys::attach(store, &cfg, args.demo)?;
            if args.demo {
                load_demo(&store).await?;
                crate::cmd_keys::seed_demo_pii(&store).await?;
            }
            let listen = args.listen.clone().unwrap_or_else(|| cfg.listen.clone());
            serve(store, &cfg, &listen, args.demo).await
        }
        Command::Demo => {
            let store = open(&cli, &cfg).await?;
            let store = crate::cmd_keys::attach(store, &cfg, true)?;
            load_demo(&store).await?;
            crate::cmd_keys::seed_demo_pii(&store).await
        }
        Command::Keys { command } => {
            let url = cfg.database_url(cli.database_url.as_deref())?;
            crate::cmd_keys::run(command, &cfg, &url).await
        }
        Command::Import(args) => {
            let store = open(&cli, &cfg).await?;
            import(&store, &args.files, args.publish).await
        }
        Command::Export(args) => {
            let store = open(&cli, &cfg).await?;
            export(&store, args.format, &args.out).await
        }
        Command::Regions {
            command: RegionsCommand::Import { dir },
        } => {
            let store = open(&cli, &cfg).await?;
            regions_import(&store, dir).await
        }
        Command::Departments {
            command: DepartmentsCommand::Import { file },
        } => {
            let store = open(&cli, &cfg).await?;
            let text =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let depts = yiwang_app::demo::parse_departments(&text)?;
            let actor = cli_actor();
            for d in &depts {
                store
                    .upsert_department(d, &actor, now_ms())
                    .await
                    .map_err(|e| {
                        anyhow!(
                            "{}: {}",
                            d.credit_code,
                            yiwang_i18n::error_message(lang(), e.code())
                        )
                    })?;
            }
            println!("{} departments loaded", depts.len());
            Ok(())
        }
        Command::Search { command } => {
            let store = open(&cli, &cfg).await?;
            crate::cmd_search::run(&store, &cfg, command).await
        }
        Command::Calendar { command } => {
            let store = open(&cli, &cfg).await?;
            crate::cmd_calendar::run(&store, command).await
        }
        Command::Registers { command } => {
            let store = open(&cli, &cfg).await?;
            let store = crate::cmd_keys::attach(store, &cfg, false)?;
            crate::cmd_registers::run(&store, command).await
        }
        Command::Audit { command } => {
            let store = open(&cli, &cfg).await?;
            crate::cmd_audit::run(&store, command).await
        }
        Command::Exchange { command } => {
            let store = open(&cli, &cfg).await?;
            crate::cmd_exchange::run(&store, command).await
        }
        Command::User { command } => {
            let store = open(&cli, &cfg).await?;
            if let Some(done) = crate::cmd_user::run(&store, command).await {
                return done;
            }
            let store = crate::cmd_keys::attach(store, &cfg, false)?;
            user_create(&store, command).await
        }
        Command::Catalog {
            command: CatalogCommand::Drift { json },
        } => {
            let store = open(&cli, &cfg).await?;
            drift(&store, *json).await
        }
        Command::Catalog {
            command: CatalogCommand::Publish,
        } => {
            let store = open(&cli, &cfg).await?;
            let res = store
                .publish_drafts(&everything(), None, &cli_actor(), now_ms())
                .await
                .map_err(|e| anyhow!(yiwang_i18n::error_message(lang(), e.code())))?;
            println!("published {} implementation(s)", res.published);
            Ok(())
        }
    }
}

/// Demo accounts (password printed at start; a demo is not a production install).
pub const DEMO_PASSWORD: &str = "Yiwang-Demo-2026";
/// The demo applicant's resident ID number (a made-up one with a valid check digit).
pub const DEMO_APPLICANT_ID: &str = "12011219800101002X";

async fn load_demo(store: &Store) -> anyhow::Result<()> {
    let started = Instant::now();
    if store.published_all().await?.is_empty() {
        yiwang_app::demo::load_demo(store, now_ms()).await?;
    }
    if store.user_count().await? == 0 {
        let jinnan = RegionCode::parse("120112")?;
        let bureau = CreditCode::parse("11120112MB1W167324")?;
        let market = CreditCode::parse(yiwang_app::demo::DEMO_MARKET)?;
        let health = CreditCode::parse(yiwang_app::demo::DEMO_HEALTH)?;
        let township = RegionCode::parse("120112100000")?;
        let j = || Some(jinnan.clone());
        let users = [
            (
                "admin",
                "平台管理员（演示）",
                Role::PlatformAdmin,
                None,
                None,
            ),
            (
                "jinnan",
                "津南区区域管理员（演示）",
                Role::RegionAdmin,
                j(),
                None,
            ),
            (
                "chuangkou",
                "审批局窗口（演示）",
                Role::Clerk,
                j(),
                Some(bureau.clone()),
            ),
            (
                "shichang",
                "市场监管局审查（演示）",
                Role::Reviewer,
                j(),
                Some(market),
            ),
            (
                "weijian",
                "卫健委审查（演示）",
                Role::Reviewer,
                j(),
                Some(health),
            ),
            (
                "shenpi",
                "审批局审批（演示）",
                Role::Approver,
                j(),
                Some(bureau),
            ),
            (
                "daiban",
                "咸水沽镇代办员（演示）",
                Role::Agent,
                Some(township),
                None,
            ),
        ];
        for (username, name, role, region, department) in users {
            store
                .create_user(
                    &NewUser {
                        username: username.into(),
                        display_name: name.into(),
                        password: DEMO_PASSWORD.into(),
                        grants: vec![Grant {
                            role,
                            region,
                            department,
                        }],
                    },
                    &cli_actor(),
                    now_ms(),
                )
                .await?;
        }
    }
    // A demo applicant (needs the data keys, which `serve --demo` generates).
    let demo_id = yiwang_domain::case::ApplicantId::parse(DEMO_APPLICANT_ID)?;
    // The name the demo population register holds for this number, so the strict match finds her.
    let demo_name = "赵明";
    let demo_phone = yiwang_domain::codes::Phone::parse("13900000000")?;
    if store.keys().is_some() && store.applicant_by_id_number(&demo_id).await?.is_none() {
        store
            .register_applicant(
                &yiwang_store::applicants::NewApplicant {
                    id: demo_id.clone(),
                    display_name: demo_name.into(),
                    legal_rep: None,
                    phone: demo_phone.clone(),
                    password: DEMO_PASSWORD.into(),
                },
                "cli",
                now_ms(),
            )
            .await?;
    }
    // The demo applicant's identity is verified (实名核验), as if checked at the demo counter,
    // so the demo flow can submit.
    if store.keys().is_some()
        && let Some(a) = store.applicant_by_id_number(&demo_id).await?
        && !store.identity_verified(a.id).await?
    {
        use yiwang_store::identity::{IdentityClaim, VerificationRecord, VerificationSource};
        store
            .verify_identity(
                &IdentityClaim {
                    id: demo_id,
                    name: demo_name.into(),
                    legal_rep: None,
                    phone: demo_phone,
                },
                &VerificationRecord {
                    source: VerificationSource::InPerson,
                    verifier: "demo".into(),
                    staff_id: None,
                    place: "演示数据".into(),
                    document: "resident_id_card".into(),
                },
                &cli_actor(),
                now_ms(),
            )
            .await?;
    }
    // The demo registers (基础库) of 津南区, encrypted with the same keys.
    yiwang_app::registers::load_demo_registers(store, now_ms()).await?;
    eprintln!("demo applicant sign-in at /login: {DEMO_APPLICANT_ID}, password {DEMO_PASSWORD}");
    eprintln!(
        "demo data ready in {:.1}s: 天津市津南区 catalog; staff sign-in admin / jinnan / chuangkou (window) / shichang, weijian (review) / shenpi (approval) / daiban (service point), password {DEMO_PASSWORD}",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn serve(store: Store, cfg: &Config, listen: &str, demo: bool) -> anyhow::Result<()> {
    // Bound first: the notices' QR codes follow the address really listened on (`--listen`,
    // port 0 included) unless a public address is configured.
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let public_url = yiwang_web::serve_support::public_url(cfg.public_url.as_deref(), addr);
    if !demo && yiwang_web::serve_support::is_loopback_url(&public_url) {
        tracing::warn!(
            "public address {public_url} is a loopback address: the QR codes on notices cannot \
             be opened from another device; set public_url in the configuration"
        );
    }
    let state = yiwang_web::AppState::new(
        store.clone(),
        yiwang_web::WebConfig {
            secure_cookies: cfg.secure_cookies(),
            max_upload_bytes: cfg.max_upload_mb * 1024 * 1024,
            public_url: public_url.clone(),
            notices: if demo && cfg.notices == yiwang_app::notices::NoticeSettings::default() {
                yiwang_app::notices::NoticeSettings::demo()
            } else {
                cfg.notices.clone()
            },
            trusted_proxies: cfg.trusted_proxies.clone(),
            audit_anchors: cfg.audit_anchors.clone(),
            ..Default::default()
        },
    );
    // The search index lives under the data directory: reopened when current, else built now;
    // a watcher applies publications and edited search data within a second.
    let search = std::sync::Arc::new(yiwang_search::SearchService::on_disk(
        crate::cmd_search::index_dir(cfg),
    ));
    search.engine(&store, now_ms()).await?;
    let watcher = (search.clone(), store.clone());
    tokio::spawn(async move {
        let (search, store) = watcher;
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        loop {
            tick.tick().await;
            if let Err(e) = search.refresh(&store, now_ms()).await {
                tracing::warn!(error = %e, "search index refresh");
            }
        }
    });
    let state = state.with_search(search);
    // Uploaded materials, content-addressed under the data directory.
    // Encrypted with the data keys (SM4-GCM) when they are configured.
    let files = crate::cmd_keys::file_store(cfg, &store)?;
    if !files.encrypts() {
        tracing::warn!(
            "no data keys configured: uploaded materials are stored unencrypted; configure \
             YIWANG_KEY_FILE or YIWANG_DATA_KEYS + YIWANG_INDEX_KEY"
        );
    }
    // Uploads left half-received by a stopped process (older than any request can live).
    let hour = std::time::Duration::from_secs(3600);
    let spool = yiwang_app::files::FileStore::spool_dir(&files);
    let now = std::time::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(now_ms()).unwrap_or_default());
    match yiwang_app::files::Spool::sweep(&spool, hour, now) {
        Ok(0) => {}
        Ok(n) => tracing::info!("removed {n} leftover upload spool files"),
        Err(e) => tracing::warn!("could not sweep the upload spool directory: {e}"),
    }
    let state = state.with_files(std::sync::Arc::new(files));
    // "register": the platform's own population and legal-entity registers (基础库).
    let verifier: std::sync::Arc<dyn yiwang_app::identity::IdentityVerifier> =
        if cfg.identity_verifier.as_deref().map(str::trim) == Some("register") {
            std::sync::Arc::new(yiwang_app::registers::RegisterVerifier::new(
                store.clone(),
                std::sync::Arc::new(yiwang_app::SystemClock),
            ))
        } else {
            yiwang_app::identity::verifier_from_config(
                cfg.identity_verifier.as_deref(),
                std::time::Duration::from_millis(cfg.notify.timeout_ms.max(1)),
            )?
        };
    let state = state.with_identity_verifier(verifier);
    let app = yiwang_web::router(state);
    // Jobs and notifications run beside HTTP in this process (see background.rs).
    let background = crate::background::start(&store, cfg)?;
    println!("yiwang is running at http://{addr}/  (staff console: http://{addr}/console)");
    println!("notices link to {public_url}/verify/…");
    let served = axum_serve(listener, app).await;
    background.stop().await;
    served
}

async fn axum_serve(
    listener: tokio::net::TcpListener,
    app: axum_router::Router,
) -> anyhow::Result<()> {
    axum_router::serve(listener, app).await
}

mod axum_router {
    pub use yiwang_web::serve_support::Router;
    pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> anyhow::Result<()> {
        yiwang_web::serve_support::serve(listener, app).await?;
        Ok(())
    }
}

fn print_issues(issues: &[yiwang_domain::Issue]) {
    let l = lang();
    for i in issues {
        eprintln!("  - {}", issue_message(l, i));
    }
}

async fn import(store: &Store, files: &[std::path::PathBuf], publish: bool) -> anyhow::Result<()> {
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    let started = Instant::now();
    let first = &files[0];
    let format = CatalogFormat::from_name(&first.to_string_lossy()).ok_or_else(|| {
        anyhow!(yiwang_i18n::error_message(
            lang(),
            yiwang_domain::ErrorCode::UnsupportedFormat
        ))
    })?;
    let parsed = match (format, files.get(1)) {
        (CatalogFormat::Csv, Some(materials)) => {
            yiwang_interchange::parse_csv(&read(first)?, &read(materials)?)
        }
        (CatalogFormat::Csv, None) => {
            bail!("a CSV import needs two files: items.csv and materials.csv")
        }
        (CatalogFormat::Xlsx, None) => yiwang_interchange::parse_xlsx(&read(first)?),
        (CatalogFormat::Json, None) => yiwang_interchange::parse_json(&read(first)?),
        _ => bail!("give one .xlsx or .json file, or items.csv and materials.csv"),
    };
    let total = parsed.batch.entries.len() as u64;
    let pb = bar(total, "saving");
    let result = yiwang_app::import_catalog(
        store,
        parsed,
        &everything(),
        &cli_actor(),
        now_ms(),
        &mut |n| pb.set_position(n as u64),
    )
    .await;
    pb.finish_and_clear();
    match result {
        Ok(summary) => {
            println!(
                "imported {} implementation(s) as drafts ({} new standard items) in {:.2}s",
                summary.drafts_written,
                summary.standard_items_created,
                started.elapsed().as_secs_f64()
            );
            if publish {
                let res = store
                    .publish_drafts(&everything(), None, &cli_actor(), now_ms())
                    .await?;
                println!("published {} implementation(s)", res.published);
            }
            Ok(())
        }
        Err(ImportError::Invalid(issues)) => {
            eprintln!(
                "the file was not imported; {} problem(s), nothing was written:",
                issues.len()
            );
            print_issues(&issues);
            bail!("import rejected")
        }
        Err(ImportError::Store(e)) => Err(e.into()),
    }
}

async fn export(store: &Store, format: ExportFormat, out: &Path) -> anyhow::Result<()> {
    let entries: Vec<_> = store
        .published_all()
        .await?
        .iter()
        .map(|p| p.entry())
        .collect();
    match format {
        ExportFormat::Csv => {
            std::fs::create_dir_all(out)?;
            let (items, materials) = yiwang_interchange::write_csv(&entries);
            std::fs::write(out.join("items.csv"), items)?;
            std::fs::write(out.join("materials.csv"), materials)?;
        }
        ExportFormat::Xlsx => {
            let bytes =
                yiwang_interchange::write_xlsx(&entries).map_err(|e| anyhow!("xlsx: {e}"))?;
            std::fs::write(out, bytes)?;
        }
        ExportFormat::Json => std::fs::write(out, yiwang_interchange::write_json(&entries))?,
    }
    println!(
        "exported {} implementation(s) to {}",
        entries.len(),
        out.display()
    );
    Ok(())
}

async fn regions_import(store: &Store, dir: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let rows = yiwang_app::regions::read_region_dir(dir)?;
    let read_s = started.elapsed().as_secs_f64();
    let pb = bar(rows.len() as u64, "regions");
    store
        .upsert_regions(&rows, &mut |n| pb.set_position(n as u64))
        .await?;
    pb.finish_and_clear();
    println!(
        "{} regions loaded in {:.2}s (read {:.2}s); the table now holds {}",
        rows.len(),
        started.elapsed().as_secs_f64(),
        read_s,
        store.region_count().await?
    );
    Ok(())
}

async fn user_create(store: &Store, command: &UserCommand) -> anyhow::Result<()> {
    let UserCommand::Create {
        username,
        display_name,
        role,
        region,
        department,
        password_env,
        phone,
        resident_id,
    } = command
    else {
        bail!("not a create command");
    };
    let pii = crate::cmd_keys::user_pii(phone.as_deref(), resident_id.as_deref())?;
    let role = Role::from_key(role).ok_or_else(|| {
        anyhow!(
            "unknown role {role}; use one of {}",
            Role::ALL
                .iter()
                .map(|r| r.key())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let region = region
        .as_deref()
        .map(RegionCode::parse)
        .transpose()
        .map_err(|e| anyhow!(yiwang_i18n::error_message(lang(), e)))?;
    let department = department
        .as_deref()
        .map(CreditCode::parse)
        .transpose()
        .map_err(|e| anyhow!(yiwang_i18n::error_message(lang(), e)))?;
    let password = match std::env::var(password_env) {
        Ok(p) => p,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    let id = store
        .create_user_with_pii(
            &NewUser {
                username: username.clone(),
                display_name: display_name.clone(),
                password,
                grants: vec![Grant {
                    role,
                    region,
                    department,
                }],
            },
            &pii,
            &cli_actor(),
            now_ms(),
        )
        .await
        .map_err(|e| anyhow!(yiwang_i18n::error_message(lang(), e.code())))?;
    println!("user {username} created (id {id}, role {})", role.key());
    Ok(())
}

async fn drift(store: &Store, json: bool) -> anyhow::Result<()> {
    let report = yiwang_app::catalog::drift(store, &everything()).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "Standard items whose implementations differ ({}):",
        report.items.len()
    );
    for item in &report.items {
        let aspects: Vec<_> = item.differing.iter().map(|a| a.key()).collect();
        println!(
            "\n{} {}  differs in: {}",
            item.basic_code,
            item.name,
            aspects.join(", ")
        );
        for imp in &item.implementations {
            let dev: Vec<_> = imp.deviations.iter().map(|a| a.key()).collect();
            println!(
                "  {} {} {}{}",
                imp.region,
                imp.department_name,
                imp.code,
                if dev.is_empty() {
                    String::new()
                } else {
                    format!("  ← deviates: {}", dev.join(", "))
                }
            );
        }
    }
    println!("\nRegion scores (share of comparable implementations following common practice):");
    for r in &report.regions {
        let name = store
            .region(&r.region)
            .await?
            .map(|x| x.name)
            .unwrap_or_default();
        println!(
            "  {} {:<12} {:>3}  ({}/{})",
            r.region, name, r.score, r.conforming, r.comparable
        );
    }
    Ok(())
}
