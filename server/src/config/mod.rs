//! Server configuration: the keys and defaults of `laravel-echo-server.json` (so a user can swap
//! the binary and keep the file), plus the keys rust-echo adds, in one typed schema.
//!
//! - [`schema`]: every key, its type and its default (serde derive);
//! - `values`: the value types, each parsing its JSON and its string form;
//! - [`env`]: `LARAVEL_ECHO_SERVER_*`, `RUST_ECHO_*` and `.env`, keyed by the schema;
//! - `load`: JSON through the schema, warnings for unused keys, errors naming key and source;
//! - `build`: from the schema's document to the [`Config`] the server runs with;
//! - `model`: [`Config`] and its parts.
//!
//! Unlike laravel-echo-server, nested objects are merged key by key with the defaults: a file with
//! `"subscribers": {"http": false}` keeps the Redis subscriber on instead of silently dropping it.

pub mod apps;
mod build;
pub mod env;
mod load;
mod model;
pub mod schema;
#[cfg(test)]
mod tests;
mod values;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::error::ConfigError;
pub use apps::{ClientEvents, PusherApp, RateLimit};
pub use model::{
    ApiClient, ApiOriginAllow, ClusterConfig, Config, Limits, MetricsConfig, Protocol, RedisConfig,
    SentinelConfig, ShmConfig, SocketIoOptions, Subscribers, TlsFiles,
};

/// `host:port` for binding, with an IPv6 host in brackets.
pub(crate) fn socket_address(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

impl Default for Config {
    /// The schema's defaults.
    fn default() -> Self {
        build::config(schema::Document::default())
            .unwrap_or_else(|e| unreachable!("default `{}` is invalid: {}", e.key, e.reason))
    }
}

/// A loaded configuration and the warnings (unknown or ignored keys) found while reading it.
#[derive(Debug)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// One line per key that was not used.
    pub warnings: Vec<String>,
}

impl Config {
    /// Read a `laravel-echo-server.json` file.
    ///
    /// # Errors
    /// The file is missing, unreadable, not JSON, or holds an invalid value.
    pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
        load::build(load::read_json(path)?, &path.display().to_string(), &[])
    }

    /// Read a config file and apply the environment's overrides over it (see [`env`]); an
    /// invalid value set by a variable is reported with the variable's name.
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn load_with_env(
        path: &Path,
        vars: &BTreeMap<String, String>,
    ) -> Result<Loaded, ConfigError> {
        Self::from_value_with_env(load::read_json(path)?, &path.display().to_string(), vars)
    }

    /// As [`Config::load_with_env`], for a configuration already read (e.g. from standard input).
    ///
    /// # Errors
    /// As [`Config::from_value`].
    pub fn from_value_with_env(
        value: Value,
        source_name: &str,
        vars: &BTreeMap<String, String>,
    ) -> Result<Loaded, ConfigError> {
        let mut loaded = load::build(value, source_name, &env::overrides(vars))?;
        // A Reverb `.env` works as it is: its one app, unless `apps` names some.
        if loaded.config.apps.is_empty()
            && let Some(app) = apps::from_reverb_env(vars)
        {
            loaded.config.apps.push(app);
        }
        Ok(loaded)
    }

    /// Build a configuration from a JSON object with laravel-echo-server's keys; missing keys
    /// keep their defaults. `source_name` names the origin of the values in errors.
    ///
    /// # Errors
    /// A key holds a value of the wrong type or out of range.
    pub fn from_value(value: &Value, source_name: &str) -> Result<Loaded, ConfigError> {
        load::build(value.clone(), source_name, &[])
    }

    /// The Redis key prefix actually in use (empty when none).
    pub fn key_prefix(&self) -> &str {
        &self.redis.key_prefix
    }
}
