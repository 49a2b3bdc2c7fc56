//! `echo-bench [--quick | --full] [--only fanout,channels,memory] [--chart FILE]`: starts
//! redis-server, the auth endpoint and each server in turn, runs the scenarios, prints the
//! tables and `ratio NAME VALUE` lines, writes `bench/output/<mode>/results.json`, and draws the
//! chart with gnuplot when it is installed. Exits non-zero when rust-echo lost or disordered a
//! message or a scenario could not run; laravel-echo-server's losses are only reported.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use echo_bench::auth::AuthStub;
use echo_bench::cli;
use echo_bench::fleet::Eio;
use echo_bench::procs;
use echo_bench::report::{self, Results};
use echo_bench::scenario::{Plan, channels, fanout, memory, two_nodes};
use echo_bench::servers::{Env, Kind};
use echo_bench::sys;

const PROGRAM: &str = "echo-bench";
const USAGE: &str = "echo-bench [--quick|--full] [--only fanout,channels,memory] [--servers les,rust-echo,in-process,raw] [--clients N] [--chart FILE]";

struct Options {
    mode: &'static str,
    plan: Plan,
    only: Vec<String>,
    servers: Vec<String>,
    chart: Option<PathBuf>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        mode: "quick",
        plan: Plan::quick(),
        only: Vec::new(),
        servers: Vec::new(),
        chart: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => (o.mode, o.plan) = ("quick", Plan::quick()),
            "--full" => (o.mode, o.plan) = ("full", Plan::full()),
            "--only" => o.only = cli::list(&mut args, "--only")?,
            "--servers" => o.servers = cli::list(&mut args, "--servers")?,
            "--chart" => o.chart = Some(PathBuf::from(args.next().ok_or("--chart needs a file")?)),
            "--clients" => {
                // Development runs: one small fan-out size and small other scenarios.
                let n: usize = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--clients needs a number")?;
                o.plan.fanout_sizes = vec![n];
                o.plan.channel_clients = n;
                o.plan.memory_clients = n;
                o.plan.memory_rust_only = None;
                o.plan.saturation_deliveries = o.plan.saturation_deliveries.min(200_000);
            }
            other => return Err(cli::unknown(other)),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let o = match cli::options(PROGRAM, USAGE, options) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let most = o
        .plan
        .fanout_sizes
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(o.plan.channel_clients)
        .max(o.plan.memory_rust_only.unwrap_or(o.plan.memory_clients));
    // Clients here and, for laravel-echo-server, as many auth connections again.
    let wanted = (2 * most + 10_000) as u64;
    let fds = sys::raise_nofile(wanted);
    if fds < wanted {
        eprintln!(
            "echo-bench: RLIMIT_NOFILE is {fds} and cannot be raised to {wanted}; the largest scenarios will fail (raise the hard limit: ulimit -Hn)"
        );
    }
    // The load generator on CPU 0, the server under test on CPU 1: they do not compete.
    let server_cpu = (sys::cpu_count() >= 2).then_some(1);
    if server_cpu.is_some() {
        sys::pin_current_thread(0);
    } else {
        eprintln!("echo-bench: one CPU only; load generator and servers share it");
    }
    let runtime = match cli::runtime(PROGRAM, 1) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let result = runtime.block_on(run(&o, server_cpu, fds));
    runtime.shutdown_background();
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("echo-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    here.canonicalize().unwrap_or(here)
}

/// Run everything; `Ok(false)` when rust-echo lost messages or a scenario failed.
async fn run(o: &Options, server_cpu: Option<usize>, fds: u64) -> Result<bool, String> {
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("echo-bench: interrupted; stopping the servers");
            procs::stop_all();
            std::process::exit(130);
        }
    });
    let root = root();
    let out = root.join("bench/output").join(o.mode);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let redis_port = sys::free_port().map_err(|e| e.to_string())?;
    let redis = procs::redis_server("redis", redis_port, &out, server_cpu.map(|_| 0))?;
    let auth = AuthStub::start().await?;
    let env = Env {
        root: root.clone(),
        out: out.clone(),
        redis_port,
        auth_url: auth.url.clone(),
        server_cpu,
    };
    let wants = |s: &str| o.only.is_empty() || o.only.iter().any(|x| x == s);
    let mut results = Results {
        mode: o.mode.to_owned(),
        machine: machine(),
        ..Results::default()
    };
    let kinds: Vec<Kind> = [
        Kind::Les,
        Kind::RustEcho,
        Kind::InProcess,
        Kind::Raw,
        Kind::Adapter,
    ]
    .into_iter()
    .filter(|k| o.servers.is_empty() || o.servers.iter().any(|s| s == fanout::slug(*k)))
    .collect();
    if wants("fanout") {
        fanout_all(o, &env, &kinds, fds, &mut results).await;
    }
    if wants("channels") {
        channels_all(o, &env, &auth, &kinds, fds, &mut results).await;
    }
    if wants("memory") {
        memory_all(o, &env, &kinds, fds, &mut results).await;
    }
    drop(redis);
    print(&results);
    results.write(&out)?;
    if let Some(chart) = &o.chart {
        draw(&root, &out, chart);
    }
    let rust_lost = results
        .losses()
        .iter()
        .any(|(server, _)| server.starts_with(report::RUST));
    Ok(!rust_lost && results.failures.is_empty())
}

