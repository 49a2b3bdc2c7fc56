//! `echo-reliability [--quick] [--only ingress,redis,kill,auth,churn,slow,garbage]`: starts a
//! redis-server, then runs each scenario against the release `rust-echo` binary and the release
//! extension; exits non-zero when any check failed or a scenario could not run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use echo_bench::cli;
use echo_bench::procs::{self, Proc};
use echo_reliability::figures::Figures;
use echo_reliability::harness::Env;
use echo_reliability::scenario::{
    auth, churn, garbage, ingress, redis_outage, server_kill, slow_reader,
};

const PROGRAM: &str = "echo-reliability";
const SCENARIOS: [&str; 7] = [
    "ingress", "redis", "kill", "auth", "churn", "slow", "garbage",
];

struct Options {
    quick: bool,
    only: Vec<String>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        quick: false,
        only: SCENARIOS.iter().map(|s| (*s).to_owned()).collect(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--only" => {
                o.only = cli::list(&mut args, "--only")?;
                if let Some(bad) = o.only.iter().find(|s| !SCENARIOS.contains(&s.as_str())) {
                    return Err(format!("unknown scenario {bad:?}"));
                }
            }
            other => return Err(cli::unknown(other)),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let usage = format!("{PROGRAM} [--quick] [--only {}]", SCENARIOS.join(","));
    let o = match cli::options(PROGRAM, &usage, options) {
        Ok(o) => o,
        Err(code) => return code,
    };
    echo_bench::sys::raise_nofile(20_000);
    let runtime = match cli::runtime(PROGRAM, 2) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let figs = runtime.block_on(run(&o));
    procs::stop_all();
    if figs.failures().is_empty() {
        println!("reliability: every check passed");
        ExitCode::SUCCESS
    } else {
        println!("reliability: {} check(s) failed:", figs.failures().len());
        for f in figs.failures() {
            println!("  {f}");
        }
        ExitCode::FAILURE
    }
}

async fn run(o: &Options) -> Figures {
    let mut figs = Figures::default();
    let (env, _redis) = match setup() {
        Ok(x) => x,
        Err(e) => {
            figs.fail(e);
            return figs;
        }
    };
    for name in SCENARIOS.iter().filter(|s| o.only.iter().any(|x| x == *s)) {
        let started = Instant::now();
        eprintln!("== {name}");
        if let Err(e) = scenario(name, o.quick, &env, &mut figs).await {
            figs.fail(format!("{name}: could not run: {e}"));
        }
        figs.put(&format!("{name}.seconds"), started.elapsed().as_secs());
    }
    figs
}

/// Run one scenario at the size `--quick` chooses.
async fn scenario(name: &str, quick: bool, env: &Env, figs: &mut Figures) -> Result<(), String> {
    let count = if quick { 100_000 } else { 1_000_000 };
    let (churn_for, garbage_for) = if quick { (15, 10) } else { (60, 30) };
    let outages: &[u64] = if quick { &[3] } else { &[3, 20] };
    match name {
        "ingress" => ingress::run(env, figs, ingress::Size { count, clients: 50 }).await,
        "redis" => redis_outage::run(env, figs, outages).await,
        "kill" => server_kill::run(env, figs).await,
        "auth" => auth::run(env, figs).await,
        "churn" => churn::run(env, figs, Duration::from_secs(churn_for)).await,
        "slow" => slow_reader::run(env, figs).await,
        _ => garbage::run(env, figs, Duration::from_secs(garbage_for)).await,
    }
}

/// The repository root, the output folder and the shared redis-server.
fn setup() -> Result<(Env, Proc), String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root
        .canonicalize()
        .map_err(|e| format!("{}: {e}", root.display()))?;
    let out = root.join("bench/output/reliability");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    for need in ["target/release/rust-echo", "target/release/librust_echo.so"] {
        if !root.join(need).exists() {
            return Err(format!(
                "{need} is missing: cargo build --release -p rust-echo-server -p rust_echo"
            ));
        }
    }
    let redis_port = echo_bench::sys::free_port().map_err(|e| e.to_string())?;
    let redis = procs::redis_server("redis", redis_port, &out, None)?;
    let env = Env {
        root,
        out,
        redis_port,
    };
    Ok((env, redis))
}
