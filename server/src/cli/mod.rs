//! The `rust-echo` command line: laravel-echo-server's verbs with the same flags.

mod clients;
mod init;
mod lockfile;
mod start;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Laravel's real-time broadcasting server (laravel-echo-server compatible).
#[derive(Debug, Parser)]
#[command(name = "rust-echo", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a config file, asking for each setting (or taking them from flags with --yes).
    #[command(alias = "configure")]
    Init(init::InitArgs),
    /// Start the server.
    Start {
        /// Where the config file is.
        #[command(flatten)]
        config: ConfigArgs,
        /// Stop a server already running from this config (its lock file) first.
        #[arg(long)]
        force: bool,
        /// Log lines as text or as JSON objects.
        #[arg(long, value_enum, default_value = "text")]
        log_format: crate::logging::Format,
    },
    /// Stop the server started from this config (SIGTERM to the pid in its lock file).
    Stop(ConfigArgs),
    /// Add an HTTP API client (random app id and key), or give an existing one a new key.
    #[command(name = "client:add")]
    ClientAdd {
        /// The app id; random when omitted.
        id: Option<String>,
        /// Where the config file is.
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Remove the HTTP API client with this app id.
    #[command(name = "client:remove")]
    ClientRemove {
        /// The app id.
        id: String,
        /// Where the config file is.
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// Where the config file is.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// The config file, relative to --dir (default laravel-echo-server.json).
    #[arg(long, default_value = "laravel-echo-server.json")]
    pub config: PathBuf,
    /// The folder of the config file.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Verbose logging (joins, leaves, auth results, messages), like `devMode`.
    #[arg(long)]
    pub dev: bool,
}

impl ConfigArgs {
    /// The config file's path, as laravel-echo-server resolves it (`dir` joined with `config`).
    pub fn path(&self) -> PathBuf {
        match &self.dir {
            Some(dir) => dir.join(&self.config),
            None => self.config.clone(),
        }
    }
}

/// Parse the arguments and run the verb.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Init(args) => init::run(&args),
        Command::Start {
            config,
            force,
            log_format,
        } => start::run(&config, force, log_format),
        Command::Stop(config) => stop(&config.path()),
        Command::ClientAdd { id, config } => clients::add(&config.path(), id.as_deref()),
        Command::ClientRemove { id, config } => clients::remove(&config.path(), &id),
    }
}

/// `stop`: delete the lock file and SIGTERM the process it names.
fn stop(config: &Path) -> ExitCode {
    let lock = lockfile::path_for(config);
    let Some(pid) = lockfile::read(&lock) else {
        eprintln!("Error: Could not find any lock file.");
        return ExitCode::FAILURE;
    };
    let _ = std::fs::remove_file(&lock);
    if lockfile::alive(pid) && !lockfile::terminate(pid, Duration::from_secs(15)) {
        eprintln!("Error: process {pid} did not stop.");
        return ExitCode::FAILURE;
    }
    println!("Closed the running server.");
    ExitCode::SUCCESS
}

/// Write a config file as laravel-echo-server does: tab-indented JSON.
fn write_config(path: &Path, value: &serde_json::Value) -> Result<(), String> {
    use serde::Serialize;
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(b"\t"),
    );
    value
        .serialize(&mut ser)
        .map_err(|e| format!("could not encode the config: {e}"))?;
    out.push(b'\n');
    std::fs::write(path, out).map_err(|e| format!("could not write {}: {e}", path.display()))
}
