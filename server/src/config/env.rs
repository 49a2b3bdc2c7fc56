//! Configuration from the environment, applied over the file's values:
//!
//! - laravel-echo-server's `LARAVEL_ECHO_SERVER_*` variables (and `_REDIS_PREFIX`, which its users
//!   asked for);
//! - `RUST_ECHO_<KEY>` for every key, `__` between nested keys, matched without regard to case:
//!   `RUST_ECHO_DATABASECONFIG__REDIS__KEYPREFIX`, `RUST_ECHO_CLIENTS='[{"appId":..}]'`;
//! - a `.env` file in the working directory, as laravel-echo-server loads it (variables already in
//!   the environment win);
//! - a value of the form `${NAME}` is replaced by variable `NAME`.
//!
//! Values that parse as JSON (numbers, booleans, arrays, objects) are used as such, anything else
//! as a string. Nested objects are created as needed.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

/// laravel-echo-server's variables and the keys they set.
const LES_VARS: &[(&str, &str)] = &[
    ("LARAVEL_ECHO_SERVER_AUTH_HOST", "authHost"),
    ("LARAVEL_ECHO_SERVER_DEBUG", "devMode"),
    ("LARAVEL_ECHO_SERVER_HOST", "host"),
    ("LARAVEL_ECHO_SERVER_PORT", "port"),
    (
        "LARAVEL_ECHO_SERVER_REDIS_HOST",
        "databaseConfig.redis.host",
    ),
    (
        "LARAVEL_ECHO_SERVER_REDIS_PORT",
        "databaseConfig.redis.port",
    ),
    (
        "LARAVEL_ECHO_SERVER_REDIS_PASSWORD",
        "databaseConfig.redis.password",
    ),
    (
        "LARAVEL_ECHO_SERVER_REDIS_PREFIX",
        "databaseConfig.redis.keyPrefix",
    ),
    ("LARAVEL_ECHO_SERVER_PROTO", "protocol"),
    ("LARAVEL_ECHO_SERVER_SSL_CERT", "sslCertPath"),
    ("LARAVEL_ECHO_SERVER_SSL_KEY", "sslKeyPath"),
    ("LARAVEL_ECHO_SERVER_SSL_CHAIN", "sslCertChainPath"),
    ("LARAVEL_ECHO_SERVER_SSL_PASS", "sslPassphrase"),
];

/// Every key `RUST_ECHO_*` can set, as written in the config file.
const KEYS: &[&str] = &[
    "authHost",
    "authEndpoint",
    "authTimeout",
    "clients",
    "database",
    "devMode",
    "host",
    "port",
    "protocol",
    "sslCertPath",
    "sslKeyPath",
    "sslCertChainPath",
    "sslPassphrase",
    "headers",
    "maxChannelsPerSocket",
    "maxChannelNameLength",
    "maxBufferedPackets",
    "maxConnections",
    "maxConcurrentAuth",
    "clientEventsPerSecond",
    "clientEventBurst",
    "allowedOrigins",
    "trustedProxies",
    "shutdownGracePeriod",
    "metrics.enabled",
    "metrics.host",
    "metrics.port",
    "databaseConfig.redis.host",
    "databaseConfig.redis.port",
    "databaseConfig.redis.password",
    "databaseConfig.redis.username",
    "databaseConfig.redis.db",
    "databaseConfig.redis.keyPrefix",
    "databaseConfig.redis.path",
    "socketio.path",
    "socketio.pingInterval",
    "socketio.pingTimeout",
    "socketio.upgradeTimeout",
    "socketio.maxHttpBufferSize",
    "socketio.transports",
    "subscribers.http",
    "subscribers.redis",
    "apiOriginAllow.allowCors",
    "apiOriginAllow.allowOrigin",
    "apiOriginAllow.allowMethods",
    "apiOriginAllow.allowHeaders",
    "shm.enabled",
    "shm.name",
    "shm.size",
    "shm.mode",
];

/// One value taken from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// Dotted key, e.g. `databaseConfig.redis.keyPrefix`.
    pub key: String,
    /// The variable it came from.
    pub var: String,
    /// The value.
    pub value: Value,
}

/// The variables: `.env` in `dir`, overridden by the process environment.
pub fn variables(dir: &Path) -> BTreeMap<String, String> {
    let mut vars = dotenv(&dir.join(".env"));
    vars.extend(std::env::vars());
    vars
}

