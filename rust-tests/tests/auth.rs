//! Private-channel authorization: the request sent to the app, status handling, timeouts,
//! dead endpoints, races with disconnects and unsubscribes, connection reuse.
mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{AuthStub, Client, TestServer, until, until_eq};
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
    s.wait_subscribers("private-ok", 1).await;
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
    until("the auth request", || !stub.recorded().is_empty()).await;
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
    until("the auth request", || !stub.recorded().is_empty()).await;
    assert_eq!(stub.recorded()[0].headers["authorization"], "Bearer t0k");
}

/// A hung auth endpoint ends in `subscription_error(channel, 0)` after `authTimeout`, while
/// the endpoint has still not answered; the socket does not join.
#[tokio::test]
async fn timeout_gives_status_zero() {
    let stub = AuthStub::held(|_, _| reply(200, "true")).await;
    let s = TestServer::start(|c| {
        c.auth_host = vec![stub.url.clone()];
        c.auth_timeout = Duration::from_millis(300);
    })
    .await;
    let mut c = s.client().await;
    c.subscribe("private-slow").await;
    assert_eq!(
        c.next_event_raw().await,
        r#"["subscription_error","private-slow",0]"#
    );
    assert_eq!(stub.channels(), ["private-slow"]);
    assert_eq!(stub.answered(), 0, "the error came from the timeout");
    // The server gave up on the request: an answer now has nowhere to go.
    stub.release();
    c.subscribe("news").await;
    s.wait_subscribers("news", 1).await;
    s.publish("private-slow", "E", r#""late""#, None);
    s.assert_marker_next("news", &mut [&mut c]).await;
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
    let stub = AuthStub::held(|c, _| {
        let body = if c.starts_with("presence-") {
            r#"{"channel_data":{"user_id":1}}"#
        } else {
            "true"
        };
        reply(200, body)
    })
    .await;
    let s = TestServer::start(|c| c.auth_host = vec![stub.url.clone()]).await;
    let mut c = s.client().await;
    c.subscribe("private-a").await;
    c.subscribe("presence-b").await;
    until("both authorizations in flight", || {
        stub.recorded().len() == 2
    })
    .await;
    c.close().await;
    s.wait_connections(0).await;
    stub.release();
    until("both late answers", || stub.answered() == 2).await;
    // A later subscriber's round trip through the endpoint: by the time it has joined, the
    // server has long read the two late answers.
    let mut d = s.client().await;
    d.subscribe("private-after").await;
    s.wait_subscribers("private-after", 1).await;
    assert_eq!(
        s.get("/apps/app/channels?auth_key=secret").await.1,
        r#"{"channels":{"private-after":{"occupied":true,"subscription_count":1}}}"#
    );
    assert_eq!(
        s.get("/apps/app/channels/presence-b/users?auth_key=secret")
            .await
            .1,
        r#"{"users":[]}"#
    );
    d.subscribe("news").await;
    s.wait_subscribers("news", 1).await;
    s.publish("news", "E", "1", None);
    assert_eq!(d.next_event_raw().await, r#"["E","news",1]"#);
}

/// Unsubscribing while the authorization is in flight cancels the join.
#[tokio::test]
async fn unsubscribe_during_auth_cancels_the_join() {
    let stub = AuthStub::held(|_, _| reply(200, "true")).await;
    let s = TestServer::start(|c| c.auth_host = vec![stub.url.clone()]).await;
    let mut c = s.client().await;
    c.subscribe("private-a").await;
    until("the authorization in flight", || stub.recorded().len() == 1).await;
    c.emit("unsubscribe", json!({"channel": "private-a"})).await;
    // Packets of one socket are handled in order: once this later subscribe has joined, the
    // unsubscribe has been handled.
    c.subscribe("news").await;
    s.wait_subscribers("news", 1).await;
    stub.release();
    until("the late answer", || stub.answered() == 1).await;
    c.subscribe("private-after").await;
    s.wait_subscribers("private-after", 1).await;
    assert_eq!(s.subscribers("private-a").await, 0);
    s.publish("private-a", "E", "1", None);
    s.assert_marker_next("news", &mut [&mut c]).await;
}

/// Authorizations reuse kept-alive connections instead of opening one each.
#[tokio::test]
async fn auth_requests_share_connections() {
    let stub = AuthStub::start(|_, _| reply(200, "true")).await;
    let s = TestServer::start(|c| c.auth_host = vec![stub.url.clone()]).await;
    let mut c = s.client().await;
    for i in 0..20 {
        let channel = format!("private-c{i}");
        c.subscribe(&channel).await;
        // Joined: the answer has been read, so its connection is idle again.
        s.wait_subscribers(&channel, 1).await;
    }
    let peers: HashSet<_> = stub.recorded().iter().map(|r| r.peer).collect();
    assert_eq!(
        peers.len(),
        1,
        "20 sequential authorizations over one connection"
    );
}

/// Many sockets authorizing at once do not wait on each other: all 50 requests are at the
/// endpoint together before any is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_authorizations_overlap() {
    let stub = AuthStub::held(|_, _| reply(200, "true")).await;
    let s = TestServer::start(|c| c.auth_host = vec![stub.url.clone()]).await;
    let mut clients = Vec::new();
    for _ in 0..50 {
        clients.push(s.client().await);
    }
    for c in &mut clients {
        c.subscribe("private-all").await;
    }
    until_eq("50 authorizations in flight at once", 50, || {
        std::future::ready(stub.recorded().len())
    })
    .await;
    assert_eq!(stub.answered(), 0);
    stub.release();
    s.wait_subscribers("private-all", 50).await;
    s.publish("private-all", "E", "1", None);
    for c in &mut clients {
        assert_eq!(c.next_event_raw().await, r#"["E","private-all",1]"#);
    }
}
