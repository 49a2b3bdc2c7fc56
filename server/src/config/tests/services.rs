//! Keys that describe the services the server talks to: Redis topologies and Pusher apps.

use super::{Config, with_env};

use std::collections::BTreeMap;

use serde_json::json;

/// Sentinels and cluster nodes as ioredis takes them (objects or "host:port"), and as one
/// environment string; a node without a port gets its service's default port.
#[test]
fn redis_sentinels_and_cluster_nodes() {
    let file = json!({ "databaseConfig": { "redis": {
        "sentinels": [{ "host": "s1", "port": 26380 }, "s2:26381", { "host": "s3" }],
        "name": "cache-master",
        "sentinelPassword": "sp",
    }}});
    let c = with_env(
        file,
        &[(
            "RUST_ECHO_DATABASECONFIG__REDIS__CLUSTERNODES",
            "n1:7000, n2",
        )],
    )
    .unwrap();
    let nodes = |v: &[(&str, u16)]| -> Vec<(String, u16)> {
        v.iter().map(|(h, p)| ((*h).to_owned(), *p)).collect()
    };
    assert_eq!(
        c.redis.sentinels,
        nodes(&[("s1", 26380), ("s2", 26381), ("s3", 26379)])
    );
    assert_eq!(c.redis.sentinel_name, "cache-master");
    assert_eq!(c.redis.sentinel_password.as_deref(), Some("sp"));
    assert_eq!(c.redis.cluster_nodes, nodes(&[("n1", 7000), ("n2", 6379)]));
    let e = Config::from_value(
        &json!({ "databaseConfig": { "redis": { "sentinels": "s1:port" } } }),
        "t",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("`databaseConfig.redis.sentinels`"), "{e}");
    assert!(e.contains(r#"invalid port in "s1:port""#), "{e}");
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
             "acceptClientEventsFrom": "all"}
        ]}),
        "test",
    )
    .unwrap();
    let apps = &loaded.config.apps;
    assert_eq!(apps[0], crate::config::PusherApp::new("1", "k1", "s1"));
    assert_eq!(apps[0].ping_interval, Duration::from_secs(60));
    assert_eq!(apps[0].activity_timeout, Duration::from_secs(30));
    assert_eq!(apps[0].max_message_size, 10_000);
    assert_eq!(apps[1].allowed_origins, ["*.example.com"]);
    assert_eq!(apps[1].ping_interval, Duration::from_secs(5));
    assert_eq!(apps[1].activity_timeout, Duration::from_secs(7));
    assert_eq!(apps[1].max_message_size, 100);
    assert_eq!(apps[1].capacity, Some(3));
    assert_eq!(apps[1].client_events, crate::config::ClientEvents::All);

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
        [crate::config::PusherApp::new("123", "key", "secret")]
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
