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

/// After an outage long enough for the retry delay to reach its cap, the subscriber is back
/// within a few retries of Redis accepting connections, and every event Redis then hands to a
/// subscriber reaches the client, in order. Pub/Sub keeps nothing: each publish made between
/// Redis's return and the new `PSUBSCRIBE` reaches no one (PUBLISH answers 0). With a 5 s cap
/// that was about 5 s of a steady publisher's events; now it is at most a quarter second.
#[tokio::test]
async fn resubscribes_quickly_after_a_long_outage() {
    let mut redis = RedisServer::start().await;
    let s = server_on(&redis, "").await;
    let mut c = s.client().await;
    c.subscribe("news").await;
    assert!(
        publish_until_received(&redis, &mut c).await,
        "subscribed before the outage"
    );
    redis.kill();
    assert!(
        eventually(Duration::from_secs(5), || !s.handle.redis_connected()).await,
        "the subscriber noticed Redis is gone"
    );
    // While Redis is down a listener on its port takes each reconnect attempt and closes it, so
    // the test knows when the subscriber has just failed and starts waiting. After eight
    // failures in a row the delay is at its cap (it doubles from the first).
    let stand_in = tokio::net::TcpListener::bind(("127.0.0.1", redis.port))
        .await
        .expect("redis port free while redis is down");
    for _ in 0..8 {
        let (conn, _) = stand_in.accept().await.expect("a reconnect attempt");
        drop(conn);
    }
    drop(stand_in);
    redis.restart().await;

    // A steady publisher from the moment Redis is back: one event every 10 ms.
    let mut pace = tokio::time::interval(Duration::from_millis(10));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut unheard, mut heard) = (0u32, Vec::new());
    while heard.len() < 20 && unheard < 2_000 {
        pace.tick().await;
        let n = heard.len() + usize::try_from(unheard).unwrap_or(0);
        let payload = format!(r#"{{"event":"E","data":{n}}}"#);
        if redis.publish("news", &payload).await >= 1 {
            heard.push(n);
        } else {
            unheard += 1;
        }
    }
    for n in heard {
        let mut event = c.next_event_raw().await;
        while event.starts_with(r#"["Ready""#) {
            event = c.next_event_raw().await;
        }
        assert_eq!(event, format!(r#"["E","news",{n}]"#));
    }
    assert!(
        unheard < 100,
        "{unheard} events published after Redis returned reached no subscriber"
    );
}

/// Publish markers until one reaches the client (its subscription may still be in flight).
async fn publish_until_received(redis: &RedisServer, c: &mut common::Client) -> bool {
    for _ in 0..100 {
        redis.publish("news", r#"{"event":"Ready","data":0}"#).await;
        let wait = Duration::from_millis(100);
        if tokio::time::timeout(wait, c.next_event_raw()).await.is_ok() {
            return true;
        }
    }
    false
}
