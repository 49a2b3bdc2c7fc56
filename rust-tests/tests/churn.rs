//! Many sockets subscribing and going away at once, their authorizations answered around the
//! moment they disconnect: afterwards every gauge is back at 0 and no presence member is left.
mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{AuthStub, TestServer, WAIT};
use serde_json::json;

const SOCKETS: usize = 300;
/// Public and private channels each socket subscribes to.
const CHANNELS: usize = 10;

async fn gauges(s: &TestServer) -> HashMap<String, f64> {
    let addr = s.handle.metrics_addr().expect("metrics listener up");
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("body");
    text.lines()
        .filter(|l| {
            l.starts_with("rust_echo_subscriptions{") || l.starts_with("rust_echo_connections ")
        })
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("series and value");
            (series.to_owned(), value.parse().expect("number"))
        })
        .collect()
}

/// Sockets that subscribe to public, private and presence channels, each twice, and disconnect
/// while the app answers (0–4 ms later): `rust_echo_subscriptions` of every kind and
/// `rust_echo_connections` end at exactly 0, and the presence channel has no members.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gauges_return_to_zero_after_churn() {
    let auth = AuthStub::start(|channel, headers| {
        let user: u64 = headers["x-user"]
            .to_str()
            .ok()
            .and_then(|u| u.parse().ok())
            .unwrap_or(0);
        let delay = Duration::from_millis(user % 5);
        if channel.starts_with("presence-") {
            let body = format!(
                r#"{{"channel_data":{{"user_id":{},"user_info":{{}}}}}}"#,
                user % 7
            );
            (200, body, delay)
        } else {
            (200, "true".to_owned(), delay)
        }
    })
    .await;
    let s = TestServer::start(|c| {
        c.auth_host = vec![auth.url.clone()];
        c.metrics.port = 0;
    })
    .await;
    let addr = s.addr;
    let mut tasks = Vec::new();
    for i in 0..SOCKETS {
        tasks.push(tokio::spawn(async move {
            let mut c = common::Client::connect(addr, if i % 2 == 0 { 3 } else { 4 }).await;
            let headers = json!({"X-User": i.to_string()});
            let channels = (0..CHANNELS)
                .map(|n| format!("news.{n}"))
                .chain((0..CHANNELS).map(|n| format!("private-orders.{n}")))
                .chain(["presence-room".to_owned()]);
            // Each subscribe sent twice, as a page that mounts a component twice does.
            for channel in channels.flat_map(|c| [c.clone(), c]) {
                c.emit(
                    "subscribe",
                    json!({"channel": channel, "auth": {"headers": headers}}),
                )
                .await;
            }
            // Leave while the answers are on their way, some sockets a little later.
            if i % 3 == 0 {
                tokio::time::sleep(Duration::from_millis((i % 4) as u64)).await;
            }
            c.close().await;
        }));
    }
    for t in tasks {
        t.await.expect("client task");
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        // Every authorization has been answered and every socket is gone.
        let answered = auth.recorded().len() >= SOCKETS;
        let g = gauges(&s).await;
        if answered && g.values().all(|v| *v == 0.0) && g.len() == 4 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gauges never returned to 0: {g:?}, {} auth requests",
            auth.recorded().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        s.get("/apps/app/channels/presence-room/users?auth_key=secret")
            .await
            .1,
        r#"{"users":[]}"#
    );
    assert_eq!(
        s.get("/apps/app/channels?auth_key=secret").await.1,
        r#"{"channels":{}}"#
    );
}
