//! Private-channel authorization: the request sent to the app, status handling, timeouts,
//! dead endpoints, races with disconnects and unsubscribes, connection reuse.
mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{AuthStub, Client, TestServer};
use serde_json::json;

fn reply(status: u16, body: &str) -> common::auth_stub::Reply {
    (status, body.to_owned(), Duration::ZERO)
}

/// 200 joins; any other status is `subscription_error(channel, status)` and no join.
#[tokio::test]
async fn allowed_and_denied() {
    let stub = AuthStub::start(|c, _| match c {
        "private-ok" => reply(200, "true"),
        "private-created" => reply(201, "true"),
        "private-redirect" => reply(302, ""),
        "private-broken" => reply(500, "oops"),
        _ => reply(403, r#"{"message":""}"#),
    })
    .await;
    let s = TestServer::start(|c| c.auth_host = vec![stub.url.clone()]).await;
    let mut c = s.client().await;
    for (channel, status) in [
        ("private-no", 403),
        ("private-created", 201),
        ("private-redirect", 302),
        ("private-broken", 500),
    ] {
        c.subscribe(channel).await;
        assert_eq!(
            c.next_event_raw().await,
            format!(r#"["subscription_error","{channel}",{status}]"#)
        );
    }
    c.subscribe("private-ok").await;
    while stub.recorded().len() < 5 {
        common::settle().await;
    }
    common::settle().await;
    s.publish("private-no", "E", "0", None);
    s.publish("private-ok", "E", "1", None);
    assert_eq!(c.next_event_raw().await, r#"["E","private-ok",1]"#);
}

/// The request: form field `channel_name`, the client's auth headers, the handshake's cookie and
/// browser headers, `X-Requested-With`.
#[tokio::test]
async fn request_carries_what_laravel_needs() {
    let stub = AuthStub::start(|_, _| reply(200, "true")).await;
    let s = TestServer::start(|c| c.auth_host = vec![stub.url.clone()]).await;
    let headers = [
        ("Cookie", "laravel_session=abc; XSRF-TOKEN=x"),
        ("Origin", "http://app.test"),
        ("User-Agent", "Mozilla/5.0 test"),
    ];
    let mut c = Client::connect_with(s.addr, "/socket.io", 4, &headers, None).await;
    c.emit(
        "subscribe",
        json!({"channel": "private-orders.1", "auth": {"headers": {"X-CSRF-TOKEN": "tok"}}}),
    )
    .await;
    while stub.recorded().is_empty() {
        common::settle().await;
    }
    let r = &stub.recorded()[0];
    assert_eq!(r.body, "channel_name=private-orders.1");
    assert_eq!(
        r.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(r.headers["x-csrf-token"], "tok");
    assert_eq!(r.headers["cookie"], "laravel_session=abc; XSRF-TOKEN=x");
    assert_eq!(r.headers["x-requested-with"], "XMLHttpRequest");
    assert_eq!(r.headers["origin"], "http://app.test");
    assert_eq!(r.headers["user-agent"], "Mozilla/5.0 test");
    assert_eq!(r.headers["x-forwarded-for"], "127.0.0.1");
}

/// socket.io-client ≥ 3 sends Echo's `auth.headers` in CONNECT; they reach the app too.
#[tokio::test]
async fn connect_payload_headers_are_forwarded() {
    let stub = AuthStub::start(|_, _| reply(200, "true")).await;
    let s = TestServer::start(|c| c.auth_host = vec![stub.url.clone()]).await;
    let auth = json!({"headers": {"Authorization": "Bearer t0k"}});
    let mut c = Client::connect_with(s.addr, "/socket.io", 4, &[], Some(auth)).await;
    c.subscribe("private-x").await;
    while stub.recorded().is_empty() {
        common::settle().await;
    }
    assert_eq!(stub.recorded()[0].headers["authorization"], "Bearer t0k");
}

/// A hung auth endpoint ends in `subscription_error(channel, 0)` after `authTimeout`.
#[tokio::test]
async fn timeout_gives_status_zero() {
    let stub = AuthStub::start(|_, _| (200, "true".to_owned(), Duration::from_secs(3))).await;
    let s = TestServer::start(|c| {
        c.auth_host = vec![stub.url.clone()];
        c.auth_timeout = Duration::from_millis(300);
    })
    .await;
    let mut c = s.client().await;
    let started = Instant::now();
    c.subscribe("private-slow").await;
    assert_eq!(
        c.next_event_raw().await,
        r#"["subscription_error","private-slow",0]"#
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// Nothing listening at the auth host: status 0, the server carries on.
#[tokio::test]
async fn dead_endpoint_gives_status_zero() {
    let port = common::redis_server::free_port();
    let s = TestServer::start(|c| c.auth_host = vec![format!("http://127.0.0.1:{port}")]).await;
    let mut c = s.client_v2().await;
    c.subscribe("presence-room").await;
    assert_eq!(
        c.next_event_raw().await,
        r#"["subscription_error","presence-room",0]"#
    );
}

/// A client that leaves while its authorization is in flight: nothing joins, nothing breaks.
#[tokio::test]
async fn disconnect_during_auth_is_harmless() {
    let stub = AuthStub::start(|c, _| {
        let body = if c.starts_with("presence-") {
            r#"{"channel_data":{"user_id":1}}"#
        } else {
            "true"
        };
        (200, body.to_owned(), Duration::from_millis(300))
    })
    .await;
    let s = TestServer::start(|c| c.auth_host = vec![stub.url.clone()]).await;
    let mut c = s.client().await;
    c.subscribe("private-a").await;
    c.subscribe("presence-b").await;
    common::settle().await;
    c.close().await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        s.get("/apps/app/channels?auth_key=secret").await.1,
        r#"{"channels":{}}"#
    );
    assert_eq!(
        s.get("/apps/app/channels/presence-b/users?auth_key=secret")
            .await
            .1,
        r#"{"users":[]}"#
    );
    let mut d = s.client().await;
    d.subscribe("news").await;
    common::settle().await;
    s.publish("news", "E", "1", None);
    assert_eq!(d.next_event_raw().await, r#"["E","news",1]"#);
}

/// Unsubscribing while the authorization is in flight cancels the join.
#[tokio::test]
async fn unsubscribe_during_auth_cancels_the_join() {
    let stub = AuthStub::start(|_, _| (200, "true".to_owned(), Duration::from_millis(300))).await;
    let s = TestServer::start(|c| c.auth_host = vec![stub.url.clone()]).await;
    let mut c = s.client().await;
    c.subscribe("private-a").await;
    common::settle().await;
    c.emit("unsubscribe", json!({"channel": "private-a"})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.publish("private-a", "E", "1", None);
    c.expect_no_event(200).await;
}

/// Authorizations reuse kept-alive connections instead of opening one each.
#[tokio::test]
async fn auth_requests_share_connections() {
    let stub = AuthStub::start(|_, _| reply(200, "true")).await;
    let s = TestServer::start(|c| c.auth_host = vec![stub.url.clone()]).await;
    let mut c = s.client().await;
    for i in 0..20 {
        c.subscribe(&format!("private-c{i}")).await;
        while stub.recorded().len() <= i {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let peers: HashSet<_> = stub.recorded().iter().map(|r| r.peer).collect();
    assert_eq!(
        peers.len(),
        1,
        "20 sequential authorizations over one connection"
    );
}

/// Many sockets authorizing at once do not wait on each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_authorizations_overlap() {
    let stub = AuthStub::start(|_, _| (200, "true".to_owned(), Duration::from_millis(200))).await;
    let s = TestServer::start(|c| c.auth_host = vec![stub.url.clone()]).await;
    let mut clients = Vec::new();
    for _ in 0..50 {
        clients.push(s.client().await);
    }
    let started = Instant::now();
    for c in &mut clients {
        c.subscribe("private-all").await;
    }
    while stub.recorded().len() < 50 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.publish("private-all", "E", "1", None);
    for c in &mut clients {
        assert_eq!(c.next_event_raw().await, r#"["E","private-all",1]"#);
    }
    // Serialized, 50 × 200 ms would take 10 s.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
