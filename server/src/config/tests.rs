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

#[test]
fn limits_metrics_and_tls_keys() {
    let l = Config::from_value(
        &json!({
            "maxConnections": "500",
            "maxConcurrentAuth": 8,
            "clientEventsPerSecond": 0,
            "clientEventBurst": 3,
            "metrics": { "enabled": "false", "host": "0.0.0.0", "port": "9700" },
            "protocol": "https",
            "sslCertPath": "/etc/ssl/c.pem",
            "sslKeyPath": "/etc/ssl/k.pem",
            "sslCertChainPath": "",
            "sslPassphrase": "pw"
        }),
        "t",
    )
    .unwrap()
    .config;
    assert_eq!(l.limits.max_connections, 500);
    assert_eq!(l.limits.max_concurrent_auth, 8);
    assert_eq!(l.limits.client_events_per_second, 0);
    assert_eq!(l.limits.client_event_burst, 3);
    assert!(!l.metrics.enabled);
    assert_eq!((l.metrics.host.as_str(), l.metrics.port), ("0.0.0.0", 9700));
    let tls = l.tls.expect("https has files");
    assert_eq!(tls.cert, std::path::PathBuf::from("/etc/ssl/c.pem"));
    assert_eq!(tls.chain, None);
    assert_eq!(tls.passphrase.as_deref(), Some("pw"));

    // http ignores the TLS keys, as laravel-echo-server does.
    let l = Config::from_value(&json!({ "sslCertPath": "/x" }), "t").unwrap();
    assert_eq!(l.config.tls, None);
    assert!(l.warnings.is_empty());

    let err = |v| Config::from_value(&v, "t").unwrap_err().to_string();
    assert_eq!(
        err(json!({ "maxConcurrentAuth": 0 })),
        "invalid value for `maxConcurrentAuth` in t: expected at least 1"
    );
    assert_eq!(
        err(json!({ "metrics": { "port": "x" } })),
        "invalid value for `metrics.port` in t: expected a port number (0-65535)"
    );
    assert_eq!(
        err(json!({ "protocol": "https", "sslKeyPath": "/k" })),
        "invalid value for `sslCertPath` in t: required when protocol is \"https\""
    );
}
