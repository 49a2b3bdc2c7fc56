//! Reading a configuration through the schema: the JSON text, `null` as "not set", the keys the
//! schema ignores turned into warnings, and errors that name the key path and where its value
//! came from (the file, or the environment variable that set it).

use std::path::Path;

use serde_json::Value;

use super::Loaded;
use super::env::Override;
use super::schema::Document;
use crate::error::ConfigError;

/// Keys of laravel-echo-server ≤ 1.1 that it ignored too.
const LEGACY_KEYS: &[&str] = &["appKey", "referrers", "verifyAuthPath", "verifyAuthServer"];

/// Keys laravel-echo-server's own `configure` writes that have no use here: not worth a warning.
const QUIET_KEYS: &[&str] = &[
    "secureOptions",
    "databaseConfig.sqlite",
    "databaseConfig.publishPresence",
];

/// The config file as JSON, with errors that say whether it is missing, unreadable or not JSON.
pub(super) fn read_json(path: &Path) -> Result<Value, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ConfigError::NotFound(path.to_owned())
        } else {
            ConfigError::Unreadable {
                path: path.to_owned(),
                source,
            }
        }
    })?;
    serde_json::from_str(&text).map_err(|source| ConfigError::Syntax {
        path: path.to_owned(),
        source,
    })
}

/// Build a configuration from `value` with the environment's overrides applied over it.
pub(super) fn build(
    mut value: Value,
    source_name: &str,
    overrides: &[Override],
) -> Result<Loaded, ConfigError> {
    if !value.is_object() {
        return Err(ConfigError::NotAnObject {
            source_name: source_name.to_owned(),
        });
    }
    super::env::apply(&mut value, overrides);
    drop_nulls(&mut value);
    let from = |key: &str| match overrides.iter().rev().find(|o| covers(&o.key, key)) {
        Some(o) => format!("environment variable {}", o.var),
        None => source_name.to_owned(),
    };
    let mut ignored = Vec::new();
    let document: Document = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(
        &value,
        &mut |path: serde_ignored::Path<'_>| ignored.push(dotted(&path)),
    ))
    .map_err(|e| {
        let key = e.path().to_string();
        ConfigError::Invalid {
            reason: reason(&e.inner().to_string()),
            source_name: from(&key),
            key,
        }
    })?;
    let warnings = warnings(&ignored, &document);
    let config = super::build::config(document).map_err(|e| ConfigError::Invalid {
        key: e.key.to_owned(),
        source_name: from(e.key),
        reason: e.reason,
    })?;
    Ok(Loaded { config, warnings })
}

/// Whether an override of `set` (a dotted key) is where `key` (an error's path) got its value.
fn covers(set: &str, key: &str) -> bool {
    key.strip_prefix(set)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// serde's "invalid type: integer `5`, expected a URL" says more than the operator needs: what is
/// expected is the useful part.
fn reason(message: &str) -> String {
    match message.split_once(", expected ") {
        Some((head, expected)) if head.starts_with("invalid ") => format!("expected {expected}"),
        _ => message.to_owned(),
    }
}

/// `null` means "not set" in laravel-echo-server's files (`"host": null`): the default applies.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

fn dotted(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    let (parent, segment) = match path {
        Path::Root => return String::new(),
        Path::Seq { parent, index } => (parent, format!("[{index}]")),
        Path::Map { parent, key } => (parent, key.clone()),
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => return dotted(parent),
    };
    let parent = dotted(parent);
    if parent.is_empty() || segment.starts_with('[') {
        format!("{parent}{segment}")
    } else {
        format!("{parent}.{segment}")
    }
}

/// One line per key the schema did not use, saying why.
fn warnings(ignored: &[String], document: &Document) -> Vec<String> {
    let redis = &document.database_config.redis;
    ignored
        .iter()
        .filter(|key| {
            !QUIET_KEYS.iter().any(|q| {
                key.strip_prefix(q)
                    .is_some_and(|r| r.is_empty() || r.starts_with('.'))
            })
        })
        .map(|key| {
            if LEGACY_KEYS.contains(&key.as_str()) {
                format!("`{key}` is a legacy key and is ignored")
            } else if key.starts_with("socketio.") {
                format!("`{key}` has no effect on this server")
            } else if let Some(option) = key.strip_prefix("databaseConfig.redis.") {
                if matches!(option, "cluster" | "tls") {
                    format!(
                        "`{key}` is not supported; connecting to {}:{}",
                        redis.host.0, redis.port.0
                    )
                } else {
                    format!("`{key}` is not used by this server")
                }
            } else {
                format!("unknown key `{key}` is ignored")
            }
        })
        .collect()
}
