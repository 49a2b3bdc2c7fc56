//! Two cluster nodes on one redis-server serving two Pusher apps (the default one and OTHER,
//! whose clients may send client events on any channel), and clients of both protocols in their
//! presence channel `CHAN`.

use std::net::SocketAddr;

use serde_json::{Value, json};

use super::nodes::Node;
use super::pusher::{ID, KEY, PusherClient, SECRET, hmac, now, signed_query};
use super::{AuthStub, Client, RedisServer, http, sorted_ids};

pub const CHAN: &str = "presence-room";
pub const OTHER: (&str, &str, &str) = ("other-id", "other-key", "other-secret");

pub async fn nodes(redis: &RedisServer, auth: &AuthStub) -> [Node; 2] {
    let extra = json!({
        "authHost": auth.url,
        "apps": [
            {"id": ID, "key": KEY, "secret": SECRET},
            {"id": OTHER.0, "key": OTHER.1, "secret": OTHER.2, "acceptClientEventsFrom": "all"},
        ],
    });
    [
        Node::start(redis, &extra).await,
        Node::start(redis, &extra).await,
    ]
}

pub fn frame(text: &str) -> Value {
    serde_json::from_str(text).expect("json frame")
}

/// `[event, channel, data]` of a frame whose data is a JSON string, the data decoded.
pub fn parts(text: &str) -> (Value, Value, Value) {
    let f = frame(text);
    let data = frame(f["data"].as_str().expect("data is a string"));
    (f["event"].clone(), f["channel"].clone(), data)
}

/// The user ids of a `subscription_succeeded` frame, sorted.
pub fn ids(succeeded: &str) -> Vec<u64> {
    let f = frame(succeeded);
    assert_eq!(f["event"], "pusher_internal:subscription_succeeded", "{f}");
    let data = frame(f["data"].as_str().expect("data is a string"));
    let ids: Vec<Value> = data["presence"]["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|id| json!({ "id": id }))
        .collect();
    sorted_ids(&Value::Array(ids), "id")
}

/// A Pusher client on `addr` joining `CHAN` as `user`, and the first frame it got back.
pub async fn pusher_member(addr: SocketAddr, user: u64) -> (PusherClient, String) {
    let mut c = PusherClient::connect(addr, KEY).await;
    let answer = c
        .subscribe_presence(CHAN, json!({"user_id": user, "user_info": {"id": user}}))
        .await;
    (c, answer)
}

/// A Socket.IO client on `addr` that asked to join `CHAN` as `user`.
pub async fn socketio_member(addr: SocketAddr, user: u64) -> Client {
    let mut c = Client::connect(addr, 4).await;
    c.emit(
        "subscribe",
        json!({"channel": CHAN, "auth": {"headers": {"X-User": user.to_string()}}}),
    )
    .await;
    c
}

/// A request to Reverb's signed API on `node`, signed for the app the path names; the JSON it
/// answers with 200.
pub async fn signed(
    node: &Node,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    body: &str,
) -> Value {
    let (key, secret) = if path.starts_with(&format!("/apps/{}/", OTHER.0)) {
        (OTHER.1, OTHER.2)
    } else {
        (KEY, SECRET)
    };
    let query = signed_query(method, path, body, params, key, secret, now());
    let url = format!("{}{path}?{query}", node.url());
    let request = match method {
        "GET" => http().get(url),
        _ => http().post(url).header("content-type", "application/json"),
    };
    let res = request.body(body.to_owned()).send().await.expect("request");
    assert_eq!(res.status(), 200, "{method} {path}");
    serde_json::from_str(&res.text().await.expect("body")).expect("json")
}

/// A GET of Reverb's signed API on `node`, with `info` when not empty.
pub async fn signed_get(node: &Node, path: &str, info: &str) -> Value {
    let params: Vec<(&str, &str)> = if info.is_empty() {
        Vec::new()
    } else {
        vec![("info", info)]
    };
    signed(node, "GET", path, &params, "").await
}

/// The next frame that is not presence news (which may come at any time while members join).
pub async fn next_not_member(c: &mut PusherClient) -> Value {
    loop {
        let f = frame(&c.next().await);
        if !f["event"]
            .as_str()
            .is_some_and(|e| e.starts_with("pusher_internal:member_"))
        {
            return f;
        }
    }
}

/// The next Socket.IO event that is not presence news.
pub async fn next_not_presence(c: &mut Client) -> String {
    loop {
        let raw = c.next_event_raw().await;
        if !raw.starts_with(r#"["presence:"#) {
            return raw;
        }
    }
}

/// Join `CHAN` of app OTHER as `user`; the `subscription_succeeded` frame. In a cluster that
/// frame waits for Redis, and news of other members may come first (pusher-js then takes the
/// frame's list as the whole truth).
pub async fn join_other(c: &mut PusherClient, user: u64) -> String {
    let data = json!({"user_id": user, "user_info": {"id": user}}).to_string();
    let signature = hmac(OTHER.2, &format!("{}:{CHAN}:{data}", c.socket_id));
    let auth = format!("{}:{signature}", OTHER.1);
    c.send(json!({"event": "pusher:subscribe",
                  "data": {"channel": CHAN, "auth": auth, "channel_data": data}}))
        .await;
    loop {
        let next = c.next().await;
        let event = frame(&next)["event"].clone();
        if event != "pusher_internal:member_added" && event != "pusher_internal:member_removed" {
            return next;
        }
    }
}
