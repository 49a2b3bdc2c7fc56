//! `rust-echo start`: read the config, start the server, run until SIGINT or SIGTERM.

use std::process::ExitCode;

use std::time::Duration;

use super::{ConfigArgs, lockfile};
use crate::config::{Config, Protocol};

pub(super) fn run(args: &ConfigArgs, force: bool, log_format: crate::logging::Format) -> ExitCode {
    let path = args.path();
    let cwd = std::env::current_dir().unwrap_or_default();
    let loaded = match Config::load_with_env(&path, &crate::config::env::variables(&cwd)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut config = loaded.config;
    config.dev_mode |= args.dev;
    crate::logging::init(config.dev_mode, "info", log_format);
    for warning in &loaded.warnings {
        tracing::warn!("{}: {warning}", path.display());
    }
    let lock = lockfile::path_for(&path);
    if let Some(pid) = lockfile::read(&lock)
        && pid != i32::try_from(std::process::id()).unwrap_or(0)
        && lockfile::alive(pid)
    {
        if !force {
            eprintln!(
                "Error: There is already a server running! Use the option '--force' to stop it and start another one."
            );
            return ExitCode::FAILURE;
        }
        if !lockfile::terminate(pid, Duration::from_secs(15)) {
            eprintln!("Error: the running server (process {pid}) did not stop.");
            return ExitCode::FAILURE;
        }
    }
    if let Err(e) = lockfile::write(&lock) {
        eprintln!(
            "Error: could not write the lock file {}: {e}",
            lock.display()
        );
        return ExitCode::FAILURE;
    }
    let _held = lockfile::Held(lock);
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