/// Which keys the variables set, in a stable order (laravel-echo-server's names first).
pub fn overrides(vars: &BTreeMap<String, String>) -> Vec<Override> {
    let resolve = |raw: &str| -> String {
        match raw.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
            Some(name) => vars.get(name).cloned().unwrap_or_default(),
            None => raw.to_owned(),
        }
    };
    let mut out = Vec::new();
    for (var, key) in LES_VARS {
        if let Some(raw) = vars.get(*var).filter(|v| !v.is_empty()) {
            out.push(Override {
                key: (*key).to_owned(),
                var: (*var).to_owned(),
                value: parse(&resolve(raw)),
            });
        }
    }
    for key in KEYS {
        let var = format!("RUST_ECHO_{}", key.replace('.', "__").to_uppercase());
        if let Some(raw) = vars.get(&var).filter(|v| !v.is_empty()) {
            out.push(Override {
                key: (*key).to_owned(),
                var,
                value: parse(&resolve(raw)),
            });
        }
    }
    out
}

/// Set each override in `root`, creating nested objects as needed.
pub fn apply(root: &mut Value, overrides: &[Override]) {
    for o in overrides {
        let mut node = &mut *root;
        let mut segments = o.key.split('.').peekable();
        while let Some(segment) = segments.next() {
            if !node.is_object() {
                *node = Value::Object(Map::new());
            }
            let Value::Object(map) = node else { break };
            if segments.peek().is_none() {
                map.insert(segment.to_owned(), o.value.clone());
                break;
            }
            node = map
                .entry(segment.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
        }
    }
}

fn parse(raw: &str) -> Value {
    match serde_json::from_str::<Value>(raw) {
        Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_))) => v,
        _ => Value::String(raw.to_owned()),
    }
}

/// `KEY=VALUE` lines; `#` comments, blank lines and an `export ` prefix are allowed, values may
/// be quoted. A missing or unreadable file is no variables.
fn dotenv(path: &Path) -> BTreeMap<String, String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return BTreeMap::new();
    };
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let (key, value) = line.split_once('=')?;
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(value);
            Some((key.trim().to_owned(), value.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn variables_map_to_keys_and_nest() {
        let o = overrides(&vars(&[
            ("LARAVEL_ECHO_SERVER_PORT", "6002"),
            (
                "RUST_ECHO_DATABASECONFIG__REDIS__KEYPREFIX",
                "laravel_database_",
            ),
            ("RUST_ECHO_CLIENTS", r#"[{"appId":"a","key":"k"}]"#),
            ("RUST_ECHO_AUTHHOST", "${APP_URL}"),
            ("APP_URL", "http://app.test"),
            ("RUST_ECHO_UNRELATED", "x"),
        ]));
        let mut root = json!({ "port": 6001, "databaseConfig": "not an object" });
        apply(&mut root, &o);
        assert_eq!(root["port"], 6002);
        assert_eq!(
            root["databaseConfig"]["redis"]["keyPrefix"],
            "laravel_database_"
        );
        assert_eq!(root["clients"][0]["appId"], "a");
        assert_eq!(root["authHost"], "http://app.test");
        assert_eq!(o.len(), 4);
    }

    /// Every key the reader knows can be set from the environment, limits and metrics included.
    #[test]
    fn operational_keys_are_settable() {
        let vars = vars(&[
            ("RUST_ECHO_MAXCONNECTIONS", "10"),
            ("RUST_ECHO_METRICS__PORT", "9700"),
            ("RUST_ECHO_METRICS__ENABLED", "false"),
            ("RUST_ECHO_CLIENTEVENTSPERSECOND", "4"),
            ("RUST_ECHO_SHUTDOWNGRACEPERIOD", "2500"),
        ]);
        let mut root = json!({});
        apply(&mut root, &overrides(&vars));
        let c = crate::Config::from_value(&root, "env").unwrap().config;
        assert_eq!(c.limits.max_connections, 10);
        assert_eq!((c.metrics.enabled, c.metrics.port), (false, 9700));
        assert_eq!(c.limits.client_events_per_second, 4);
        assert_eq!(c.shutdown_grace, std::time::Duration::from_millis(2500));
    }

    #[test]
    fn dotenv_lines() {
        let dir = std::env::temp_dir().join(format!("rust-echo-dotenv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(".env"),
            "# c\nexport A=1\nB=\"two words\"\nC='x'\n\nbad line\n",
        )
        .unwrap();
        let v = dotenv(&dir.join(".env"));
        assert_eq!(v.get("A").map(String::as_str), Some("1"));
        assert_eq!(v.get("B").map(String::as_str), Some("two words"));
        assert_eq!(v.get("C").map(String::as_str), Some("x"));
        assert_eq!(v.len(), 3);
    }
}
