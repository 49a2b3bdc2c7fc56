//! `allowedOrigins` on the Socket.IO handshake and CORS preflight on the HTTP API.
#![allow(clippy::unwrap_used)]
mod common;

use common::{Client, TestServer};
use rust_echo_server::origin::AllowedOrigins;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn restricted() -> TestServer {
    TestServer::start(|c| {
        c.allowed_origins =
            AllowedOrigins::parse(&["https://app.test".to_owned(), "*.example.com".to_owned()])
                .unwrap();
    })
    .await
}

/// WebSocket handshake status for an `Origin`.
async fn ws_status(s: &TestServer, origin: &str) -> u16 {
    let mut req = format!("ws://{}/socket.io/?EIO=4&transport=websocket", s.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("origin", origin.parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("{e}"),
    }
}

/// Listed origins connect; others get 403 on WebSocket and polling; no Origin is let through.
#[tokio::test]
async fn handshake_origins() {
    let s = restricted().await;
    assert_eq!(ws_status(&s, "https://app.test").await, 101);
    assert_eq!(ws_status(&s, "https://shop.example.com").await, 101);
    assert_eq!(ws_status(&s, "https://evil.test").await, 403);
    assert_eq!(ws_status(&s, "http://app.test").await, 403);

    let poll = |origin: &'static str| {
        let url = format!("{}/socket.io/?EIO=4&transport=polling", s.url());
        async move {
            reqwest::Client::new()
                .get(url)
                .header("Origin", origin)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(poll("https://evil.test").await, 403);
    assert_eq!(poll("https://app.test").await, 200);

    let mut c = Client::connect_with(s.addr, "/socket.io", 4, &[], None).await;
    c.subscribe("news").await;
    s.wait_subscribers("news", 1).await;
    s.publish("news", "E", "1", None);
    assert_eq!(c.next_event_raw().await, r#"["E","news",1]"#);
    assert_eq!(
        s.get("/apps/app/channels?auth_key=secret").await.0,
        200,
        "the API is not origin-checked"
    );
}

/// `OPTIONS` on API routes answers 204 with the `apiOriginAllow` headers, without a key.
#[tokio::test]
async fn cors_preflight() {
    let s = TestServer::start(|c| {
        c.api_origin_allow.allow_cors = true;
        c.api_origin_allow.allow_origin = "https://app.test".into();
        c.api_origin_allow.allow_methods = "GET, POST".into();
        c.api_origin_allow.allow_headers = "Authorization, Content-Type".into();
    })
    .await;
    let res = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/apps/app/events", s.url()),
        )
        .header("Origin", "https://app.test")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.test"
    );
    assert_eq!(res.headers()["access-control-allow-methods"], "GET, POST");
    assert_eq!(
        res.headers()["access-control-allow-headers"],
        "Authorization, Content-Type"
    );
}

/// An invalid entry is refused at start-up with the key named.
#[test]
fn invalid_entries_name_the_key() {
    let e = rust_echo_server::Config::from_value(
        &serde_json::json!({"allowedOrigins": ["bad host"]}),
        "f.json",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("invalid value for `allowedOrigins` in f.json: "),
        "{e}"
    );
    let ok = rust_echo_server::Config::from_value(
        &serde_json::json!({"allowedOrigins": "https://a.test, *.b.test"}),
        "env",
    )
    .unwrap();
    assert!(ok.config.allowed_origins.allows("https://x.b.test"));
}
