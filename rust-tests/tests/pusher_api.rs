//! The Pusher HTTP API with real signed requests, as pusher-php-server (Laravel's `reverb` and
//! `pusher` drivers) sends them: events, batches, channel information, users, terminating
//! connections; bad and stale signatures; apps with channel spaces of their own.
mod common;

use common::pusher::{ID, KEY, PusherClient, SECRET, mixed_room, now, signed_query};
use common::{TestServer, http};
use rust_echo_server::config::PusherApp;
use serde_json::{Value, json};

async fn server() -> TestServer {
    TestServer::start(|c| {
        c.apps = vec![
            PusherApp::new(ID, KEY, SECRET),
            PusherApp::new("other-id", "other-key", "other-secret"),
        ]
    })
    .await
}

/// Send a request signed with `key`/`secret` at `timestamp`.
async fn signed_at(
    s: &TestServer,
    method: &str,
    path: &str,
    body: &str,
    params: &[(&str, &str)],
    (key, secret, timestamp): (&str, &str, u64),
) -> (u16, String) {
    let query = signed_query(method, path, body, params, key, secret, timestamp);
    let url = format!("{}{path}?{query}", s.url());
    let req = match method {
        "GET" => http().get(url),
        _ => http()
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_owned()),
    };
    let res = req.send().await.expect("request");
    (res.status().as_u16(), res.text().await.expect("body"))
}

async fn signed(s: &TestServer, method: &str, path: &str, body: &str) -> (u16, String) {
    signed_at(s, method, path, body, &[], (KEY, SECRET, now())).await
}

/// `terminate_connections` for `user`, answered 200.
async fn terminate(s: &TestServer, user: &str) {
    let path = format!("/apps/{ID}/users/{user}/terminate_connections");
    assert_eq!(signed(s, "POST", &path, "").await.0, 200);
}

fn events_path(app: &str) -> String {
    format!("/apps/{app}/events")
}

/// A signed event reaches the Pusher clients with `data` as sent and the Socket.IO clients
/// with the JSON inside it; `socket_id` leaves out that socket; `info` counts subscribers.
#[tokio::test]
async fn signed_events_reach_both_protocols() {
    let s = server().await;
    let (mut sio, mut p1, mut p2) = mixed_room(&s, "news").await;

    let body = json!({"name": "Shipped", "channels": ["news"], "data": "{\"id\":1}"}).to_string();
    assert_eq!(
        signed(&s, "POST", &events_path(ID), &body).await,
        (200, "{}".to_owned())
    );
    let expected = r#"{"event":"Shipped","data":"{\"id\":1}","channel":"news"}"#;
    assert_eq!(p1.next().await, expected);
    assert_eq!(p2.next().await, expected);
    assert_eq!(sio.next_event_raw().await, r#"["Shipped","news",{"id":1}]"#);

    let body = json!({"name": "Others", "channel": "news", "data": "plain text",
        "socket_id": p1.socket_id, "info": "subscription_count"})
    .to_string();
    let (status, answer) = signed(&s, "POST", &events_path(ID), &body).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&answer).expect("json"),
        json!({"channels": {"news": {"subscription_count": 3}}})
    );
    assert_eq!(
        p2.next().await,
        r#"{"event":"Others","data":"plain text","channel":"news"}"#
    );
    assert_eq!(
        sio.next_event_raw().await,
        r#"["Others","news","plain text"]"#
    );
    // p1 was left out: its next frame is the marker.
    s.publish("news", "Marker", "1", None);
    assert_eq!(
        p1.next().await,
        r#"{"event":"Marker","data":"1","channel":"news"}"#
    );
}

/// `batch_events` publishes each item.
#[tokio::test]
async fn batch_events() {
    let s = server().await;
    let mut p = PusherClient::connect(s.addr, KEY).await;
    p.subscribe("a").await;
    p.subscribe("b").await;
    let body = json!({"batch": [
        {"name": "One", "channel": "a", "data": "1"},
        {"name": "Two", "channel": "b", "data": "{}", "info": "subscription_count"},
    ]})
    .to_string();
    let (status, answer) = signed(&s, "POST", "/apps/app-id/batch_events", &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        serde_json::from_str::<Value>(&answer).expect("json"),
        json!({"batch": [{}, {"subscription_count": 1}]})
    );
    assert_eq!(
        p.next().await,
        r#"{"event":"One","data":"1","channel":"a"}"#
    );
    assert_eq!(
        p.next().await,
        r#"{"event":"Two","data":"{}","channel":"b"}"#
    );
}

