//! `/metrics` on its own listener, scraped and parsed as Prometheus would: connections,
//! subscriptions by kind, messages in by ingress and out, auth latency and failures by status,
//! Redis reconnects, drops and disconnects by reason.
mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{AuthStub, RedisServer, TestServer, WAIT, eventually, until_eq};

/// Parse the exposition format into `series → value` (`name{labels}` as written).
fn parse(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("series and value");
            (series.to_owned(), value.parse().expect("number"))
        })
        .collect()
}

async fn scrape(s: &TestServer) -> HashMap<String, f64> {
    let addr = s.handle.metrics_addr().expect("metrics listener up");
    let res = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("scrape");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = res.text().await.expect("body");
    assert!(text.ends_with("# EOF\n"), "complete exposition: {text}");
    parse(&text)
}

fn value(m: &HashMap<String, f64>, series: &str) -> f64 {
    *m.get(series)
        .unwrap_or_else(|| panic!("{series} missing from {m:#?}"))
}

async fn metrics_server(auth: &AuthStub, redis: Option<&RedisServer>) -> TestServer {
    let (url, redis_port) = (auth.url.clone(), redis.map(|r| r.port));
    TestServer::start(move |c| {
        c.auth_host = vec![url];
        c.metrics.port = 0;
        if let Some(port) = redis_port {
            c.subscribers.redis = true;
            c.redis.port = port;
        }
    })
    .await
}

#[tokio::test]
async fn metrics_follow_what_clients_and_publishers_do() {
    let auth = AuthStub::start(|channel, _| match channel {
        "private-denied" => (403, "no".to_owned(), Duration::ZERO),
        c if c.starts_with("presence-") => (
            200,
            r#"{"channel_data":{"user_id":1,"user_info":{}}}"#.to_owned(),
            Duration::from_millis(20),
        ),
        _ => (200, "true".to_owned(), Duration::ZERO),
    })
    .await;
    let s = metrics_server(&auth, None).await;
    let m = scrape(&s).await;
    assert_eq!(value(&m, "rust_echo_connections"), 0.0);

    let mut a = s.client().await;
    let mut b = s.client_v2().await;
    a.subscribe("news").await;
    a.subscribe("private-orders").await;
    a.subscribe("presence-room").await;
    assert_eq!(a.next_event().await.0, "presence:subscribed");
    b.subscribe("news").await;
    b.subscribe("private-denied").await;
    assert_eq!(b.next_event().await.0, "subscription_error");
    s.wait_subscribers("news", 2).await;
    s.wait_subscribers("private-orders", 1).await;
    s.publish("news", "App\\Events\\Posted", "{}", None);
    a.next_event().await;
    b.next_event().await;
    let (status, _) = s
        .post(
            "/apps/app/events?auth_key=secret",
            r#"{"channel":"news","name":"Http","data":{}}"#,
        )
        .await;
    assert_eq!(status, 200);
    a.next_event().await;

    let m = scrape(&s).await;
    assert_eq!(value(&m, "rust_echo_connections"), 2.0);
    assert_eq!(value(&m, r#"rust_echo_subscriptions{kind="public"}"#), 2.0);
    assert_eq!(value(&m, r#"rust_echo_subscriptions{kind="private"}"#), 1.0);
    assert_eq!(
        value(&m, r#"rust_echo_subscriptions{kind="presence"}"#),
        1.0
    );
    assert_eq!(
        value(&m, r#"rust_echo_messages_in_total{ingress="memory"}"#),
        1.0
    );
    assert_eq!(
        value(&m, r#"rust_echo_messages_in_total{ingress="http"}"#),
        1.0
    );
    assert_eq!(value(&m, "rust_echo_messages_out_total"), 2.0);
    assert_eq!(value(&m, "rust_echo_auth_granted_total"), 2.0);
    assert_eq!(
        value(&m, r#"rust_echo_auth_failures_total{status="403"}"#),
        1.0
    );
    assert_eq!(value(&m, "rust_echo_auth_duration_seconds_count"), 3.0);
    // The presence answer took 20 ms: not in the 5 ms bucket, in the 40 ms one.
    assert!(value(&m, r#"rust_echo_auth_duration_seconds_bucket{le="0.04"}"#) >= 1.0);
    assert!(value(&m, "rust_echo_auth_duration_seconds_sum") >= 0.02);

    a.emit(
        "unsubscribe",
        serde_json::json!({ "channel": "private-orders" }),
    )
    .await;
    a.close().await;
    b.close().await;
    s.wait_connections(0).await;
    let gauges = || async {
        let m = scrape(&s).await;
        ["public", "private", "presence"]
            .map(|kind| value(&m, &format!(r#"rust_echo_subscriptions{{kind="{kind}"}}"#)))
    };
    until_eq("every subscription gauge back to 0", [0.0; 3], gauges).await;
    let m = scrape(&s).await;
    assert_eq!(value(&m, "rust_echo_connections"), 0.0);
    let disconnects: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with("rust_echo_disconnects_total"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(disconnects, 2.0);
}

#[tokio::test]
async fn redis_reconnects_and_invalid_messages_are_counted() {
    let auth = AuthStub::laravel().await;
    let mut redis = RedisServer::start().await;
    let s = metrics_server(&auth, Some(&redis)).await;
    let connected = || s.handle.redis_connected();
    assert!(eventually(WAIT, connected).await, "subscribed");
    redis.publish("news", "not json").await;
    // Count it before Redis dies: a message still in its output buffer dies with it.
    until_eq("the invalid message counted", 1.0, || async {
        value(
            &scrape(&s).await,
            r#"rust_echo_dropped_total{reason="invalid_message"}"#,
        )
    })
    .await;
    redis.kill();
    assert!(eventually(WAIT, || !connected()).await, "disconnected");
    redis.restart().await;
    assert!(eventually(WAIT, connected).await, "subscribed again");
    let m = scrape(&s).await;
    assert_eq!(value(&m, "rust_echo_redis_reconnects_total"), 1.0);
    assert_eq!(
        value(&m, r#"rust_echo_dropped_total{reason="invalid_message"}"#),
        1.0
    );
}

#[tokio::test]
async fn metrics_can_be_switched_off() {
    let s = TestServer::start(|c| c.metrics.enabled = false).await;
    assert_eq!(s.handle.metrics_addr(), None);
}
