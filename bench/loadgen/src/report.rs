//! The run's output: Markdown tables (pasted into docs/benchmarks.md as they are), losses said
//! loudly, the `ratio NAME VALUE` lines, a JSON file of every row, and the chart's data.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::scenario::Delivery;
use crate::scenario::channels::ChannelsRow;
use crate::scenario::fanout::FanoutRow;
use crate::scenario::memory::MemoryRow;

/// The idle connection count the memory table projects to.
const PROJECTED: usize = 100_000;

pub const RUST: &str = "rust-echo";
pub const LES: &str = "laravel-echo-server";
pub const RAW: &str = "raw broadcaster";

#[derive(Debug, Default, Serialize)]
pub struct Results {
    pub mode: String,
    pub machine: String,
    pub fanout: Vec<FanoutRow>,
    pub channels: Vec<ChannelsRow>,
    pub memory: Vec<MemoryRow>,
    /// Scenarios that could not run, with the reason.
    pub failures: Vec<String>,
    /// Scenarios this machine cannot hold, with the reason.
    pub skipped: Vec<String>,
}

fn ms(v: Option<f64>) -> String {
    v.map_or("–".to_owned(), |v| format!("{v:.2}"))
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".to_owned(), |v| format!("{v:.0} %"))
}

fn check(d: &Delivery) -> String {
    if d.exact() {
        "exact".to_owned()
    } else {
        format!("**{} missing, {} disordered**", d.missing, d.disordered)
    }
}

