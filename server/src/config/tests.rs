//! Reading laravel-echo-server.json values: sanitizing, merging, naming the key in errors.

use super::Config;

use std::collections::BTreeMap;

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

/// A port string with more than five digits is refused, not cut to its last five; any 1-5 digit
/// port is taken (laravel-echo-server's regex wanted at least two).
#[test]
fn port_keeps_every_digit() {
    let c = |v| Config::from_value(&json!({ "port": v }), "t").map(|l| l.config.port);
    assert_eq!(
        c(json!("123456")).unwrap_err().to_string(),
        "invalid value for `port` in t: expected a port number (0-65535)"
    );
    assert_eq!(c(json!("1")).unwrap(), 1);
    assert_eq!(c(json!("65535")).unwrap(), 65535);
    assert!(c(json!("65536")).is_err());
}

/// Flags take true/false (also as strings); "1" and "0" are not guessed.
#[test]
fn flags_are_true_or_false() {
    let c = |v| Config::from_value(&json!({ "devMode": v }), "t").map(|l| l.config.dev_mode);
    assert!(c(json!(true)).unwrap());
    assert!(c(json!("TRUE")).unwrap());
    assert!(!c(json!("false")).unwrap());
    for v in [json!("1"), json!("0"), json!(1), json!("yes")] {
        assert_eq!(
            c(v).unwrap_err().to_string(),
            "invalid value for `devMode` in t: expected true or false"
        );
    }
}

/// `null` is "not set", as in laravel-echo-server's own files.
#[test]
fn null_keeps_the_default() {
    let c = Config::from_value(
        &json!({ "host": null, "authEndpoint": null, "databaseConfig": { "redis": { "port": null } } }),
        "t",
    )
    .unwrap()
    .config;
    assert_eq!(c, Config::default());
}

/// A laravel-echo-server file as its `configure` writes it reads without warnings.
#[test]
fn laravel_echo_server_file_reads_quietly() {
    let l = Config::from_value(
        &json!({
            "authHost": "http://localhost", "authEndpoint": "/broadcasting/auth", "clients": [],
            "database": "redis",
            "databaseConfig": { "redis": {}, "sqlite": { "databasePath": "/database/laravel-echo-server.sqlite" } },
            "devMode": false, "host": null, "port": "6001", "protocol": "http", "socketio": {},
            "secureOptions": 67108864, "sslCertPath": "", "sslKeyPath": "", "sslCertChainPath": "",
            "sslPassphrase": "", "subscribers": { "http": true, "redis": true },
            "apiOriginAllow": { "allowCors": false, "allowOrigin": "", "allowMethods": "", "allowHeaders": "" }
        }),
        "t",
    )
    .unwrap();
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    assert_eq!(l.config, Config::default());
}

/// Keys the schema does not use are reported with their path, each with its reason.
#[test]
fn ignored_keys_are_named_by_path() {
    let l = Config::from_value(
        &json!({
            "socketio": { "cookie": "io" },
            "databaseConfig": { "redis": { "sentinels": [], "family": 4 } },
            "metrics": { "typo": 1 }
        }),
        "t",
    )
    .unwrap();
    assert_eq!(
        l.warnings,
        [
            "`databaseConfig.redis.family` is not used by this server",
            "`databaseConfig.redis.sentinels` is not supported; connecting to 127.0.0.1:6379",
            "unknown key `metrics.typo` is ignored",
            "`socketio.cookie` has no effect on this server",
        ]
    );
}

/// Errors inside arrays name the element.
#[test]
fn errors_name_array_elements() {
    let e = Config::from_value(&json!({ "clients": [{ "appId": "a", "key": "" }] }), "t")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "invalid value for `clients[0].key` in t: expected a non-empty string"
    );
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Load `file` (written to a file named f.json) with these variables.
fn with_env(file: serde_json::Value, pairs: &[(&str, &str)]) -> Result<Config, String> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rust-echo-env-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("f.json"), file.to_string()).unwrap();
    let loaded = Config::load_with_env(&dir.join("f.json"), &vars(pairs));
    let _ = std::fs::remove_dir_all(&dir);
    loaded.map(|l| l.config).map_err(|e| e.to_string())
}

/// A string key keeps the variable's text: `1e5` is not the number 100000, a long run of digits
/// is not a float.
#[test]
fn environment_strings_stay_strings() {
    let c = with_env(
        json!({}),
        &[
            ("LARAVEL_ECHO_SERVER_REDIS_PASSWORD", "1e5"),
            (
                "RUST_ECHO_DATABASECONFIG__REDIS__KEYPREFIX",
                "12345678901234567890123",
            ),
            ("RUST_ECHO_SHM__NAME", "007"),
            ("RUST_ECHO_AUTHENDPOINT", "true"),
        ],
    )
    .unwrap();
    assert_eq!(c.redis.password.as_deref(), Some("1e5"));
    assert_eq!(c.redis.key_prefix, "12345678901234567890123");
    assert_eq!(c.shm.name.as_deref(), Some("007"));
    assert_eq!(c.auth_endpoint, "true");
}