/// Fan-out at every size to every server kind, then Engine.IO 3 and 4 clients side by side.
async fn fanout_all(o: &Options, env: &Env, kinds: &[Kind], fds: u64, results: &mut Results) {
    for &size in &o.plan.fanout_sizes {
        let mut offered = fanout::Offered::default();
        for &kind in kinds.iter().filter(|k| **k != Kind::Adapter) {
            // Embedded, the server's sockets count against this process's descriptors too.
            if kind == Kind::InProcess && (2 * size as u64) + 1_000 > fds {
                skip(
                    results,
                    format!(
                        "fan-out {size} rust-echo embedded: needs {} descriptors in one process, \
                     RLIMIT_NOFILE is {fds}",
                        2 * size + 1_000
                    ),
                );
                continue;
            }
            let case = fanout::Case {
                kind,
                clients: size,
                eio: Eio::V3,
                latency: true,
            };
            let r = fanout::run(&o.plan, env, case, &mut offered, &mut results.fanout).await;
            note(results, &format!("fan-out {size} {}", kind.label()), r);
        }
    }
    // Engine.IO 3 and 4 clients side by side (laravel-echo-server serves only 3).
    let size = o.plan.fanout_sizes[0];
    let case = fanout::Case {
        kind: Kind::RustEcho,
        clients: size,
        eio: Eio::Mixed,
        latency: false,
    };
    let mut offered = fanout::Offered::default();
    let r = fanout::run(&o.plan, env, case, &mut offered, &mut results.fanout).await;
    note(results, &format!("fan-out {size} rust-echo EIO 3+4"), r);
    // Two nodes, the clients split between them, events entering one node: rust-echo's
    // cluster relay, and socketioxide's Redis adapter.
    for pair in [two_nodes::Pair::RustEcho, two_nodes::Pair::Adapter] {
        if kinds.contains(&pair.kind()) {
            let r = two_nodes::run(&o.plan, env, size, pair, &mut results.fanout).await;
            note(results, &format!("fan-out {size} {}", pair.label()), r);
        }
    }
}

/// Many channels on every server kind it applies to.
async fn channels_all(
    o: &Options,
    env: &Env,
    auth: &AuthStub,
    kinds: &[Kind],
    fds: u64,
    results: &mut Results,
) {
    for &kind in kinds.iter().filter(|k| channels::applies(**k)) {
        if kind == Kind::InProcess && (2 * o.plan.channel_clients as u64) + 1_000 > fds {
            skip(
                results,
                format!(
                    "many channels rust-echo embedded: needs {} descriptors in one process, \
                 RLIMIT_NOFILE is {fds}",
                    2 * o.plan.channel_clients + 1_000
                ),
            );
            continue;
        }
        let r = channels::run(&o.plan, env, &auth.counts, kind, &mut results.channels).await;
        note(results, &format!("many channels {}", kind.label()), r);
    }
}

