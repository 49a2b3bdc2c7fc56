//! The `rust-echo` command line, laravel-echo-server's verbs with the same flags.

mod start;

use std::path::PathBuf;
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
    /// Start the server.
    Start(ConfigArgs),
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
        Command::Start(args) => start::run(&args),
    }
}