/// A JSON number in a string key is kept as written when it is an integer, and refused when its
/// text would change (a fraction, an exponent, more digits than 64 bits hold).
#[test]
fn numbers_in_string_keys_keep_their_text() {
    let redis = |v: serde_json::Value| {
        Config::from_value(
            &json!({ "databaseConfig": { "redis": { "password": v } } }),
            "t",
        )
        .map(|l| l.config.redis.password)
        .map_err(|e| e.to_string())
    };
    assert_eq!(redis(json!(12345)).unwrap().as_deref(), Some("12345"));
    let refused = "invalid value for `databaseConfig.redis.password` in t: expected a string (quote numbers that are not whole)";
    assert_eq!(redis(json!(1e5)).unwrap_err(), refused);
    let long: serde_json::Value = serde_json::from_str("12345678901234567890123").unwrap();
    assert_eq!(redis(long).unwrap_err(), refused);
}

/// `trustedProxies` reads addresses and CIDR ranges, as an array or comma-separated.
#[test]
fn trusted_proxies() {
    let c = with_env(
        json!({}),
        &[("RUST_ECHO_TRUSTEDPROXIES", "10.0.0.0/8, 127.0.0.1")],
    )
    .unwrap();
    assert_ne!(
        c.trusted_proxies,
        crate::forwarded::TrustedProxies::default()
    );
    let e = Config::from_value(&json!({ "trustedProxies": ["not an address"] }), "t")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("invalid value for `trustedProxies` in t: "),
        "{e}"
    );
}