/// Idle memory per connection on laravel-echo-server and rust-echo, then rust-echo alone at
/// its largest size.
async fn memory_all(o: &Options, env: &Env, kinds: &[Kind], fds: u64, results: &mut Results) {
    for &kind in kinds
        .iter()
        .filter(|k| matches!(k, Kind::Les | Kind::RustEcho))
    {
        let r = memory::run(
            env,
            kind,
            o.plan.memory_clients,
            Eio::V3,
            &mut results.memory,
        )
        .await;
        note(results, &format!("memory {}", kind.label()), r);
    }
    if let Some(wanted) = o.plan.memory_rust_only {
        // Each side of a connection holds a descriptor in its own process: both the load
        // generator and the server need one per client. Below the wanted size the largest
        // count the limit allows is measured, and the report projects the wanted size from it.
        let n = wanted.min(fds.saturating_sub(1_000) as usize / 1_000 * 1_000);
        if n <= o.plan.memory_clients {
            skip(
                results,
                format!(
                    "memory {wanted} rust-echo: needs {} descriptors per process, RLIMIT_NOFILE is {fds} \
                 (raising the hard limit needs CAP_SYS_RESOURCE)",
                    wanted + 1_000
                ),
            );
        } else {
            if n < wanted {
                eprintln!(
                    "echo-bench: RLIMIT_NOFILE {fds} allows {n} of the {wanted} idle clients; the report projects {wanted} from {n}"
                );
            }
            let r = memory::run(env, Kind::RustEcho, n, Eio::Mixed, &mut results.memory).await;
            note(results, &format!("memory {n} rust-echo"), r);
        }
    }
}

/// A case the descriptor limit rules out: reported, not run.
fn skip(results: &mut Results, why: String) {
    eprintln!("!! skipped {why}");
    results.skipped.push(why);
}

fn note(results: &mut Results, what: &str, r: Result<(), String>) {
    if let Err(e) = r {
        eprintln!("!! {what} failed: {e}");
        results.failures.push(format!("{what}: {e}"));
    }
}

fn print(results: &Results) {
    println!("\nMachine: {}\n", results.machine);
    println!("{}", results.tables());
    let losses = results.losses();
    for (server, what) in &losses {
        println!("!! LOSS {server}: {what}");
    }
    for f in &results.failures {
        println!("!! FAILED {f}");
    }
    for s in &results.skipped {
        println!("!! SKIPPED {s}");
    }
    if losses.is_empty() && results.failures.is_empty() {
        println!("Every message arrived exactly once and in order at every client.\n");
    }
    for (name, value) in results.ratios() {
        println!("ratio {name} {value:.2}");
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().map(str::to_owned))
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024 / 1024);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let cpus = std::fs::read_to_string("/proc/cpuinfo").map_or(0, |c| {
        c.lines().filter(|l| l.starts_with("processor")).count()
    });
    format!(
        "{cpus} × {cpu}, {mem} GiB, Linux {}, Node {node}",
        kernel.trim()
    )
}

fn draw(root: &Path, out: &Path, chart: &Path) {
    let script = root.join("bench/loadgen/chart.gp");
    let status = std::process::Command::new("gnuplot")
        .arg("-e")
        .arg(format!(
            "datafile='{}'; outfile='{}'",
            out.join("fanout.dat").display(),
            chart.display()
        ))
        .arg(&script)
        .status();
    match status {
        Ok(s) if s.success() => eprintln!("chart: {}", chart.display()),
        Ok(s) => eprintln!("chart: gnuplot failed ({s})"),
        Err(e) => {
            eprintln!("chart: gnuplot not available ({e}); `make setup` installs gnuplot-nox")
        }
    }
}
