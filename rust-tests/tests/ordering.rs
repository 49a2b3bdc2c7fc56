//! A socket's `subscribe`, `unsubscribe` and `client event` take effect in the order it sent
//! them; only the wait for the app's authorization is asynchronous. An SPA that joins and
//! leaves channels in one tick must not stay in any of them.
//!
//! The raw clients here are socket.io-client 2 style (Engine.IO 3): the client sends the
//! heartbeats, so a test that is busy with the HTTP API for a few seconds on a loaded machine
//! does not lose its connection to an unanswered server ping.
mod common;

use std::time::Duration;

use common::{AuthStub, Client, TestServer, WAIT, eventually};
use serde_json::json;

const BURST: usize = 40;

async fn subscribe(c: &mut Client, channel: &str, user: u32) {
    c.emit(
        "subscribe",
        json!({"channel": channel, "auth": {"headers": {"X-User": user.to_string()}}}),
    )
    .await;
}

async fn unsubscribe(c: &mut Client, channel: &str) {
    c.emit("unsubscribe", json!({"channel": channel})).await;
}

/// `subscription_count` of a channel, from the HTTP API.
async fn subscribers(s: &TestServer, channel: &str) -> u64 {
    let (status, body) = s
        .get(&format!("/apps/app/channels/{channel}?auth_key=secret"))
        .await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    v["subscription_count"].as_u64().expect("count")
}

async fn wait_subscribers(s: &TestServer, channel: &str, n: u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while subscribers(s, channel).await != n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{channel} never reached {n} subscribers"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Publish to every channel of the burst, then to `control`, which the client joined after the
/// burst: the first event it gets must be the control one.
async fn assert_none_delivered(s: &TestServer, c: &mut Client, channels: &[String], control: &str) {
    for ch in channels {
        s.publish(ch, "Left", "1", None);
    }
    s.publish(control, "Control", "1", None);
    loop {
        let (name, args) = c.next_event().await;
        match name.as_str() {
            "Control" => return assert_eq!(args[0].as_str(), Some(control)),
            // An answer that came before its unsubscribe arrived joined and was then left.
            "presence:subscribed" => continue,
            _ => panic!("a channel left in the same tick still delivers: {name} {args:?}"),
        }
    }
}

/// Sends 40 subscribe+unsubscribe pairs back to back, then joins a public control channel.
async fn burst(s: &TestServer, c: &mut Client, prefix: &str) -> Vec<String> {
    let channels: Vec<String> = (0..BURST).map(|i| format!("{prefix}{i}")).collect();
    for ch in &channels {
        subscribe(c, ch, 1).await;
        unsubscribe(c, ch).await;
    }
    c.subscribe("control").await;
    wait_subscribers(s, "control", 1).await;
    channels
}

/// `Echo.channel(x)` then `Echo.leaveChannel(x)` in one tick, 40 public channels: none is
/// still joined and none delivers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_channels_left_in_the_same_tick_stay_left() {
    let s = TestServer::start(|_| {}).await;
    let mut c = s.client_v2().await;
    let channels = burst(&s, &mut c, "news.").await;
    assert_eq!(
        s.get("/apps/app/channels?auth_key=secret").await.1,
        r#"{"channels":{"control":{"occupied":true,"subscription_count":1}}}"#,
        "only the control channel is subscribed"
    );
    assert_none_delivered(&s, &mut c, &channels, "control").await;
}

/// The same with private and presence channels: the app's answers to the cancelled subscribes
/// arrive after the unsubscribe and are dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guarded_channels_left_before_the_app_answers_stay_left() {
    for prefix in ["private-orders.", "presence-room."] {
        let auth = AuthStub::laravel().await;
        let s = TestServer::start(|c| c.auth_host = vec![auth.url.clone()]).await;
        let mut c = s.client_v2().await;
        let channels = burst(&s, &mut c, prefix).await;
        // Every cancelled subscribe was still asked about and answered.
        assert!(
            eventually(WAIT, || auth.recorded().len() == BURST).await,
            "{} auth requests",
            auth.recorded().len()
        );
        // Another socket's subscribe, answered after all of them, has taken effect.
        let mut d = s.client_v2().await;
        subscribe(&mut d, &format!("{prefix}control"), 2).await;
        wait_subscribers(&s, &format!("{prefix}control"), 1).await;
        assert_eq!(
            s.get("/apps/app/channels?auth_key=secret").await.1,
            format!(
                r#"{{"channels":{{"control":{{"occupied":true,"subscription_count":1}},"{prefix}control":{{"occupied":true,"subscription_count":1}}}}}}"#
            ),
            "only the control channels are subscribed"
        );
        assert_none_delivered(&s, &mut c, &channels, "control").await;
    }
}

