//! Reading laravel-echo-server.json values: sanitizing, merging, naming the key in errors.

use super::Config;

use serde_json::json;

#[test]
fn port_is_sanitized_like_laravel_echo_server() {
    let c = |v| Config::from_value(&json!({ "port": v }), "t").map(|l| l.config.port);
    assert_eq!(c(json!("6001")).unwrap(), 6001);
    assert_eq!(c(json!("http://x:6002/")).unwrap(), 6002);
    assert_eq!(c(json!(0)).unwrap(), 0);
    assert!(c(json!("x")).is_err());
    assert!(c(json!(70000)).is_err());
}

#[test]
fn nested_objects_merge_with_defaults() {
    let l = Config::from_value(&json!({ "subscribers": { "http": false } }), "t").unwrap();
    assert!(!l.config.subscribers.http);
    assert!(l.config.subscribers.redis);
}

#[test]
fn errors_name_the_key_and_source() {
    let e = Config::from_value(
        &json!({ "databaseConfig": { "redis": { "port": [] } } }),
        "a.json",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "invalid value for `databaseConfig.redis.port` in a.json: expected a port number (0-65535)"
    );
}

#[test]
fn unknown_keys_warn() {
    let l = Config::from_value(&json!({ "nope": 1, "appKey": "x" }), "t").unwrap();
    assert_eq!(l.warnings.len(), 2);
}
