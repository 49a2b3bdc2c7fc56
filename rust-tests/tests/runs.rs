//! Bursts to one channel. The engine queues consecutive messages to the same room on each of its
//! sockets as one run; every socket must still get every message once and in order, `toOthers`
//! must hold inside a burst, and a message to another channel must keep its place between them.
//! Checked through the in-process bus and through Redis, whose subscriber hands over everything
//! it has received at once.
mod common;

use std::time::Duration;

use common::{Client, RedisServer, TestServer, eventually};

/// More than one run (64 messages) and one ingress batch (64) hold.
const BURST: usize = 150;

/// Message `n` of the burst: its channel and event, and whether it excludes client `a`.
fn message(n: usize) -> (&'static str, &'static str, bool) {
    if n % 11 == 5 {
        ("side", "Side", false)
    } else {
        ("feed", "E", n % 7 == 3)
    }
}

/// The events `a` (in `feed` and `side`) and `b` (in `feed`) must receive, in order.
fn expected() -> (Vec<String>, Vec<String>) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for n in 0..BURST {
        let (channel, event, excludes_a) = message(n);
        let raw = format!(r#"["{event}","{channel}",{n}]"#);
        if !excludes_a {
            a.push(raw.clone());
        }
        if channel == "feed" {
            b.push(raw);
        }
    }
    for list in [&mut a, &mut b] {
        list.push(r#"["Marker","feed","end"]"#.to_owned());
    }
    (a, b)
}

async fn clients(s: &TestServer) -> (Client, Client) {
    let (mut a, mut b) = (s.client().await, s.client_v2().await);
    a.subscribe("feed").await;
    a.subscribe("side").await;
    b.subscribe("feed").await;
    s.wait_subscribers("feed", 2).await;
    s.wait_subscribers("side", 1).await;
    (a, b)
}

/// Each client receives exactly its expected events: a lost or repeated message shifts the list.
async fn assert_received(a: &mut Client, b: &mut Client) {
    let (want_a, want_b) = expected();
    for (client, want) in [(a, want_a), (b, want_b)] {
        let mut got = Vec::new();
        while got.len() < want.len() {
            got.push(client.next_event_raw().await);
        }
        assert_eq!(got, want);
    }
}

#[tokio::test]
async fn a_burst_through_the_bus_arrives_once_in_order() {
    let s = TestServer::start(|_| {}).await;
    let (mut a, mut b) = clients(&s).await;
    for n in 0..BURST {
        let (channel, event, excludes_a) = message(n);
        let sender = excludes_a.then_some(a.sid.as_str());
        s.publish(channel, event, &n.to_string(), sender);
    }
    s.publish("feed", "Marker", r#""end""#, None);
    assert_received(&mut a, &mut b).await;
}

#[tokio::test]
async fn a_burst_through_redis_arrives_once_in_order() {
    let redis = RedisServer::start().await;
    let port = redis.port;
    let s = TestServer::start(move |c| {
        c.subscribers.redis = true;
        c.redis.port = port;
        c.redis.key_prefix = String::new();
    })
    .await;
    assert!(
        eventually(Duration::from_secs(5), || s.handle.redis_connected()).await,
        "redis subscriber did not connect"
    );
    let (mut a, mut b) = clients(&s).await;
    let mut burst: Vec<(String, String)> = (0..BURST)
        .map(|n| {
            let (channel, event, excludes_a) = message(n);
            let socket = if excludes_a {
                format!(r#""{}""#, a.sid)
            } else {
                "null".to_owned()
            };
            let payload = format!(r#"{{"event":"{event}","data":{n},"socket":{socket}}}"#);
            (channel.to_owned(), payload)
        })
        .collect();
    burst.push((
        "feed".to_owned(),
        r#"{"event":"Marker","data":"end"}"#.to_owned(),
    ));
    redis.publish_burst(&burst).await;
    assert_received(&mut a, &mut b).await;
}
