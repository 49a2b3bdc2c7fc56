//! The binary SIGKILLed under two PHP processes publishing over its ring every millisecond. The
//! ring file stays behind with a stale heartbeat: `publish()` must answer false within 2 s and no
//! call may hang. Started again on the same port and ring, the same PHP processes must be
//! publishing over the ring again without a restart.

use std::time::{Duration, Instant};

use crate::figures::Figures;
use crate::harness::{Env, Server};
use crate::php::Php;

const PUBLISHERS: usize = 2;
/// `publish()` must see a dead server within this long.
const NOTICE_MS: u128 = 2_000;
/// A publish() call longer than this is a hang.
const HANG_US: u64 = 100_000;

pub async fn run(env: &Env, figs: &mut Figures) -> Result<(), String> {
    let mut server = Server::start(env, "server-kill", |_| {}).await?;
    let mut phps = watchers(env, &server).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.kill();
    let notice = all_say(&mut phps, "state false", Instant::now()).await?;
    figs.check(
        "server_kill.publish_false_after_ms",
        notice,
        notice <= NOTICE_MS,
        "≤ 2000",
    );
    let restarted = Instant::now();
    server.spawn().await?;
    figs.put(
        "server_kill.server_ready_after_ms",
        restarted.elapsed().as_millis(),
    );
    let back = all_say(&mut phps, "state shm", restarted).await?;
    figs.put("server_kill.publishing_again_after_ms", back);
    let longest = longest_call(&mut phps).await?;
    figs.check(
        "server_kill.longest_publish_us",
        longest,
        longest <= HANG_US,
        "≤ 100000",
    );
    Ok(())
}

/// `PUBLISHERS` PHP processes publishing over the server's ring, each once it does.
async fn watchers(env: &Env, server: &Server) -> Result<Vec<Php>, String> {
    let mut phps = Vec::new();
    for i in 0..PUBLISHERS {
        let args = [format!("rel-kill-{i}")];
        let mut php = Php::spawn(
            env,
            "watch.php",
            &args,
            &[("RUST_ECHO_RING", server.ring.as_str())],
        )?;
        php.expect("ready", Duration::from_secs(20)).await?;
        php.expect("state shm", Duration::from_secs(10)).await?;
        phps.push(php);
    }
    Ok(phps)
}

/// Wait until every process has printed `state`: ms from `since` until the last one did.
async fn all_say(phps: &mut [Php], state: &str, since: Instant) -> Result<u128, String> {
    let mut last = 0;
    for php in phps {
        php.expect(state, Duration::from_secs(10)).await?;
        last = last.max(since.elapsed().as_millis());
    }
    Ok(last)
}

/// Stop every process: the longest `publish()` call any of them made, in µs.
async fn longest_call(phps: &mut [Php]) -> Result<u64, String> {
    let mut longest = 0u64;
    for php in phps {
        php.send("stop").await?;
        let line = php.expect("maxcall", Duration::from_secs(10)).await?;
        let us = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(u64::MAX);
        longest = longest.max(us);
    }
    Ok(longest)
}