/// subscribe → unsubscribe → subscribe in one tick ends subscribed, for every kind of channel,
/// and a presence channel announces the member once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_unsubscribe_subscribe_ends_subscribed() {
    let auth = AuthStub::laravel().await;
    let s = TestServer::start(|c| c.auth_host = vec![auth.url.clone()]).await;
    for channel in ["news", "private-orders.1", "presence-room.1"] {
        let mut c = s.client_v2().await;
        subscribe(&mut c, channel, 7).await;
        unsubscribe(&mut c, channel).await;
        subscribe(&mut c, channel, 7).await;
        // The first subscribe alone can show one subscriber; a marker subscribed after the three
        // takes effect after all of them, so once it shows, the last subscribe has too.
        let marker = format!("marker-{channel}");
        subscribe(&mut c, &marker, 7).await;
        wait_subscribers(&s, &marker, 1).await;
        wait_subscribers(&s, channel, 1).await;
        s.publish(channel, "E", "1", None);
        // A presence channel lists its members on every granted subscribe: once when the first
        // answer came after the unsubscribe (and was dropped), twice when it came before.
        loop {
            let raw = c.next_event_raw().await;
            if raw.starts_with(r#"["presence:subscribed""#) {
                assert_eq!(
                    raw,
                    format!(
                        r#"["presence:subscribed","{channel}",[{{"user_id":7,"user_info":{{"id":7}}}}]]"#
                    )
                );
                continue;
            }
            assert_eq!(raw, format!(r#"["E","{channel}",1]"#));
            break;
        }
        c.close().await;
        wait_subscribers(&s, channel, 0).await;
    }
}

/// A whisper sent right after the subscribe of its private channel reaches the others once the
/// app grants the subscribe; one sent after the unsubscribe does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whispers_take_effect_after_the_subscribe_before_them() {
    let auth = AuthStub::start(|_, _| (200, "true".to_owned(), Duration::from_millis(100))).await;
    let s = TestServer::start(|c| c.auth_host = vec![auth.url.clone()]).await;
    let mut a = s.client_v2().await;
    a.subscribe("private-chat").await;
    wait_subscribers(&s, "private-chat", 1).await;

    let mut b = s.client_v2().await;
    b.subscribe("private-chat").await;
    let whisper =
        |n: u32| json!({"channel": "private-chat", "event": "client-typing", "data": {"n": n}});
    b.emit("client event", whisper(1)).await;
    b.emit("client event", whisper(2)).await;
    assert_eq!(
        a.next_event_raw().await,
        r#"["client-typing","private-chat",{"n":1}]"#
    );
    assert_eq!(
        a.next_event_raw().await,
        r#"["client-typing","private-chat",{"n":2}]"#
    );

    unsubscribe(&mut b, "private-chat").await;
    b.emit("client event", whisper(3)).await;
    wait_subscribers(&s, "private-chat", 1).await;
    s.publish("private-chat", "Control", "1", None);
    assert_eq!(a.next_event_raw().await, r#"["Control","private-chat",1]"#);
}

/// A whisper held behind a subscribe the app denies is dropped with it.
#[tokio::test]
async fn whispers_behind_a_denied_subscribe_are_dropped() {
    let auth = AuthStub::start(|_, headers| match headers["x-user"].to_str() {
        Ok("1") => (200, "true".to_owned(), Duration::ZERO),
        _ => (403, "{}".to_owned(), Duration::from_millis(50)),
    })
    .await;
    let s = TestServer::start(|c| c.auth_host = vec![auth.url.clone()]).await;
    let mut a = s.client_v2().await;
    subscribe(&mut a, "private-chat", 1).await;
    wait_subscribers(&s, "private-chat", 1).await;
    let mut b = s.client_v2().await;
    subscribe(&mut b, "private-chat", 2).await;
    b.emit(
        "client event",
        json!({"channel": "private-chat", "event": "client-x", "data": 1}),
    )
    .await;
    assert_eq!(
        b.next_event_raw().await,
        r#"["subscription_error","private-chat",403]"#
    );
    s.publish("private-chat", "Control", "1", None);
    assert_eq!(a.next_event_raw().await, r#"["Control","private-chat",1]"#);
}
