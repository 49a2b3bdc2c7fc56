//! `maxConcurrentAuth` full of requests to a hanging app: a subscribe queued behind them is
//! answered within its own `authTimeout`, and one that never got a slot in time is refused with
//! 503 without its request being sent.
mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{AuthStub, Client, TestServer};

const SLOTS: usize = 100;
const SOCKETS: usize = 3;
const PER_SOCKET: usize = 50;

/// 150 subscribes against 100 slots and an endpoint that never answers: at most 100 requests
/// reach it, and every subscribe ends with `subscription_error` — 0 for the ones that were sent
/// and timed out, 503 for the ones that waited for a slot and were never sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_subscribes_are_not_sent_after_their_time() {
    let stub = AuthStub::start(|_, _| (200, "true".to_owned(), Duration::from_secs(60))).await;
    let s = TestServer::start(|c| {
        c.auth_host = vec![stub.url.clone()];
        c.auth_timeout = Duration::from_millis(2_000);
        c.limits.max_concurrent_auth = SLOTS;
    })
    .await;
    let mut clients = Vec::new();
    for _ in 0..SOCKETS {
        clients.push(s.client_v2().await);
    }
    for (i, c) in clients.iter_mut().enumerate() {
        for n in 0..PER_SOCKET {
            c.subscribe(&format!("private-hang.{i}.{n}")).await;
        }
    }
    let mut statuses: HashMap<i64, usize> = HashMap::new();
    for c in &mut clients {
        for _ in 0..PER_SOCKET {
            let (name, args) = c.next_event().await;
            assert_eq!(name, "subscription_error", "{args:?}");
            *statuses
                .entry(args[1].as_i64().expect("status"))
                .or_default() += 1;
        }
    }
    let sent = stub.recorded().len();
    assert!(sent <= SLOTS, "{sent} requests reached the endpoint");
    assert_eq!(statuses.values().sum::<usize>(), SOCKETS * PER_SOCKET);
    assert_eq!(
        statuses.get(&503).copied().unwrap_or(0),
        SOCKETS * PER_SOCKET - sent,
        "every subscribe not sent was refused with 503: {statuses:?}"
    );
    assert_eq!(statuses.get(&0).copied().unwrap_or(0), sent, "{statuses:?}");
}

/// Once the hanging requests have timed out, the slots serve new subscribes again.
#[tokio::test]
async fn slots_free_up_after_the_timeout() {
    let stub = AuthStub::start(|c, _| match c {
        "private-hang" => (200, "true".to_owned(), Duration::from_secs(60)),
        _ => (200, "true".to_owned(), Duration::ZERO),
    })
    .await;
    let s = TestServer::start(|c| {
        c.auth_host = vec![stub.url.clone()];
        c.auth_timeout = Duration::from_millis(500);
        c.limits.max_concurrent_auth = 1;
    })
    .await;
    let mut c: Client = s.client().await;
    c.subscribe("private-hang").await;
    assert_eq!(
        c.next_event_raw().await,
        r#"["subscription_error","private-hang",0]"#
    );
    c.subscribe("private-ok").await;
    while stub.recorded().len() < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let deadline = tokio::time::Instant::now() + common::WAIT;
    loop {
        let (_, body) = s.get("/apps/app/channels/private-ok?auth_key=secret").await;
        if body.contains(r#""subscription_count":1"#) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
