//! Configuration from the environment, applied over the file's values:
//!
//! - laravel-echo-server's `LARAVEL_ECHO_SERVER_*` variables (and `_REDIS_PREFIX`, which its users
//!   asked for);
//! - `RUST_ECHO_<KEY>` for every key of the [schema](super::schema), `__` between nested keys, in
//!   upper case: `RUST_ECHO_DATABASECONFIG__REDIS__KEYPREFIX`, `RUST_ECHO_CLIENTS='[{"appId":..}]'`;
//! - a `.env` file in the working directory, as laravel-echo-server loads it (variables already in
//!   the environment win);
//! - a value of the form `${NAME}` is replaced by variable `NAME`.
//!
//! A value is handed to the schema as the string it is, and the key's type parses it: a string key
//! keeps `1e5` or `007` as written, a number key reads digits, a flag reads `true`/`false`. Only a
//! key whose value is a list or an object (`clients`, `headers`, `authHost`, `allowedOrigins`,
//! `socketio.transports`) reads JSON, and falls back to the string (one URL, comma-separated
//! origins) when the text is not a JSON array or object.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::schema::Document;

/// laravel-echo-server's variables and the keys they set.
pub(super) const LES_VARS: &[(&str, &str)] = &[
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

/// One value taken from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// Dotted key, e.g. `databaseConfig.redis.keyPrefix`.
    pub key: String,
    /// The variable it came from.
    pub var: String,
    /// The value, as the key's type will read it.
    pub value: Value,
}

/// A key the environment can set: its dotted path and whether its value is a list or an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// Dotted path, e.g. `databaseConfig.redis.port`.
    pub path: String,
    /// The value is an array or an object (read as JSON from a variable).
    pub structured: bool,
}

impl Key {
    /// The `RUST_ECHO_*` variable that sets this key.
    pub fn variable(&self) -> String {
        format!("RUST_ECHO_{}", self.path.replace('.', "__").to_uppercase())
    }
}

/// Every key of the schema, read off its defaults: a nested object is a group of keys, anything
/// else (a value, a list, a map such as `headers`, a key without a default) is one key.
pub fn keys() -> Vec<Key> {
    fn walk(prefix: &str, map: &Map<String, Value>, out: &mut Vec<Key>) {
        for (name, value) in map {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            match value {
                Value::Object(inner) if !inner.is_empty() => walk(&path, inner, out),
                other => out.push(Key {
                    path,
                    structured: other.is_array() || other.is_object(),
                }),
            }
        }
    }
    let mut out = Vec::new();
    if let Ok(Value::Object(root)) = serde_json::to_value(Document::default()) {
        walk("", &root, &mut out);
    }
    out
}

/// The variables: `.env` in `dir`, overridden by the process environment.
pub fn variables(dir: &Path) -> BTreeMap<String, String> {
    let mut vars: BTreeMap<String, String> = dotenvy::from_path_iter(dir.join(".env"))
        .map(|lines| lines.filter_map(Result::ok).collect())
        .unwrap_or_default();
    vars.extend(std::env::vars());
    vars
}

/// Which keys the variables set, in a stable order (laravel-echo-server's names first, so that
/// `RUST_ECHO_*` wins when both set a key).
pub fn overrides(vars: &BTreeMap<String, String>) -> Vec<Override> {
    let resolve = |raw: &str| -> String {
        match raw.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
            Some(name) => vars.get(name).cloned().unwrap_or_default(),
            None => raw.to_owned(),
        }
    };
    let keys = keys();
    let les = LES_VARS.iter().filter_map(|(var, path)| {
        let key = keys.iter().find(|k| k.path == *path)?;
        Some(((*var).to_owned(), key))
    });
    let own = keys.iter().map(|k| (k.variable(), k));
    les.chain(own)
        .filter_map(|(var, key)| {
            let raw = vars.get(&var).filter(|v| !v.is_empty())?;
            Some(Override {
                key: key.path.clone(),
                value: typed(key, resolve(raw)),
                var,
            })
        })
        .collect()
}

/// The string as the key will read it: JSON for a list or object key when it is one.
fn typed(key: &Key, raw: String) -> Value {
    if key.structured
        && let Ok(v @ (Value::Array(_) | Value::Object(_))) = serde_json::from_str(&raw)
    {
        return v;
    }
    Value::String(raw)
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Every key of the schema has its variable; laravel-echo-server's variables name schema keys.
    #[test]
    fn every_key_is_settable() {
        let keys: Vec<String> = super::keys().into_iter().map(|k| k.path).collect();
        for key in [
            "authHost",
            "clients",
            "databaseConfig.redis.keyPrefix",
            "socketio.transports",
            "shm.mode",
            "metrics.port",
            "headers",
            "host",
        ] {
            assert!(keys.iter().any(|k| k == key), "{key} in {keys:?}");
        }
        let set = super::overrides(&vars(&[("RUST_ECHO_SSLPASSPHRASE", "pw")]));
        assert_eq!(set[0].key, "sslPassphrase");
        for (var, _) in super::LES_VARS {
            assert_eq!(super::overrides(&vars(&[(var, "x")])).len(), 1, "{var}");
        }
    }

    #[test]
    fn dotenv_lines() {
        let dir = std::env::temp_dir().join(format!("rust-echo-dotenv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(".env"),
            "# c\nexport A_1=1\nB_1=\"two words\"\nC_1='x'\n\n",
        )
        .unwrap();
        let v = super::variables(&dir);
        assert_eq!(v.get("A_1").map(String::as_str), Some("1"));
        assert_eq!(v.get("B_1").map(String::as_str), Some("two words"));
        assert_eq!(v.get("C_1").map(String::as_str), Some("x"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
