//! The cluster backplane on a Redis Cluster (three masters with a replica each) follows
//! failovers of the master of its namespace's hash slot under a steady publish, and prints the
//! gaps. Real redis-server processes, a real cluster made with `redis-cli --cluster create`.
mod common;

use std::time::{Duration, Instant};

use common::nodes::Node;
use common::redis_cluster::RedisCluster;
use common::{Client, until_eq};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Ticks as `c` receives them, each with the moment it arrived, read by a task of their own
/// so that the moments are right while the test waits for something else.
fn arrivals(mut c: Client) -> (mpsc::UnboundedReceiver<(u64, Instant)>, AbortOnDrop) {
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        loop {
            let raw = c.next_event_within(Duration::from_secs(60)).await;
            let v: Vec<Value> = serde_json::from_str(&raw).expect("event");
            if tx
                .send((v[2]["n"].as_u64().expect("n"), Instant::now()))
                .is_err()
            {
                return;
            }
        }
    });
    (rx, AbortOnDrop(task))
}

/// Stops the reader before the nodes go, so it does not read their sockets closing.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The ticks that arrive until one is at least `last`, each within `within` of the one before.
async fn ticks_until(
    rx: &mut mpsc::UnboundedReceiver<(u64, Instant)>,
    last: u64,
    within: Duration,
) -> Vec<(u64, Instant)> {
    let mut out = Vec::new();
    loop {
        let tick = tokio::time::timeout(within, rx.recv())
            .await
            .expect("ticks keep arriving")
            .expect("the reader runs");
        out.push(tick);
        if tick.0 >= last {
            return out;
        }
    }
}

/// The longest wait between two events received, the second after `since`.
fn longest_silence(seen: &[(u64, Instant)], since: Instant) -> Duration {
    seen.windows(2)
        .filter(|w| w[1].1 > since)
        .map(|w| w[1].1.duration_since(w[0].1))
        .max()
        .unwrap_or_default()
}

/// How many ticks between the first and the last received never arrived.
fn lost(seen: &[(u64, Instant)]) -> u64 {
    match (seen.first(), seen.last()) {
        (Some(a), Some(b)) => b.0 - a.0 + 1 - seen.len() as u64,
        _ => 0,
    }
}

/// Wait (up to 30 s) until `probe` holds.
async fn within_30s(what: &str, mut probe: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !probe().await {
        assert!(Instant::now() < deadline, "within 30 s: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The master of the backplane's slot is SIGKILLed under a steady publish (node A's HTTP API
/// every 20 ms, relayed to node B): its replica takes over, both nodes find it by themselves
/// and relayed events arrive again, none twice; the gap is printed. Then the killed master is
/// started again (it rejoins as the new master's replica) and takes the slot back by a manual
/// failover, in which no connection breaks: the nodes learn it from `MOVED` and `sunsubscribe`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backplane_follows_a_failover_of_its_slot() {
    let mut cluster = RedisCluster::start(3, 1).await;
    let ns = cluster.namespace_off_the_first_seed().await;
    let nodes = cluster.rust_echo_nodes(&ns, &json!({}), 2).await;
    let mut b = nodes[1].client(4).await;
    b.subscribe("news").await;
    until_eq("b subscribed", 1.0, || {
        nodes[1]
            .bin
            .metric(r#"rust_echo_subscriptions{kind="public"}"#)
    })
    .await;
    let (mut b, _reader) = arrivals(b);
    let url = format!("{}/apps/app/events?auth_key=secret", nodes[0].url());
    let publisher = tokio::spawn(async move {
        for n in 0u64.. {
            let body = json!({"channel": "news", "name": "Tick", "data": {"n": n}});
            let _ = common::http()
                .post(&url)
                .body(body.to_string())
                .send()
                .await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let mut seen = ticks_until(&mut b, 10, Duration::from_secs(5)).await;
    let key = format!("{{{ns}}}:nodes");
    let old = cluster.master_of(&key).await.expect("the slot's master");
    let killed = Instant::now();
    cluster.nodes[old].kill();
    within_30s("a replica took the slot over", async || {
        cluster.master_of(&key).await.is_some_and(|m| m != old)
    })
    .await;
    let promoted = killed.elapsed();
    let last = seen.last().map(|t| t.0).expect("events before");
    seen.extend(ticks_until(&mut b, last + 100, Duration::from_secs(30)).await);
    println!(
        "redis cluster failover: promoted after {promoted:?}, longest silence {:?}, {} events lost",
        longest_silence(&seen, killed),
        lost(&seen)
    );

    let promoted_to = cluster.master_of(&key).await.expect("the new master");

    cluster.nodes[old].start_again().await;
    while let Ok(tick) = b.try_recv() {
        seen.push(tick);
    }
    let handed = Instant::now();
    let back = hand_slot_to(&cluster, old, &key).await;
    let last = seen.last().map(|t| t.0).expect("events");
    seen.extend(ticks_until(&mut b, last + 100, Duration::from_secs(30)).await);
    println!(
        "redis cluster manual failover: slot back after {back:?}, longest silence {:?}, {} events lost in all",
        longest_silence(&seen, handed),
        lost(&seen)
    );
    publisher.abort();
    let seqs: Vec<u64> = seen.iter().map(|t| t.0).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in order, none twice: {seqs:?}"
    );
    for n in &nodes {
        assert!(
            n.bin
                .metric("rust_echo_cluster_redis_reconnects_total")
                .await
                >= 2.0
        );
    }

    an_idle_relay_follows(&cluster, promoted_to, &key, &nodes[0], &mut b).await;
}

/// A failover while nothing is published: the relay's connection to the demoted master is
/// not broken, and that node, now a replica in the same shard, still takes SPUBLISH and passes
/// it on to the shard's master, where the receiving node has subscribed again.
async fn an_idle_relay_follows(
    cluster: &RedisCluster,
    to: usize,
    key: &str,
    from: &Node,
    ticks: &mut mpsc::UnboundedReceiver<(u64, Instant)>,
) {
    while ticks.try_recv().is_ok() {}
    hand_slot_to(cluster, to, key).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    for n in 1_000_000u64.. {
        from.post_event("news", "Tick", &json!({ "n": n }), None)
            .await;
        if let Ok(Some(tick)) = tokio::time::timeout(Duration::from_millis(100), ticks.recv()).await
            && tick.0 >= 1_000_000
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "an event after an idle failover arrives"
        );
    }
}

/// The replica `to` (synced with its master) takes `key`'s slot over by a manual failover, in
/// which no process dies and no connection breaks; how long until it serves the slot.
async fn hand_slot_to(cluster: &RedisCluster, to: usize, key: &str) -> Duration {
    within_30s("the replica synced", async || {
        let info: String = cluster.nodes[to]
            .cmd(&["INFO", "replication"])
            .await
            .unwrap_or_default();
        info.contains("role:slave") && info.contains("master_link_status:up")
    })
    .await;
    let handed = Instant::now();
    // A master votes for one failover of a slot per twice the node timeout: a request made
    // sooner after the last failover times out (5 s), and is made again.
    let deadline = handed + Duration::from_secs(30);
    'request: loop {
        let _: String = cluster.nodes[to]
            .cmd(&["CLUSTER", "FAILOVER"])
            .await
            .expect("manual failover");
        let timeout = Instant::now() + Duration::from_secs(6);
        while Instant::now() < timeout {
            if cluster.master_of(key).await == Some(to) {
                break 'request;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            Instant::now() < deadline,
            "within 30 s: the slot on the replica\n{}",
            cluster.log_tail(to)
        );
    }
    handed.elapsed()
}
