//! The Redis subscriber against a real `redis-server`: prefix handling, bad payloads, `toOthers`,
//! reconnecting after Redis restarts.
mod common;

use std::time::Duration;

use common::{RedisServer, TestServer, eventually, until, until_eq};

async fn server_on(redis: &RedisServer, prefix: &str) -> TestServer {
    let port = redis.port;
    let prefix = prefix.to_owned();
    let s = TestServer::start(move |c| {
        c.subscribers.redis = true;
        c.redis.port = port;
        c.redis.key_prefix = prefix;
    })
    .await;
    wait_connected(&s).await;
    s
}

async fn wait_connected(s: &TestServer) {
    assert!(
        eventually(Duration::from_secs(5), || s.handle.redis_connected()).await,
        "redis subscriber did not connect"
    );
}

/// Laravel publishes `laravel_database_news`; clients subscribed to `news` receive it with the
/// prefix stripped. Channels without the prefix are not delivered.
#[tokio::test]
async fn prefix_is_stripped() {
    let redis = RedisServer::start().await;
    let s = server_on(&redis, "laravel_database_").await;
    let mut c = s.client_v2().await;
    c.subscribe("news").await;
    s.wait_subscribers("news", 1).await;
    assert_eq!(
        redis.publish("news", r#"{"event":"E","data":0}"#).await,
        0,
        "pattern does not match"
    );
    assert_eq!(
        redis
            .publish(
                "laravel_database_news",
                r#"{"event":"App\\Events\\Ping","data":{"x":1},"socket":null}"#
            )
            .await,
        1
    );
    assert_eq!(
        c.next_event_raw().await,
        r#"["App\\Events\\Ping","news",{"x":1}]"#
    );
    // Delivered once: the next event through Redis is the next one published.
    let marker = r#"{"event":"Marker","data":"end"}"#;
    assert_eq!(redis.publish("laravel_database_news", marker).await, 1);
    assert_eq!(c.next_event_raw().await, r#"["Marker","news","end"]"#);
}

/// Invalid JSON and payloads without `event` are skipped; what follows is still delivered, in order.
#[tokio::test]
async fn bad_payloads_are_skipped() {
    let redis = RedisServer::start().await;
    let s = server_on(&redis, "").await;
    let mut c = s.client().await;
    c.subscribe("news").await;
    s.wait_subscribers("news", 1).await;
    for bad in [
        "not json",
        "[1,2]",
        r#"{"data":{}}"#,
        r#"{"event":42}"#,
        "",
        r#"{"event":"E","data":"#,
    ] {
        redis.publish("news", bad).await;
    }
    redis.publish("news", r#"{"event":"E","data":1}"#).await;
    redis.publish("news", r#"{"event":"E","data":2}"#).await;
    assert_eq!(c.next_event_raw().await, r#"["E","news",1]"#);
    assert_eq!(c.next_event_raw().await, r#"["E","news",2]"#);
    assert_eq!(s.handle.stats().snapshot().messages_dropped, 6);
}

/// The `socket` field excludes that socket (Laravel's `toOthers()`).
#[tokio::test]
async fn socket_field_excludes_sender() {
    let redis = RedisServer::start().await;
    let s = server_on(&redis, "").await;
    let (mut a, mut b) = (s.client().await, s.client().await);
    a.subscribe("chat").await;
    b.subscribe("chat").await;
    s.wait_subscribers("chat", 2).await;
    let payload = format!(
        r#"{{"event":"M","data":{{"socket":"{0}"}},"socket":"{0}"}}"#,
        a.sid
    );
    redis.publish("chat", &payload).await;
    assert_eq!(
        b.next_event_raw().await,
        format!(r#"["M","chat",{{"socket":"{}"}}]"#, a.sid)
    );
    // Through the same ingress, after the event `a` must not get.
    redis
        .publish("chat", r#"{"event":"Marker","data":"end"}"#)
        .await;
    for c in [&mut a, &mut b] {
        assert_eq!(c.next_event_raw().await, r#"["Marker","chat","end"]"#);
    }
}

/// Redis dies and comes back: the subscriber reconnects and subscribes again by itself.
#[tokio::test]
async fn reconnects_after_redis_restart() {
    let mut redis = RedisServer::start().await;
    let s = server_on(&redis, "p_").await;
    let mut c = s.client().await;
    c.subscribe("news").await;
    s.wait_subscribers("news", 1).await;
    redis.kill();
    until("the subscriber to notice Redis is gone", || {
        !s.handle.redis_connected()
    })
    .await;
    // Redis stays down for a while: an outage, not a wait for an assertion.
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.restart().await;
    wait_connected(&s).await;
    assert_eq!(
        redis
            .publish("p_news", r#"{"event":"Back","data":true}"#)
            .await,
        1
    );
    assert_eq!(c.next_event_raw().await, r#"["Back","news",true]"#);
}

/// With Redis down from the start the server still serves clients and other ingresses.
#[tokio::test]
async fn dead_redis_does_not_stop_the_server() {
    let port = common::redis_server::free_port();
    let s = TestServer::start(move |c| {
        c.subscribers.redis = true;
        c.redis.port = port;
    })
    .await;
    let mut c = s.client().await;
    c.subscribe("news").await;
    s.wait_subscribers("news", 1).await;
    s.publish("news", "E", "1", None);
    assert_eq!(c.next_event_raw().await, r#"["E","news",1]"#);
    assert!(!s.handle.redis_connected());
}

/// `password` and `db` from `databaseConfig.redis` are used for the subscriber's connection.
#[tokio::test]
async fn password_protected_redis() {
    let redis = RedisServer::start_with_password(Some("s3cret")).await;
    let port = redis.port;
    let s = TestServer::start(move |c| {
        c.subscribers.redis = true;
        c.redis.port = port;
        c.redis.password = Some("s3cret".to_owned());
        c.redis.db = 3;
    })
    .await;
    wait_connected(&s).await;
    let mut c = s.client().await;
    c.subscribe("news").await;
    s.wait_subscribers("news", 1).await;
    assert_eq!(redis.publish("news", r#"{"event":"E","data":1}"#).await, 1);
    assert_eq!(c.next_event_raw().await, r#"["E","news",1]"#);
}

/// A wrong password keeps the subscriber disconnected without stopping the server.
#[tokio::test]
async fn wrong_redis_password() {
    let redis = RedisServer::start_with_password(Some("right")).await;
    let port = redis.port;
    let s = TestServer::start(move |c| {
        c.subscribers.redis = true;
        c.redis.port = port;
        c.redis.password = Some("wrong".to_owned());
    })
    .await;
    // Redis itself reports the refused logins: the subscriber tried, was refused, and tried
    // again.
    until_eq("two refused logins", true, || async {
        redis.errors("WRONGPASS").await >= 2
    })
    .await;
    assert!(!s.handle.redis_connected());
    assert_eq!(s.get("/").await.0, 200);
}
