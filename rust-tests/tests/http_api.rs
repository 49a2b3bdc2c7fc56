//! The HTTP API: key checks, status, channel listings, users, publishing events.
mod common;

use common::{AuthStub, TestServer};
use serde_json::{Value, json};

/// Every `/apps/:appId` route needs a known app id and its key, by header or query.
#[tokio::test]
async fn keys_are_checked() {
    let s = TestServer::start(|_| {}).await;
    let forbidden = (403, r#"{"error":"Unauthorized"}"#.to_owned());
    assert_eq!(s.get("/apps/app/status").await, forbidden);
    assert_eq!(s.get("/apps/app/status?auth_key=wrong").await, forbidden);
    assert_eq!(
        s.get("/apps/other/channels?auth_key=secret").await,
        forbidden
    );
    assert_eq!(s.post("/apps/app/events", "{}").await, forbidden);
    assert_eq!(s.get("/apps/app/channels?auth_key=secret").await.0, 200);
    for header in ["Bearer secret", "secret"] {
        let res = reqwest::Client::new()
            .get(format!("{}/apps/app/channels", s.url()))
            .header("Authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
}

/// Status, channel list (with prefix filter), one channel; closed sockets leave no trace.
#[tokio::test]
async fn status_and_channels() {
    let s = TestServer::start(|_| {}).await;
    let (mut a, mut b) = (s.client().await, s.client_v2().await);
    a.subscribe("news").await;
    b.subscribe("news").await;
    b.subscribe("orders").await;
    s.wait_subscribers("news", 2).await;
    s.wait_subscribers("orders", 1).await;
    let (code, body) = s.get("/apps/app/status?auth_key=secret").await;
    assert_eq!(code, 200);
    let status: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["subscription_count"], 2);
    assert!(status["uptime"].as_f64().unwrap() > 0.0);
    assert!(status["memory_usage"]["rss"].as_u64().unwrap() > 0);
    assert_eq!(
        s.get("/apps/app/channels?auth_key=secret").await.1,
        r#"{"channels":{"news":{"occupied":true,"subscription_count":2},"orders":{"occupied":true,"subscription_count":1}}}"#
    );
    assert_eq!(
        s.get("/apps/app/channels?auth_key=secret&filter_by_prefix=ord")
            .await
            .1,
        r#"{"channels":{"orders":{"occupied":true,"subscription_count":1}}}"#
    );
    assert_eq!(
        s.get("/apps/app/channels/news?auth_key=secret").await.1,
        r#"{"occupied":true,"subscription_count":2}"#
    );
    assert_eq!(
        s.get("/apps/app/channels/empty?auth_key=secret").await.1,
        r#"{"occupied":false,"subscription_count":0}"#
    );
    assert_eq!(
        s.get("/apps/app/channels/news/users?auth_key=secret").await,
        (
            400,
            r#"{"error":"User list is only possible for Presence Channels"}"#.to_owned()
        )
    );
    a.close().await;
    b.close().await;
    s.wait_connections(0).await;
    s.wait_channels(r#"{"channels":{}}"#).await;
    let status: Value =
        serde_json::from_str(&s.get("/apps/app/status?auth_key=secret").await.1).unwrap();
    assert_eq!(status["subscription_count"], 0);
}

/// Presence users through the API.
#[tokio::test]
async fn presence_users() {
    let auth = AuthStub::laravel().await;
    let s = TestServer::start(|c| c.auth_host = vec![auth.url.clone()]).await;
    let mut c = s.client().await;
    c.emit(
        "subscribe",
        json!({"channel": "presence-lobby", "auth": {"headers": {"X-User": "9"}}}),
    )
    .await;
    assert_eq!(c.next_event().await.0, "presence:subscribed");
    assert_eq!(
        s.get("/apps/app/channels/presence-lobby/users?auth_key=secret")
            .await
            .1,
        r#"{"users":[{"id":9,"user_info":{"id":9}}]}"#
    );
    assert_eq!(
        s.get("/apps/app/channels/presence-lobby?auth_key=secret")
            .await
            .1,
        r#"{"occupied":true,"subscription_count":1,"user_count":1}"#
    );
}

/// `POST /apps/:appId/events`: channel or channels, data as object or JSON string, socket_id.
#[tokio::test]
async fn publishing_events() {
    let s = TestServer::start(|_| {}).await;
    let (mut a, mut b) = (s.client().await, s.client().await);
    for c in [&mut a, &mut b] {
        c.subscribe("x").await;
        c.subscribe("y").await;
    }
    s.wait_subscribers("x", 2).await;
    s.wait_subscribers("y", 2).await;
    let ok = (200, r#"{"message":"ok"}"#.to_owned());
    let path = "/apps/app/events?auth_key=secret";
    assert_eq!(
        s.post(path, r#"{"channel":"x","name":"N","data":{"v":1.0}}"#)
            .await,
        ok
    );
    assert_eq!(a.next_event_raw().await, r#"["N","x",{"v":1.0}]"#);
    assert_eq!(b.next_event_raw().await, r#"["N","x",{"v":1.0}]"#);
    assert_eq!(
        s.post(
            path,
            r#"{"channels":["x","y"],"name":"N","data":"{\"s\":true}"}"#
        )
        .await,
        ok
    );
    for c in [&mut a, &mut b] {
        assert_eq!(c.next_event_raw().await, r#"["N","x",{"s":true}]"#);
        assert_eq!(c.next_event_raw().await, r#"["N","y",{"s":true}]"#);
    }
    let body = format!(
        r#"{{"channel":"x","name":"N","data":"plain text","socket_id":"{}"}}"#,
        a.sid
    );
    assert_eq!(s.post(path, &body).await, ok);
    assert_eq!(b.next_event_raw().await, r#"["N","x","plain text"]"#);
    // Through the same ingress, after the event `a` must not get.
    assert_eq!(
        s.post(path, r#"{"channel":"y","name":"Marker","data":"end"}"#)
            .await,
        ok
    );
    assert_eq!(a.next_event_raw().await, r#"["Marker","y","end"]"#);
}

/// Bad bodies get 400 with a JSON error, never a crash.
#[tokio::test]
async fn bad_event_bodies() {
    let s = TestServer::start(|_| {}).await;
    let path = "/apps/app/events?auth_key=secret";
    let incomplete = (
        400,
        r#"{"error":"Event must include channel, event name and data"}"#.to_owned(),
    );
    for body in [
        r#"{"name":"N","data":{}}"#,
        r#"{"channel":"x","data":{}}"#,
        r#"{"channel":"x","name":"N"}"#,
        r#"{"channel":"x","name":"N","data":""}"#,
        r#"{"channel":"x","name":"N","data":null}"#,
        r#"{"channels":"x","name":"N","data":{}}"#,
        r#"{"channels":[1],"name":"N","data":{}}"#,
        r#"{"channel":"","name":"N","data":{}}"#,
    ] {
        assert_eq!(s.post(path, body).await, incomplete, "{body}");
    }
    for body in ["", "not json", "[1]", "{\"channel\":"] {
        let (code, text) = s.post(path, body).await;
        assert_eq!(code, 400, "{body}");
        assert!(
            text.starts_with(r#"{"error":"Request body must be a JSON object"#),
            "{text}"
        );
    }
    assert_eq!(s.get("/").await.0, 200);
}

/// With the HTTP subscriber off, publishing over HTTP is not offered.
#[tokio::test]
async fn http_subscriber_can_be_disabled() {
    let s = TestServer::start(|c| c.subscribers.http = false).await;
    assert_eq!(
        s.post(
            "/apps/app/events?auth_key=secret",
            r#"{"channel":"x","name":"N","data":{}}"#
        )
        .await
        .0,
        404
    );
    assert_eq!(s.get("/apps/app/status?auth_key=secret").await.0, 200);
}

/// `apiOriginAllow` and `headers` are added to API responses.
#[tokio::test]
async fn cors_and_custom_headers() {
    let s = TestServer::start(|c| {
        c.api_origin_allow.allow_cors = true;
        c.api_origin_allow.allow_origin = "http://app.test".into();
        c.api_origin_allow.allow_methods = "GET, POST".into();
        c.api_origin_allow.allow_headers = "Authorization".into();
        c.headers = vec![("X-Served-By".into(), "rust-echo".into())];
    })
    .await;
    let res = reqwest::get(format!("{}/apps/app/status", s.url()))
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://app.test"
    );
    assert_eq!(res.headers()["access-control-allow-methods"], "GET, POST");
    assert_eq!(
        res.headers()["access-control-allow-headers"],
        "Authorization"
    );
    assert_eq!(res.headers()["x-served-by"], "rust-echo");
}

/// `GET /health` needs no key and reports version, uptime, connections and Redis.
#[tokio::test]
async fn health() {
    let s = TestServer::start(|_| {}).await;
    let _c = s.client().await;
    let (code, body) = s.get("/health").await;
    assert_eq!(code, 200);
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(health["connections"], 1);
    assert_eq!(
        health["redis_connected"],
        Value::Null,
        "Redis subscriber off"
    );
    assert!(health["uptime"].as_f64().unwrap() > 0.0);
}
