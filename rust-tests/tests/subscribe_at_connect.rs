//! A subscribe sent the moment the CONNECT acknowledgement arrives is applied: the socket's
//! handlers are in place before the acknowledgement goes out. (socketioxide sends it before
//! calling the connect handler; under load a subscribe could reach a socket without handlers
//! and be dropped. The cluster tests, with several binaries on two busy cores, lost about one
//! in fifty subscribes that way.)
mod common;

use common::binary::Binary;
use common::{Client, until_eq};
use serde_json::json;

/// Many clients, each subscribing as soon as it is connected, with Engine.IO 3 and 4: every
/// subscribe is applied (none arrives at a socket that has no handler yet).
const CLIENTS: u32 = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribe_right_after_connect_is_never_lost() {
    let s = Binary::start(
        json!({ "subscribers": { "redis": false }, "shm": { "enabled": false } }),
        None,
    );
    let mut clients = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let addr = s.addr;
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(addr, if i % 2 == 0 { 4 } else { 3 }).await;
            c.subscribe("news").await;
            c
        }));
    }
    for t in tasks {
        clients.push(t.await.expect("client"));
    }
    until_eq("every client subscribed", f64::from(CLIENTS), || {
        s.metric(r#"rust_echo_subscriptions{kind="public"}"#)
    })
    .await;
}
