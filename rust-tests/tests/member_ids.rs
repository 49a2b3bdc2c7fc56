//! Presence events do not hand out other members' socket ids: for a socket.io-client 2 peer the
//! socket id is its Engine.IO session id, and whoever knows a polling session's id can end it
//! with one request. `toOthers()` (the client's own id in `X-Socket-ID`) keeps working.
mod common;

use common::{AuthStub, TestServer, WAIT};
use serde_json::{Value, json};

const CHAN: &str = "presence-room";

/// A socket.io-client 2.x peer on the polling transport (Engine.IO 3), raw.
struct Poller {
    http: reqwest::Client,
    url: String,
    sid: String,
}

impl Poller {
    async fn open(s: &TestServer) -> Self {
        let http = reqwest::Client::new();
        let base = format!("{}/socket.io/?EIO=3&transport=polling", s.url());
        let body = http
            .get(&base)
            .send()
            .await
            .expect("handshake")
            .text()
            .await
            .expect("body");
        let open: Value =
            serde_json::from_str(&body[body.find('{').expect("open")..]).expect("open packet");
        let sid = open["sid"].as_str().expect("sid").to_owned();
        let p = Poller {
            http,
            url: format!("{base}&sid={sid}"),
            sid,
        };
        assert_eq!(p.poll().await, "2:40");
        p
    }

    /// One long-poll: the packets the server had for this session.
    async fn poll(&self) -> String {
        let res = tokio::time::timeout(WAIT, self.http.get(&self.url).send())
            .await
            .expect("a poll answer within the wait")
            .expect("poll");
        assert_eq!(res.status(), 200);
        res.text().await.expect("body")
    }

    async fn emit(&self, event: &str, data: Value) {
        let packet = format!("42{}", json!([event, data]));
        let res = self
            .http
            .post(&self.url)
            .header("content-type", "text/plain;charset=UTF-8")
            .body(format!("{}:{packet}", packet.chars().count()))
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 200);
    }

    /// Poll until a packet containing `needle` arrives; everything received up to it.
    async fn until(&self, needle: &str) -> String {
        let mut got = String::new();
        while !got.contains(needle) {
            got.push_str(&self.poll().await);
        }
        got
    }
}

fn join_payload(user: u32) -> Value {
    json!({"channel": CHAN, "auth": {"headers": {"X-User": user.to_string()}}})
}

/// A polling socket.io-client 2 member, a 4.x member and a 2.x WebSocket member in one presence
/// channel: no event any of them gets carries another's socket id, and an event published with
/// the polling peer's own id (`toOthers`) reaches the others only.
#[tokio::test]
async fn presence_events_carry_no_socket_ids() {
    let auth = AuthStub::laravel().await;
    let s = TestServer::start(|c| c.auth_host = vec![auth.url.clone()]).await;
    let peer = Poller::open(&s).await;
    peer.emit("subscribe", join_payload(1)).await;
    let own = peer.until("presence:subscribed").await;
    assert!(
        own.ends_with(&format!(
            r#"42["presence:subscribed","{CHAN}",[{{"user_id":1,"user_info":{{"id":1}}}}]]"#
        )),
        "{own}"
    );

    let mut m = s.client().await;
    m.emit("subscribe", join_payload(2)).await;
    let listed = m.next_event_raw().await;
    assert_eq!(
        listed,
        format!(
            r#"["presence:subscribed","{CHAN}",[{{"user_id":2,"user_info":{{"id":2}}}},{{"user_id":1,"user_info":{{"id":1}}}}]]"#
        )
    );
    assert!(!listed.contains(&peer.sid));

    let mut w = s.client_v2().await;
    w.emit("subscribe", join_payload(3)).await;
    assert_eq!(w.next_event().await.0, "presence:subscribed");
    let joining = m.next_event_raw().await;
    assert_eq!(
        joining,
        format!(r#"["presence:joining","{CHAN}",{{"user_id":3,"user_info":{{"id":3}}}}]"#)
    );
    assert!(!joining.contains(&w.sid));
    let seen_by_peer = peer.until(r#""user_id":3"#).await;
    for sid in [&m.sid, &w.sid] {
        assert!(!seen_by_peer.contains(sid.as_str()), "{seen_by_peer}");
    }

    // toOthers: the polling peer's own id excludes it, the others get the event.
    s.publish(CHAN, "Mine", "1", Some(&peer.sid));
    s.publish(CHAN, "Control", "2", None);
    assert_eq!(m.next_event_raw().await, format!(r#"["Mine","{CHAN}",1]"#));
    assert_eq!(w.next_event_raw().await, format!(r#"["Mine","{CHAN}",1]"#));
    let got = peer.until("Control").await;
    assert!(!got.contains("Mine"), "the sender got its own event: {got}");
}