/// Refused as Pusher refuses them: a wrong secret, a body changed after signing, a timestamp
/// more than 600 s away (401); an unknown app id (404). Unsigned requests on the same paths are
/// laravel-echo-server's API, as before.
#[tokio::test]
async fn bad_signatures_are_refused() {
    let s = server().await;
    let body = r#"{"name":"E","channel":"news","data":"1"}"#;
    let path = events_path(ID);
    let invalid = (401, "Authentication signature invalid.".to_owned());
    let wrong_secret = signed_at(&s, "POST", &path, body, &[], (KEY, "nope", now())).await;
    assert_eq!(wrong_secret, invalid);
    let other_key = signed_at(
        &s,
        "POST",
        &path,
        body,
        &[],
        ("other-key", "other-secret", now()),
    )
    .await;
    assert_eq!(other_key, invalid);

    let query = signed_query("POST", &path, body, &[], KEY, SECRET, now());
    let tampered = http()
        .post(format!("{}{path}?{query}", s.url()))
        .body(body.replace("news", "admin"))
        .send()
        .await
        .expect("request");
    assert_eq!(tampered.status().as_u16(), 401);

    // A minute past the 600 s allowed either way: the server reads its clock a second or two
    // after the client signed.
    for stale in [now() - 660, now() + 660] {
        let (status, text) = signed_at(&s, "POST", &path, body, &[], (KEY, SECRET, stale)).await;
        assert_eq!(
            (status, text.contains("Timestamp expired")),
            (401, true),
            "{text}"
        );
    }
    let within = signed_at(&s, "POST", &path, body, &[], (KEY, SECRET, now() - 500)).await;
    assert_eq!(within.0, 200);

    let unknown = signed_at(
        &s,
        "POST",
        "/apps/nope/events",
        body,
        &[],
        (KEY, SECRET, now()),
    )
    .await;
    assert_eq!(
        unknown,
        (404, "No matching application for ID [nope].".to_owned())
    );

    let (status, _) = s
        .post(
            "/apps/app/events?auth_key=secret",
            r#"{"channel":"news","name":"E","data":{"x":1}}"#,
        )
        .await;
    assert_eq!(status, 200, "laravel-echo-server's API is unchanged");
}

