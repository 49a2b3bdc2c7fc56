//! The `rust-echo` command line: laravel-echo-server's verbs with the same flags.

mod claim;
mod clients;
mod init;
mod lockfile;
mod start;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
        /// Apply no RUST_ECHO_* / LARAVEL_ECHO_SERVER_* variables and no .env: the config is
        /// complete as given.
        #[arg(long)]
        no_env: bool,
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
    /// The config file, relative to --dir (default laravel-echo-server.json); `start --config -`
    /// reads the configuration from standard input and writes no lock file.
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
            no_env,
            log_format,
        } => start::run(
            &start::Source {
                args: &config,
                no_env,
            },
            force,
            log_format,
        ),
        Command::Stop(config) => claim::stop(&config.path()),
        Command::ClientAdd { id, config } => clients::add(&config.path(), id.as_deref()),
        Command::ClientRemove { id, config } => clients::remove(&config.path(), &id),
    }
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
