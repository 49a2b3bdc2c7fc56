//! `rust-echo start`: read the config, start the server, run until SIGINT or SIGTERM.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use super::{ConfigArgs, claim};
use crate::config::{Config, Loaded, Protocol};
use crate::error::ConfigError;

/// Where `start` reads its configuration from.
pub(super) struct Source<'a> {
    /// The config file (`-`: standard input).
    pub args: &'a ConfigArgs,
    /// Apply no environment variables and no `.env`: the configuration is complete as given.
    pub no_env: bool,
}

pub(super) fn run(
    source: &Source<'_>,
    force: bool,
    log_format: crate::logging::Format,
) -> ExitCode {
    let path = source.args.path();
    let loaded = match load(source) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut config = loaded.config;
    config.dev_mode |= source.args.dev;
    crate::logging::init(config.dev_mode, "info", log_format);
    for warning in &loaded.warnings {
        tracing::warn!("{}: {warning}", path.display());
    }
    // A configuration piped in belongs to no folder: whoever runs it keeps track of the process.
    let _held = if path == Path::new(STDIN) {
        None
    } else {
        match claim::claim(&path, force) {
            Ok(held) => Some(held),
            Err(code) => return code,
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: could not start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(config))
}

/// `--config -`: the configuration is read from standard input (so that no secret of it has to be
/// written to a file).
const STDIN: &str = "-";

fn load(source: &Source<'_>) -> Result<Loaded, ConfigError> {
    let path = source.args.path();
    let vars = if source.no_env {
        BTreeMap::new()
    } else {
        let cwd = std::env::current_dir().unwrap_or_default();
        crate::config::env::variables(&cwd)
    };
    if path != Path::new(STDIN) {
        return Config::load_with_env(&path, &vars);
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(ConfigError::Stdin)?;
    let value = serde_json::from_str(&text).map_err(ConfigError::StdinSyntax)?;
    Config::from_value_with_env(value, "standard input", &vars)
}

async fn serve(config: Config) -> ExitCode {
    let mut termination = Termination::register();
    println!("rust-echo {}", crate::VERSION);
    println!(
        "{}",
        if config.dev_mode {
            "Starting server in DEV mode..."
        } else {
            "Starting server..."
        }
    );
    let subscribers = config.subscribers;
    let apps = config.apps.clone();
    let scheme = if config.protocol == Protocol::Https {
        "https"
    } else {
        "http"
    };
    let handle = match crate::start(config).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = handle.local_addr();
    println!(
        "✔  Running at {scheme}://{} on port {}",
        addr.ip(),
        addr.port()
    );
    if subscribers.http {
        println!("✔  Listening for http events...");
    }
    if subscribers.redis {
        println!("✔  Listening for redis events...");
    }
    if let Some(ring) = handle.ring_info() {
        println!("✔  Listening on the shared-memory ring {}", ring.name);
    }
    for app in &apps {
        println!("✔  Pusher protocol for app {} at /app/{}", app.id, app.key);
    }
    if let Some(pusher) = handle.pusher_addr() {
        println!("✔  Pusher protocol also on port {}", pusher.port());
    }
    if let Some(node) = handle.node_id() {
        println!("✔  Cluster node {node}");
    }
    if let Some(metrics) = handle.metrics_addr() {
        println!("✔  Metrics at http://{metrics}/metrics");
    }
    println!("Server ready!");
    while termination.recv().await == Signal::Hangup {
        match handle.reload_tls() {
            Ok(true) => tracing::info!("SIGHUP: TLS certificate reloaded"),
            Ok(false) => tracing::info!("SIGHUP: nothing to reload (protocol is http)"),
            Err(e) => {
                tracing::error!(error = %e, "SIGHUP: TLS certificate not reloaded; serving the previous one")
            }
        }
    }
    tracing::info!("shutting down");
    handle.shutdown().await;
    ExitCode::SUCCESS
}

/// SIGINT, SIGTERM and SIGHUP, registered when created: a signal that arrives any time after
/// that (even before the server is ready) is handled instead of killing the process.
struct Termination {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
    hangup: Option<tokio::signal::unix::Signal>,
}

/// What [`Termination::recv`] received.
#[derive(Debug, PartialEq, Eq)]
enum Signal {
    /// SIGINT or SIGTERM: shut down.
    Stop,
    /// SIGHUP: reload the TLS certificate.
    Hangup,
}

impl Termination {
    fn register() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        Termination {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
            hangup: signal(SignalKind::hangup()).ok(),
        }
    }

    async fn recv(&mut self) -> Signal {
        async fn next(s: &mut Option<tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = next(&mut self.interrupt) => Signal::Stop,
            () = next(&mut self.terminate) => Signal::Stop,
            () = next(&mut self.hangup) => Signal::Hangup,
        }
    }
}
