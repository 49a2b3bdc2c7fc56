//! Keys that describe the services the server talks to: Redis topologies and Pusher apps.

use super::{Config, with_env};

use std::collections::BTreeMap;

use serde_json::json;

/// Sentinels as "host:port" strings and cluster nodes as one environment string; a node without a
/// port gets its service's default port; a bad port is named with its key.
#[test]
fn redis_node_lists_as_strings() {
    let file = json!({ "databaseConfig": { "redis": {
        "sentinels": ["s2:26381", "s3"],
        "name": "cache-master",
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
    let sentinel = c.redis.sentinel.expect("sentinel");
    assert_eq!(sentinel.nodes, nodes(&[("s2", 26381), ("s3", 26379)]));
    assert_eq!(sentinel.master, "cache-master");
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

#[test]
fn cluster_redis_inherits_the_subscribers_connection() {
    let file = json!({
        "databaseConfig": { "redis": {
            "host": "10.0.0.5", "port": 6380, "password": "pw", "db": 2, "keyPrefix": "app_"
        } },
        "cluster": { "enabled": true }
    });
    let c = Config::from_value(&file, "t").unwrap().config;
    assert!(c.cluster.enabled);
    assert_eq!(
        (c.cluster.redis.host.as_str(), c.cluster.redis.port),
        ("10.0.0.5", 6380)
    );
    assert_eq!(c.cluster.redis.password.as_deref(), Some("pw"));
    assert_eq!(c.cluster.redis.db, 2);
    assert_eq!(
        c.cluster.redis.key_prefix, "",
        "the backplane has its own names"
    );
    // Keys set under `cluster.redis` win, one by one; a socket path is not inherited by a
    // connection that names its own host.
    let file = json!({
        "databaseConfig": { "redis": { "path": "/run/redis.sock", "password": "pw" } },
        "cluster": { "redis": { "host": "backplane", "db": 3 } }
    });
    let c = Config::from_value(&file, "t").unwrap().config.cluster;
    assert!(!c.enabled, "off unless enabled");
    assert_eq!((c.redis.host.as_str(), c.redis.path), ("backplane", None));
    assert_eq!((c.redis.db, c.redis.password.as_deref()), (3, Some("pw")));
}

#[test]
fn cluster_keys_from_the_environment() {
    let c = with_env(
        json!({}),
        &[
            ("RUST_ECHO_CLUSTER__ENABLED", "true"),
            ("RUST_ECHO_CLUSTER__NAMESPACE", "shop"),
            ("RUST_ECHO_CLUSTER__REDIS__PORT", "7000"),
        ],
    )
    .unwrap();
    assert!(c.cluster.enabled);
    assert_eq!(c.cluster.namespace, "shop");
    assert_eq!(c.cluster.redis.port, 7000);
    assert!(with_env(json!({}), &[("RUST_ECHO_CLUSTER__ENABLED", "yes")]).is_err());
    assert!(Config::from_value(&json!({"cluster": {"namespace": ""}}), "t").is_err());
}

/// The backplane follows the subscriber onto a Redis Cluster, or is given one of its own
/// (`cluster.redis.clusterNodes`, also from the environment); a host of its own is a standalone
/// server and inherits no cluster nodes.
#[test]
fn cluster_redis_on_a_redis_cluster() {
    let nodes = |v: &[(&str, u16)]| -> Vec<(String, u16)> {
        v.iter().map(|(h, p)| ((*h).to_owned(), *p)).collect()
    };
    let file = json!({
        "databaseConfig": { "redis": { "clusterNodes": ["n1:7000", "n2"], "password": "pw" } },
        "cluster": { "enabled": true }
    });
    let c = Config::from_value(&file, "t").unwrap().config.cluster;
    assert_eq!(c.redis.cluster_nodes, nodes(&[("n1", 7000), ("n2", 6379)]));
    assert_eq!(c.redis.password.as_deref(), Some("pw"));
    let file = json!({
        "databaseConfig": { "redis": { "clusterNodes": ["n1:7000"] } },
        "cluster": { "redis": { "host": "backplane" } }
    });
    let c = Config::from_value(&file, "t").unwrap().config.cluster;
    assert!(c.redis.cluster_nodes.is_empty(), "a host of its own");
    let c = with_env(
        json!({ "databaseConfig": { "redis": {
            "sentinels": ["s1"], "name": "mymaster"
        } } }),
        &[("RUST_ECHO_CLUSTER__REDIS__CLUSTERNODES", "b1:7100,b2:7101")],
    )
    .unwrap();
    assert_eq!(
        c.cluster.redis.cluster_nodes,
        nodes(&[("b1", 7100), ("b2", 7101)])
    );
    assert!(c.cluster.redis.sentinel.is_none(), "its own servers");
    assert!(
        c.redis.cluster_nodes.is_empty(),
        "the subscriber's are its own"
    );
}

#[test]
fn sentinels_as_ioredis_takes_them() {
    let file = json!({ "databaseConfig": { "redis": {
        "sentinels": [{ "host": "10.0.0.1", "port": 26380 }, { "host": "10.0.0.2" }],
        "name": "mymaster", "sentinelPassword": "sp", "password": "pw"
    } } });
    let c = Config::from_value(&file, "t").unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let s = c.config.redis.sentinel.expect("sentinel");
    assert_eq!(
        s.nodes,
        [
            ("10.0.0.1".to_owned(), 26380),
            ("10.0.0.2".to_owned(), 26379)
        ]
    );
    assert_eq!(
        (s.master.as_str(), s.password.as_deref()),
        ("mymaster", Some("sp"))
    );
    assert_eq!(
        c.config.redis.password.as_deref(),
        Some("pw"),
        "the master's"
    );
    assert_eq!(
        c.config.cluster.redis.sentinel.map(|s| s.master).as_deref(),
        Some("mymaster")
    );
    let e = Config::from_value(
        &json!({ "databaseConfig": { "redis": { "sentinels": [{ "host": "s" }] } } }),
        "t",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("databaseConfig.redis.name"), "{e}");
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
    assert_eq!(
        apps[1].rate_limit,
        Some(crate::config::RateLimit {
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
