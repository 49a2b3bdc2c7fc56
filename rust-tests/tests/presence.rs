//! Presence channels: member lists, joining and leaving exactly once per user, payload shapes.
mod common;

use std::time::Duration;

use common::{AuthStub, Client, TestServer};
use serde_json::{Value, json};

const CHAN: &str = "presence-room";

async fn join(c: &mut Client, user: u32) {
    c.emit(
        "subscribe",
        json!({"channel": CHAN, "auth": {"headers": {"X-User": user.to_string()}}}),
    )
    .await;
}

/// A member as listed to others: no socket id (see `member_ids.rs`).
fn member(user: u32, _sid: &str) -> Value {
    json!({"user_id": user, "user_info": {"id": user}})
}

/// Two tabs of user 1 and one of user 2: `here`, `joining` and `leaving` exactly once per user,
/// with laravel-echo-server's payloads.
#[tokio::test]
async fn members_are_deduplicated_by_user() {
    let auth = AuthStub::laravel().await;
    let s = TestServer::start(|c| c.auth_host = vec![auth.url.clone()]).await;
    let (mut a1, mut b, mut a2) = (s.client().await, s.client_v2().await, s.client().await);

    join(&mut a1, 1).await;
    assert_eq!(
        a1.next_event().await,
        (
            "presence:subscribed".to_owned(),
            vec![json!(CHAN), json!([member(1, &a1.sid)])]
        )
    );

    join(&mut b, 2).await;
    assert_eq!(
        b.next_event().await,
        (
            "presence:subscribed".to_owned(),
            vec![json!(CHAN), json!([member(2, &b.sid), member(1, &a1.sid)])]
        )
    );
    assert_eq!(
        a1.next_event_raw().await,
        format!(r#"["presence:joining","{CHAN}",{{"user_id":2,"user_info":{{"id":2}}}}]"#)
    );

    // A second tab of user 1: it gets the list, nobody is told user 1 joined again.
    join(&mut a2, 1).await;
    assert_eq!(
        a2.next_event().await,
        (
            "presence:subscribed".to_owned(),
            vec![json!(CHAN), json!([member(1, &a2.sid), member(2, &b.sid)])]
        )
    );
    // One tab of user 1 leaves: user 1 is still here.
    a1.emit("unsubscribe", json!({"channel": CHAN})).await;
    s.wait_subscribers(CHAN, 2).await;
    assert_eq!(
        s.get(&format!("/apps/app/channels/{CHAN}?auth_key=secret"))
            .await
            .1,
        r#"{"occupied":true,"subscription_count":2,"user_count":2}"#
    );

    // The last tab of user 1 goes away: the others see user 1 leave, once, without socketId.
    a2.close().await;
    assert_eq!(
        b.next_event_raw().await,
        format!(r#"["presence:leaving","{CHAN}",{{"user_id":1,"user_info":{{"id":1}}}}]"#)
    );
    // Subscribed to nothing any more, a1 joins a public channel to hear the marker.
    a1.subscribe("marker").await;
    b.subscribe("marker").await;
    s.wait_subscribers("marker", 2).await;
    s.assert_marker_next("marker", &mut [&mut b, &mut a1]).await;
    assert_eq!(
        s.get(&format!("/apps/app/channels/{CHAN}/users?auth_key=secret"))
            .await
            .1,
        r#"{"users":[{"id":2,"user_info":{"id":2}}]}"#
    );
}

/// `channel_data` as a JSON string (Pusher style) is accepted.
#[tokio::test]
async fn channel_data_as_string() {
    let auth = AuthStub::start(|_, _| {
        (
            200,
            r#"{"channel_data":"{\"user_id\":\"u7\",\"user_info\":{\"n\":\"S\"}}"}"#.to_owned(),
            Duration::ZERO,
        )
    })
    .await;
    let s = TestServer::start(|c| c.auth_host = vec![auth.url.clone()]).await;
    let mut c = s.client().await;
    c.subscribe(CHAN).await;
    assert_eq!(
        c.next_event_raw().await,
        format!(r#"["presence:subscribed","{CHAN}",[{{"user_id":"u7","user_info":{{"n":"S"}}}}]]"#)
    );
}

/// A presence reply without member data (the callback returned `true`) is refused with
/// `subscription_error`, and the socket does not join.
#[tokio::test]
async fn missing_member_data_is_refused() {
    for body in [
        "true",
        r#"{"channel_data":{"user_info":{}}}"#,
        "<html>login</html>",
    ] {
        let auth = AuthStub::start(move |_, _| (200, body.to_owned(), Duration::ZERO)).await;
        let s = TestServer::start(|c| c.auth_host = vec![auth.url.clone()]).await;
        let mut c = s.client().await;
        c.subscribe(CHAN).await;
        assert_eq!(
            c.next_event_raw().await,
            format!(r#"["subscription_error","{CHAN}",200]"#)
        );
        c.subscribe("marker").await;
        s.wait_subscribers("marker", 1).await;
        assert_eq!(s.subscribers(CHAN).await, 0);
        s.publish(CHAN, "E", "1", None);
        s.assert_marker_next("marker", &mut [&mut c]).await;
    }
}

/// Unsubscribing from a presence channel never joined, twice, is harmless.
#[tokio::test]
async fn leaving_unjoined_presence_is_harmless() {
    let auth = AuthStub::laravel().await;
    let s = TestServer::start(|c| c.auth_host = vec![auth.url.clone()]).await;
    let mut c = s.client().await;
    c.emit("unsubscribe", json!({"channel": CHAN})).await;
    c.emit("unsubscribe", json!({"channel": CHAN})).await;
    join(&mut c, 3).await;
    assert_eq!(c.next_event().await.0, "presence:subscribed");
}
