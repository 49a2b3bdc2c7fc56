//! Error types of the engine, one enum per area. Per-connection and per-message failures are not
//! here: they are logged and contained where they happen and never stop the server.

use std::path::PathBuf;

/// A configuration value that cannot be used. Every variant names the key (dotted path, as written
/// in `laravel-echo-server.json`) and where the value came from, so the operator can fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config file does not exist.
    #[error("the config file could not be found: {0}")]
    NotFound(PathBuf),
    /// The config file exists but could not be read.
    #[error("the config file {path} could not be read: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid JSON.
    #[error("the config file {path} is not valid JSON: {source}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        source: serde_json::Error,
    },
    /// The configuration could not be read from standard input (`--config -`).
    #[error("the configuration could not be read from standard input: {0}")]
    Stdin(std::io::Error),
    /// The configuration on standard input is not valid JSON.
    #[error("the configuration on standard input is not valid JSON: {0}")]
    StdinSyntax(serde_json::Error),
    /// The top level of the config is not a JSON object.
    #[error("the config in {source_name} must be a JSON object")]
    NotAnObject {
        /// File path or "defaults".
        source_name: String,
    },
    /// A key holds a value of the wrong type or out of range.
    #[error("invalid value for `{key}` in {source_name}: {reason}")]
    Invalid {
        /// Dotted key, e.g. `databaseConfig.redis.port`.
        key: String,
        /// File path or environment variable name.
        source_name: String,
        /// What is expected.
        reason: String,
    },
}

/// The server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listen address could not be bound.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TLS certificate or key (`sslCertPath`, `sslKeyPath`, ...) cannot be used.
    #[error("TLS: {0}")]
    Tls(#[from] crate::listener::tls::TlsError),
    /// The async runtime or the server thread could not be created.
    #[error("could not start the server runtime: {0}")]
    Runtime(std::io::Error),
    /// The shared-memory ring could not be created (set `shm.enabled` to false to run without).
    #[error("could not create the shared-memory ring: {0}")]
    Ring(#[from] crate::shm::RingError),
    /// The HTTP client used for channel authorization could not be built.
    #[error("could not build the auth HTTP client: {0}")]
    AuthClient(String),
}

/// Why an in-process publish was not accepted. The caller keeps the message and can retry or fall
/// back to another transport; nothing is dropped silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The bounded in-process queue is full (the server is not keeping up).
    #[error("the in-process queue is full")]
    QueueFull,
    /// The server stopped; the message cannot be delivered by it.
    #[error("the server is stopped")]
    Stopped,
    /// A piece of the message is longer than the queue's length prefixes (4 GiB).
    #[error("the message is too large")]
    TooLarge,
}