impl Results {
    /// The tables, in Markdown.
    pub fn tables(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "### Fan-out: one public channel\n");
        let _ = writeln!(
            s,
            "| clients | server | ingress | EIO | deliveries/s | server CPU | load gen. CPU | delivery | offered msg/s | p50 ms | p99 ms | max ms | delivery |"
        );
        let _ = writeln!(
            s,
            "|---:|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---|"
        );
        for r in &self.fanout {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.clients,
                r.server,
                r.ingress,
                r.eio,
                r.throughput,
                pct(r.server_cpu),
                pct(r.loadgen_cpu),
                check(&r.saturation),
                r.offered.map_or("–".to_owned(), |v| format!("{v:.1}")),
                ms(r.p50_ms),
                ms(r.p99_ms),
                ms(r.max_ms),
                r.latency.as_ref().map_or("–".to_owned(), check),
            );
        }
        let _ = writeln!(s, "\n### Many channels: one private channel per client\n");
        let _ = writeln!(
            s,
            "| clients | server | authorized subscriptions/s | refused | ingress | deliveries/s | delivery |"
        );
        let _ = writeln!(s, "|---:|---|---:|---:|---|---:|---|");
        for r in &self.channels {
            for (i, p) in r.publish.iter().enumerate() {
                let (c, sv, rate, refused) = if i == 0 {
                    (
                        r.clients.to_string(),
                        r.server,
                        format!("{:.0}", r.subscribe_rate),
                        r.refused.to_string(),
                    )
                } else {
                    (String::new(), "", String::new(), String::new())
                };
                let _ = writeln!(
                    s,
                    "| {c} | {sv} | {rate} | {refused} | {} | {:.0} | {} |",
                    p.ingress,
                    p.throughput,
                    check(&p.delivery)
                );
            }
        }
        let _ = writeln!(
            s,
            "\n### Idle memory: one public and one presence channel per client\n"
        );
        let _ = writeln!(
            s,
            "| clients | server | RSS before | RSS after | per connection | connect + subscribe s |"
        );
        let _ = writeln!(s, "|---:|---|---:|---:|---:|---:|");
        for r in &self.memory {
            let _ = writeln!(
                s,
                "| {} | {} | {:.1} MiB | {:.1} MiB | {:.1} KiB | {:.1} |",
                r.clients,
                r.server,
                r.rss_before as f64 / 1048576.0,
                r.rss_after as f64 / 1048576.0,
                r.per_connection / 1024.0,
                r.connect_s
            );
        }
        if let Some(r) = self
            .memory
            .iter()
            .filter(|r| r.server == RUST)
            .max_by_key(|r| r.clients)
        {
            let projected = r.rss_before as f64 + PROJECTED as f64 * r.per_connection;
            let _ = writeln!(
                s,
                "\nProjected from {} clients: {PROJECTED} idle rust-echo connections in {:.2} GiB \
                 (RSS before + {PROJECTED} × per connection).",
                r.clients,
                projected / 1073741824.0
            );
        }
        s
    }

    /// Every delivery check that failed, as `(server, what)`.
    pub fn losses(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for r in &self.fanout {
            let mut phases = vec![("saturation", &r.saturation)];
            if let Some(l) = &r.latency {
                phases.push(("offered rate", l));
            }
            for (phase, d) in phases {
                if !d.exact() {
                    out.push((
                        r.server,
                        format!(
                            "fan-out {} clients, {} via {}: {} of {} deliveries missing, {} disordered",
                            r.clients, phase, r.ingress, d.missing, d.expected, d.disordered
                        ),
                    ));
                }
            }
        }
        for r in &self.channels {
            for p in &r.publish {
                if !p.delivery.exact() {
                    out.push((
                        r.server,
                        format!(
                            "many channels via {}: {} of {} deliveries missing, {} disordered",
                            p.ingress,
                            p.delivery.missing,
                            p.delivery.expected,
                            p.delivery.disordered
                        ),
                    ));
                }
            }
            if r.refused > 0 {
                out.push((r.server, format!("{} subscriptions refused", r.refused)));
            }
        }
        out
    }

    fn fanout_at(&self, clients: usize, server: &str) -> Option<&FanoutRow> {
        self.fanout.iter().find(|r| {
            r.clients == clients && r.server == server && r.ingress == "redis" && r.eio == "3"
        })
    }

    /// The largest client count measured for rust-echo and `other` alike, where `other`
    /// delivered anything (a server that delivered nothing is reported as a loss, not a ratio).
    fn common_size(&self, other: &str) -> Option<usize> {
        self.fanout
            .iter()
            .filter(|r| r.server == other && r.throughput > 0.0)
            .map(|r| r.clients)
            .filter(|&c| self.fanout_at(c, RUST).is_some())
            .max()
    }

    /// `(name, value)` of every ratio the run can compute; bigger is better for rust-echo.
    pub fn ratios(&self) -> Vec<(&'static str, f64)> {
        let mut out = Vec::new();
        if let Some(c) = self.common_size(LES)
            && let (Some(us), Some(les)) = (self.fanout_at(c, RUST), self.fanout_at(c, LES))
        {
            out.push(("fanout_throughput_x_les", us.throughput / les.throughput));
            if let (Some(a), Some(b)) = (les.p99_ms, us.p99_ms) {
                out.push(("p99_latency_x_les", a / b));
            }
        }
        if let Some(c) = self.common_size(RAW)
            && let (Some(us), Some(raw)) = (self.fanout_at(c, RUST), self.fanout_at(c, RAW))
        {
            out.push(("fanout_throughput_x_raw", us.throughput / raw.throughput));
        }
        let mem = |server: &str| {
            self.memory
                .iter()
                .filter(|r| r.server == server)
                .min_by_key(|r| r.clients)
        };
        if let (Some(us), Some(les)) = (mem(RUST), mem(LES))
            && us.clients == les.clients
        {
            out.push((
                "memory_per_conn_x_les",
                les.per_connection / us.per_connection,
            ));
        }
        let sub = |server: &str| self.channels.iter().find(|r| r.server == server);
        if let (Some(us), Some(les)) = (sub(RUST), sub(LES)) {
            out.push((
                "auth_subscribe_x_les",
                us.subscribe_rate / les.subscribe_rate,
            ));
        }
        out
    }

    /// Write `results.json` and `fanout.dat` (clients, then throughput and p99 of
    /// laravel-echo-server, rust-echo and the raw broadcaster, via Redis) into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), String> {
        let json = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("results.json"), json).map_err(|e| e.to_string())?;
        let mut sizes: Vec<usize> = self.fanout.iter().map(|r| r.clients).collect();
        sizes.sort_unstable();
        sizes.dedup();
        let mut dat = String::from("# clients les_tp rust_tp raw_tp les_p99 rust_p99 raw_p99\n");
        for c in sizes {
            let row = |s| self.fanout_at(c, s);
            let tp = |s| row(s).map_or("NaN".to_owned(), |r| format!("{:.0}", r.throughput));
            let p99 = |s| {
                row(s)
                    .and_then(|r| r.p99_ms)
                    .map_or("NaN".to_owned(), |v| format!("{v:.3}"))
            };
            let _ = writeln!(
                dat,
                "{c} {} {} {} {} {} {}",
                tp(LES),
                tp(RUST),
                tp(RAW),
                p99(LES),
                p99(RUST),
                p99(RAW)
            );
        }
        std::fs::write(dir.join("fanout.dat"), dat).map_err(|e| e.to_string())
    }
}