/// Channel information and the connection count count the sockets of both protocols; users of a
/// presence channel; Reverb's health check; terminating a user's connections closes its Pusher
/// sockets.
#[tokio::test]
async fn channels_users_and_terminate() {
    let s = server().await;
    let mut sio = s.client().await;
    sio.subscribe("news").await;
    let mut p = PusherClient::connect(s.addr, KEY).await;
    p.subscribe("news").await;
    let mut member = PusherClient::connect(s.addr, KEY).await;
    member
        .subscribe_presence("presence-room", json!({"user_id": 42, "user_info": {}}))
        .await;
    s.wait_subscribers("news", 2).await;

    let get = |path: &'static str, params: &'static [(&'static str, &'static str)]| {
        let s = &s;
        async move {
            let (status, body) = signed_at(s, "GET", path, "", params, (KEY, SECRET, now())).await;
            (
                status,
                serde_json::from_str::<Value>(&body).unwrap_or(Value::String(body)),
            )
        }
    };
    assert_eq!(
        get("/apps/app-id/channels", &[("info", "subscription_count")]).await,
        (
            200,
            json!({"channels": {"news": {"subscription_count": 2}, "presence-room": {}}})
        )
    );
    assert_eq!(
        get(
            "/apps/app-id/channels",
            &[("filter_by_prefix", "presence-"), ("info", "user_count")]
        )
        .await,
        (
            200,
            json!({"channels": {"presence-room": {"user_count": 1}}})
        )
    );
    assert_eq!(
        get(
            "/apps/app-id/channels/news",
            &[("info", "subscription_count")]
        )
        .await,
        (200, json!({"occupied": true, "subscription_count": 2}))
    );
    assert_eq!(
        get("/apps/app-id/channels/empty", &[]).await,
        (200, json!({"occupied": false}))
    );
    assert_eq!(
        get("/apps/app-id/channels/presence-room/users", &[]).await,
        (200, json!({"users": [{"id": 42}]}))
    );
    assert_eq!(get("/apps/app-id/channels/news/users", &[]).await.0, 400);
    // Connections in a channel, of both protocols; one in none is not counted.
    let _idle = PusherClient::connect(s.addr, KEY).await;
    assert_eq!(
        get("/apps/app-id/connections", &[]).await,
        (200, json!({"connections": 3}))
    );
    let up = http()
        .get(format!("http://{}/up", s.addr))
        .send()
        .await
        .expect("request");
    assert_eq!(up.status(), 200);
    assert_eq!(up.text().await.expect("body"), r#"{"health":"OK"}"#);
    assert_eq!(
        get("/apps/app-id/channels/presence-none/users", &[])
            .await
            .0,
        404
    );

    terminate(&s, "42").await;
    assert!(member.closed().await);
    p.send_raw(r#"{"event":"pusher:ping"}"#).await;
    assert_eq!(p.next().await, r#"{"event":"pusher:pong"}"#, "others stay");
}

/// Each further app has a channel space of its own: its events do not reach the default app's
/// clients, nor the default app's events its clients.
#[tokio::test]
async fn apps_have_their_own_channel_spaces() {
    let s = server().await;
    let mut default = PusherClient::connect(s.addr, KEY).await;
    let mut other = PusherClient::connect(s.addr, "other-key").await;
    default.subscribe("news").await;
    other.subscribe("news").await;
    let body = r#"{"name":"ForOther","channel":"news","data":"1"}"#;
    let answer = signed_at(
        &s,
        "POST",
        &events_path("other-id"),
        body,
        &[],
        ("other-key", "other-secret", now()),
    )
    .await;
    assert_eq!(answer.0, 200);
    s.publish("news", "ForDefault", "2", None);
    assert_eq!(
        other.next().await,
        r#"{"event":"ForOther","data":"1","channel":"news"}"#
    );
    assert_eq!(
        default.next().await,
        r#"{"event":"ForDefault","data":"2","channel":"news"}"#
    );
    // Neither got the other's: a marker through each app is next.
    s.publish("news", "Marker", "3", None);
    assert_eq!(
        default.next().await,
        r#"{"event":"Marker","data":"3","channel":"news"}"#
    );
    let marker = r#"{"name":"Marker","channel":"news","data":"4"}"#;
    let key = ("other-key", "other-secret", now());
    signed_at(&s, "POST", &events_path("other-id"), marker, &[], key).await;
    assert_eq!(
        other.next().await,
        r#"{"event":"Marker","data":"4","channel":"news"}"#
    );
}

/// `terminate_connections` closes the user's sockets of both protocols, and only those.
#[tokio::test]
async fn terminate_closes_the_users_sockets_of_both_protocols() {
    let auth = common::AuthStub::laravel().await;
    let url = auth.url.clone();
    let s = TestServer::start(move |c| {
        c.apps = vec![PusherApp::new(ID, KEY, SECRET)];
        c.auth_host = vec![url];
    })
    .await;
    let join = |user: &'static str| json!({"channel": "presence-room", "auth": {"headers": {"X-User": user}}});
    let mut sio = s.client().await;
    sio.emit("subscribe", join("42")).await;
    assert_eq!(sio.next_event().await.0, "presence:subscribed");
    let mut other = s.client().await;
    other.emit("subscribe", join("7")).await;
    assert_eq!(other.next_event().await.0, "presence:subscribed");
    let mut p = PusherClient::connect(s.addr, KEY).await;
    p.subscribe_presence(
        "presence-room",
        json!({"user_id": 42, "user_info": {"id": 42}}),
    )
    .await;

    terminate(&s, "42").await;
    assert!(p.closed().await);
    sio.disconnected_by_server().await;
    s.publish("presence-room", "Marker", "1", None);
    let (event, _) = other.next_event().await;
    assert!(event == "Marker" || event == "presence:leaving", "{event}");
}
