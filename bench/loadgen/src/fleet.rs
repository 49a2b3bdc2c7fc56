//! Thousands of clients held by one process: connected with bounded concurrency and spread over
//! several loopback source addresses when one address's ephemeral ports would run short,
//! subscribed on command, and asked for their counts at the end of a phase.
//!
//! Latency is recorded by a few probe clients spread over the fleet, each on a runtime thread
//! of its own: a delivery's timestamp is taken when the probe reads it, not after the load
//! generator has worked through thousands of other sockets' frames first. Every client still
//! checks what it receives.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};

use crate::client::{self, Cmd, Report, Shared, Sub};

/// Clients per source address: well inside the default ephemeral range (32768–60999).
const PER_SOURCE: usize = 20_000;

/// Handshakes in flight at once.
const CONNECTING: usize = 200;

/// Clients that record latency; a fleet of this many or fewer is all probes.
pub const PROBES: usize = 20;

/// The runtime the probe clients run on: one thread, scheduled by the kernel beside the others'.
fn probe_runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("echo-bench-probe")
                .enable_all()
                .build()
                .map_err(|e| format!("probe runtime: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Which Engine.IO version each client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eio {
    /// Engine.IO 3 only (socket.io-client 2.x; all laravel-echo-server serves).
    V3,
    /// Every other client Engine.IO 4 (socket.io-client 3.x/4.x).
    Mixed,
}

/// The connected clients.
#[derive(Debug)]
pub struct Fleet {
    clients: Vec<mpsc::UnboundedSender<Cmd>>,
    /// Counters the clients update.
    pub shared: Arc<Shared>,
    /// How long connecting took.
    pub connect_time: Duration,
}

/// Totals over the clients' reports for one phase.
#[derive(Debug, Default)]
pub struct Tally {
    pub received: u64,
    pub gaps: u64,
    pub behind: u64,
    pub foreign: u64,
    pub refused: u64,
    /// Clients that did not answer (their connection had failed).
    pub silent: u64,
    /// Sorted latencies in microseconds.
    pub latencies_us: Vec<u32>,
}

impl Tally {
    /// The latency at quantile `q` (0..=1) in milliseconds.
    pub fn latency_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let last = self.latencies_us.len() - 1;
        let at = ((last as f64) * q).round() as usize;
        f64::from(self.latencies_us[at.min(last)]) / 1_000.0
    }
}

impl Fleet {
    /// Connect `n` clients to `server`.
    pub async fn connect(server: SocketAddr, n: usize, eio: Eio) -> Result<Fleet, String> {
        Self::connect_to(&[server], n, eio).await
    }