/// Each variable is parsed by its key's type, and an invalid one is named.
#[test]
fn environment_values_parse_by_type() {
    let c = with_env(
        json!({ "port": 6001, "databaseConfig": "not an object" }),
        &[
            ("LARAVEL_ECHO_SERVER_PORT", "6002"),
            ("LARAVEL_ECHO_SERVER_REDIS_HOST", "redis.test"),
            ("RUST_ECHO_CLIENTS", r#"[{"appId":"a","key":"k"}]"#),
            ("RUST_ECHO_AUTHHOST", "${APP_URL}"),
            ("APP_URL", "http://app.test"),
            ("RUST_ECHO_ALLOWEDORIGINS", "https://a.test, *.b.test"),
            ("RUST_ECHO_SOCKETIO__TRANSPORTS", r#"["websocket"]"#),
            ("RUST_ECHO_HEADERS", r#"{"X-A":"1"}"#),
            ("RUST_ECHO_MAXCONNECTIONS", "10"),
            ("RUST_ECHO_METRICS__ENABLED", "false"),
            ("RUST_ECHO_SHM__MODE", "0660"),
            ("RUST_ECHO_SHUTDOWNGRACEPERIOD", "2500"),
            ("RUST_ECHO_UNRELATED", "x"),
        ],
    )
    .unwrap();
    assert_eq!(c.port, 6002);
    assert_eq!(c.redis.host, "redis.test");
    assert_eq!(c.clients[0].app_id, "a");
    assert_eq!(c.auth_host, ["http://app.test"]);
    assert!(c.allowed_origins.allows("https://x.b.test"));
    assert!(!c.socketio.polling && c.socketio.websocket);
    assert_eq!(c.headers, [("X-A".to_owned(), "1".to_owned())]);
    assert_eq!(c.limits.max_connections, 10);
    assert!(!c.metrics.enabled);
    assert_eq!(c.shm.mode, 0o660);
    assert_eq!(c.shutdown_grace, std::time::Duration::from_millis(2500));

    let err = |pairs: &[(&str, &str)]| with_env(json!({}), pairs).unwrap_err();
    assert_eq!(
        err(&[("LARAVEL_ECHO_SERVER_PORT", "123456")]),
        "invalid value for `port` in environment variable LARAVEL_ECHO_SERVER_PORT: expected a port number (0-65535)"
    );
    assert_eq!(
        err(&[("RUST_ECHO_DEVMODE", "1")]),
        "invalid value for `devMode` in environment variable RUST_ECHO_DEVMODE: expected true or false"
    );
    assert_eq!(
        err(&[("RUST_ECHO_CLIENTS", r#"[{"appId":"a"}]"#)]),
        "invalid value for `clients[0]` in environment variable RUST_ECHO_CLIENTS: missing field `key`"
    );
}

/// The schema's defaults are laravel-echo-server's plus rust-echo's documented ones.
#[test]
fn defaults() {
    use super::*;
    use std::time::Duration;
    let expected = Config {
        auth_host: vec!["http://localhost".to_owned()],
        auth_endpoint: "/broadcasting/auth".to_owned(),
        auth_timeout: Duration::from_secs(10),
        clients: Vec::new(),
        apps: Vec::new(),
        redis: RedisConfig {
            host: "127.0.0.1".to_owned(),
            port: 6379,
            path: None,
            username: None,
            password: None,
            db: 0,
            key_prefix: String::new(),
        },
        dev_mode: false,
        host: None,
        port: 6001,
        pusher_port: None,
        protocol: Protocol::Http,
        tls: None,
        metrics: MetricsConfig {
            enabled: true,
            host: "127.0.0.1".to_owned(),
            port: 9601,
        },
        socketio: SocketIoOptions {
            path: "/socket.io".to_owned(),
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(5_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_http_buffer_size: 100_000,
            polling: true,
            websocket: true,
        },
        subscribers: Subscribers {
            http: true,
            redis: true,
        },
        api_origin_allow: ApiOriginAllow::default(),
        allowed_origins: crate::origin::AllowedOrigins::default(),
        trusted_proxies: crate::forwarded::TrustedProxies::default(),
        headers: Vec::new(),
        limits: Limits {
            max_channels_per_socket: 1_000,
            max_channel_name_length: 1_000,
            max_buffered_packets: 4_096,
            max_connections: 100_000,
            max_concurrent_auth: 100,
            client_events_per_second: 10,
            client_event_burst: 20,
        },
        shutdown_grace: Duration::from_secs(10),
        shm: ShmConfig {
            enabled: true,
            name: None,
            size: 16 * 1024 * 1024,
            mode: 0o600,
        },
    };
    assert_eq!(Config::default(), expected);
}

/// `apps` entries take Reverb's defaults; a Reverb `.env` makes the one app when `apps` is empty.
#[test]
fn pusher_apps() {
    use std::time::Duration;
    let loaded = Config::from_value(
        &json!({"apps": [
            {"id": "1", "key": "k1", "secret": "s1"},
            {"id": "2", "key": "k2", "secret": "s2", "allowedOrigins": ["*.example.com"],
             "pingInterval": 5, "activityTimeout": 7, "maxMessageSize": 100, "capacity": 3,
             "acceptClientEventsFrom": "all",
             "rateLimiting": {"enabled": true, "maxAttempts": 5, "terminateOnLimit": true}},
            {"id": "3", "key": "k3", "secret": "s3", "rateLimiting": {"enabled": false, "maxAttempts": 5}}
        ]}),
        "test",
    )
    .unwrap();
    let apps = &loaded.config.apps;
    assert_eq!(apps[0], super::PusherApp::new("1", "k1", "s1"));
    assert_eq!(apps[0].ping_interval, Duration::from_secs(60));
    assert_eq!(apps[0].activity_timeout, Duration::from_secs(30));
    assert_eq!(apps[0].max_message_size, 10_000);
    assert_eq!(apps[1].allowed_origins, ["*.example.com"]);
    assert_eq!(apps[1].ping_interval, Duration::from_secs(5));
    assert_eq!(apps[1].activity_timeout, Duration::from_secs(7));
    assert_eq!(apps[1].max_message_size, 100);
    assert_eq!(apps[1].capacity, Some(3));
    assert_eq!(apps[1].client_events, super::ClientEvents::All);
    assert_eq!(
        apps[1].rate_limit,
        Some(super::RateLimit {
            max_attempts: 5,
            decay: Duration::from_secs(60),
            terminate: true
        })
    );
    assert_eq!(apps[2].rate_limit, None, "off unless enabled");
    assert_eq!(apps[0].rate_limit, None);

    let err = Config::from_value(
        &json!({"apps": [{"id": "1", "key": "k", "secret": "s"}, {"id": "1", "key": "k2", "secret": "s"}]}),
        "test",
    )
    .unwrap_err();
    assert!(err.to_string().contains("apps"), "{err}");
    assert!(
        Config::from_value(
            &json!({"apps": [{"id": "1", "key": "", "secret": "s"}]}),
            "t"
        )
        .is_err()
    );

    let vars: BTreeMap<String, String> = [
        ("REVERB_APP_ID", "123"),
        ("REVERB_APP_KEY", "key"),
        ("REVERB_APP_SECRET", "secret"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let reverb = Config::from_value_with_env(json!({}), "t", &vars).unwrap();
    assert_eq!(
        reverb.config.apps,
        [super::PusherApp::new("123", "key", "secret")]
    );
    let both = Config::from_value_with_env(
        json!({"apps": [{"id": "1", "key": "k1", "secret": "s1"}]}),
        "t",
        &vars,
    )
    .unwrap();
    assert_eq!(both.config.apps.len(), 1);
    assert_eq!(both.config.apps[0].id, "1");
    // As a variable, the list is JSON.
    let mut vars = vars;
    vars.insert(
        "RUST_ECHO_APPS".to_owned(),
        r#"[{"id":"9","key":"k9","secret":"s9"}]"#.to_owned(),
    );
    let from_var = Config::from_value_with_env(json!({}), "t", &vars).unwrap();
    assert_eq!(from_var.config.apps[0].id, "9");
    vars.insert("RUST_ECHO_PUSHERPORT".to_owned(), "8080".to_owned());
    let port = Config::from_value_with_env(json!({}), "t", &vars).unwrap();
    assert_eq!(port.config.pusher_port, Some(8080));
    assert_eq!(Config::default().pusher_port, None);
}
