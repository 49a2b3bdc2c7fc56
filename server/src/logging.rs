//! Log output for the binary and for servers hosted inside PHP: `tracing` to stderr, filtered by
//! `RUST_LOG` when set, else by dev mode (which shows joins, leaves, auth results and messages).

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Install the stderr subscriber once per process; later calls are no-ops. `quiet` is the
/// filter outside dev mode (`"info"` for the binary, `"warn"` inside a PHP process).
pub fn init(dev: bool, quiet: &str, format: Format) {
    let default = if dev {
        "info,rust_echo_server=debug"
    } else {
        quiet
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        Format::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        Format::Json => builder.json().try_init(),
    };
}