    /// Connect `n` clients spread over `servers` (client `i` to `servers[i % len]`), counted
    /// together.
    pub async fn connect_to(servers: &[SocketAddr], n: usize, eio: Eio) -> Result<Fleet, String> {
        let shared = Arc::new(Shared::default());
        let sources = n.div_ceil(PER_SOURCE);
        let started = Instant::now();
        let results: Vec<_> = futures_util::stream::iter(0..n)
            .map(|i| {
                let shared = shared.clone();
                // One address is plenty below PER_SOURCE; beyond it 127.0.0.2, .3, ... (all
                // of 127/8 is local) each bring a fresh ephemeral port range.
                let source = (sources > 1).then(|| {
                    let k = u8::try_from(2 + i / PER_SOURCE).unwrap_or(u8::MAX);
                    IpAddr::V4(Ipv4Addr::new(127, 0, 0, k))
                });
                let v = if eio == Eio::Mixed && i % 2 == 1 {
                    4
                } else {
                    3
                };
                let server = servers[i % servers.len()];
                let probe = n <= PROBES || i % (n / PROBES) == 0;
                async move {
                    if !probe {
                        return client::spawn(server, source, v, shared, false)
                            .await
                            .map_err(|e| e.to_string());
                    }
                    let on_probe = client::spawn(server, source, v, shared, true);
                    match probe_runtime()?.spawn(on_probe).await {
                        Ok(connected) => connected.map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    }
                }
            })
            .buffered(CONNECTING)
            .collect()
            .await;
        let mut clients = Vec::with_capacity(n);
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok(tx) => clients.push(tx),
                Err(e) => {
                    return Err(format!(
                        "client {i} of {n} could not connect to {}: {e} \
                         ({} connected)",
                        servers[i % servers.len()],
                        clients.len()
                    ));
                }
            }
        }
        Ok(Fleet {
            clients,
            shared,
            connect_time: started.elapsed(),
        })
    }

    pub fn len(&self) -> usize {
        self.clients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// Send every client the subscriptions `subs(i)` names, all at once, and wait up to
    /// `timeout` for the acknowledgements (presence replies).
    pub async fn subscribe(
        &self,
        subs: impl Fn(usize) -> Vec<Sub>,
        timeout: Duration,
    ) -> Result<(), String> {
        self.subscribe_paced(subs, timeout, usize::MAX).await
    }

    /// As [`Fleet::subscribe`], with at most `window` subscriptions awaiting their answer at a
    /// time: clients arriving over a while, as a server meets them, rather than all at once
    /// (a burst of tens of thousands of authorizations outlasts any auth queue's patience).
    pub async fn subscribe_paced(
        &self,
        subs: impl Fn(usize) -> Vec<Sub>,
        timeout: Duration,
        window: usize,
    ) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut acks = std::collections::VecDeque::new();
        let mut confirmed = 0;
        for (i, c) in self.clients.iter().enumerate() {
            for sub in subs(i) {
                let (tx, rx) = oneshot::channel();
                if c.send(Cmd::Subscribe(sub, tx)).is_err() {
                    return Err(format!("client {i} is gone: {}", self.first_error()));
                }
                acks.push_back(rx);
            }
            while acks.len() >= window.max(1) {
                self.confirmed(acks.pop_front(), confirmed, deadline, timeout)
                    .await?;
                confirmed += 1;
            }
        }
        while !acks.is_empty() {
            self.confirmed(acks.pop_front(), confirmed, deadline, timeout)
                .await?;
            confirmed += 1;
        }
        Ok(())
    }

    /// Waits for the answer to subscription number `i`.
    async fn confirmed(
        &self,
        ack: Option<oneshot::Receiver<Result<(), String>>>,
        i: usize,
        deadline: tokio::time::Instant,
        timeout: Duration,
    ) -> Result<(), String> {
        let Some(rx) = ack else { return Ok(()) };
        match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(_)) => Err(format!("a client died: {}", self.first_error())),
            Err(_) => Err(format!(
                "subscription {i} was not confirmed within {timeout:?}"
            )),
        }
    }

    /// Every client's report for the phase just ended, totalled.
    pub async fn tally(&self) -> Tally {
        let mut t = Tally::default();
        let mut waits = Vec::with_capacity(self.clients.len());
        for c in &self.clients {
            let (tx, rx) = oneshot::channel();
            if c.send(Cmd::Report(tx)).is_ok() {
                waits.push(rx);
            } else {
                t.silent += 1;
            }
        }
        for rx in waits {
            match tokio::time::timeout(Duration::from_secs(10), rx).await {
                Ok(Ok(r)) => add(&mut t, r),
                _ => t.silent += 1,
            }
        }
        t.latencies_us.sort_unstable();
        t
    }

    /// The first connection failure, if any.
    pub fn first_error(&self) -> String {
        self.shared
            .first_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| "no error recorded".to_owned())
    }
}

fn add(t: &mut Tally, r: Report) {
    t.received += r.received;
    t.gaps += r.gaps;
    t.behind += r.behind;
    t.foreign += r.foreign;
    t.refused += r.refused;
    t.latencies_us.extend_from_slice(&r.latencies_us);
}
