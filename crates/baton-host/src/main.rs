//! `baton`: serve, simulate a message against the stored settings, or run migrations.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use baton_host::app;
use baton_host::config::Config;
use baton_host::start::{self, OwnerToken};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(name = "baton", version, about = "Customer agent handoff server")]
struct Cli {
    /// Configuration file (default: config/baton.toml when it exists).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Print what the stored settings would do with a visitor message, without writing.
    Simulate {
        text: String,
        /// Simulate with the agent paused.
        #[arg(long)]
        paused: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Load the configured plugins and list them (kind, SDK and ABI versions, health);
    /// fails when an entry does not load.
    Plugins,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("baton: {error}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("baton: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::Simulate { text, paused } => simulate(config, &text, paused).await,
            Command::Migrate => migrate(config).await,
            Command::Plugins => plugins(&config),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("baton: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[allow(clippy::print_stdout)] // the console is this command's interface
async fn serve(config: Config) -> anyhow::Result<()> {
    let store = start::open_store(&config).await?;
    let owner = start::bootstrap(&store, &config).await?;
    let relay = store.relay(config.database.schema.as_deref());
    let store_for_link = store.clone();
    let state = start::build(&config, store)?;
    let listener = tokio::net::TcpListener::bind(config.addr())
        .await
        .with_context(|| format!("cannot listen on {} (http.addr)", config.http.addr))?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");
    println!("Baton listening on {url}");
    let token_hint = match owner {
        OwnerToken::Generated(token) => {
            println!("Owner token (shown once, keep it): {token}");
            token
        }
        OwnerToken::FromConfig => {
            println!("Owner token: the value of BATON_BOOTSTRAP_TOKEN");
            "$BATON_BOOTSTRAP_TOKEN".into()
        }
        OwnerToken::Existing => {
            println!("Owner already exists: use a token issued earlier");
            "<your token>".into()
        }
    };
    if let Some((email, link)) = start::owner_password_link(&store_for_link, &url).await? {
        println!("Owner: {email}");
        println!("Set the owner's password: {link}");
    }
    println!("Sign in: {url}/login");
    println!("Try: curl -H \"Authorization: Bearer {token_hint}\" {url}/api/v1/handoff/settings");
    println!("Web chat: open {url}/chat and talk to the customer agent");
    tracing::info!(%url, "listening");
    tokio::spawn(state.engine.clone().run_outbox());
    tokio::spawn(state.engine.clone().run_rerouting());
    tokio::spawn(state.engine.clone().run_workflows());
    if let Some(relay) = relay {
        tokio::spawn(relay.run(state.engine.clone()));
    }
    app::serve(state, listener, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[allow(clippy::print_stdout)]
async fn simulate(config: Config, text: &str, paused: bool) -> anyhow::Result<()> {
    // No bootstrap: a simulation writes nothing, not even the owner.
    let state = start::build(&config, start::open_store(&config).await?)?;
    let simulation = state
        .engine
        .simulate(text, "chat", paused.then_some(true))
        .await?;
    println!("settings version {}", simulation.settings_version);
    println!("{:#?}", simulation.decision);
    println!("{}", simulation.decision.explanation());
    Ok(())
}

#[allow(clippy::print_stdout)]
fn plugins(config: &Config) -> anyhow::Result<()> {
    let plugins = baton_host::plugins::Plugins::load(&config.plugins);
    if plugins.loaded.is_empty() && plugins.failed.is_empty() {
        println!("no [[plugins]] entries in the configuration");
        return Ok(());
    }
    for plugin in &plugins.loaded {
        let health = match plugin.health().state {
            baton_plugin_host::HealthState::Healthy => "healthy".to_owned(),
            baton_plugin_host::HealthState::Disabled { reason } => format!("disabled: {reason}"),
        };
        println!(
            "{}\t{}\t{} (sdk {}, abi {})\t{}\t{health}",
            plugin.name(),
            plugin.kind().as_str(),
            plugin.crate_name(),
            plugin.sdk_version(),
            plugin.abi_version(),
            plugin.path().display(),
        );
    }
    for failure in &plugins.failed {
        println!("{}\tFAILED\t{}", failure.name, failure.error);
    }
    anyhow::ensure!(
        plugins.failed.is_empty(),
        "{} plugin(s) did not load",
        plugins.failed.len()
    );
    Ok(())
}

#[allow(clippy::print_stdout)]
async fn migrate(config: Config) -> anyhow::Result<()> {
    start::open_store(&config).await?;
    println!(
        "migrations applied to {}",
        config.database.url.split('?').next().unwrap_or("")
    );
    Ok(())
}
