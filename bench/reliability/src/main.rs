//! `echo-reliability [--quick] [--only ingress,redis,kill,auth,churn,slow,garbage]`: starts a
//! redis-server, then runs each scenario against the release `rust-echo` binary and the release
//! extension; exits non-zero when any check failed or a scenario could not run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use echo_bench::procs::Proc;
use echo_reliability::figures::Figures;
use echo_reliability::harness::Env;
use echo_reliability::scenario::{
    auth, churn, garbage, ingress, redis_outage, server_kill, slow_reader,
};

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
                let list = args.next().ok_or("--only needs a list")?;
                o.only = list.split(',').map(str::to_owned).collect();
                if let Some(bad) = o.only.iter().find(|s| !SCENARIOS.contains(&s.as_str())) {
                    return Err(format!("unknown scenario {bad:?}"));
                }
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "echo-reliability: {e}\nusage: echo-reliability [--quick] [--only {}]",
                SCENARIOS.join(",")
            );
            return ExitCode::from(2);
        }
    };
    echo_bench::sys::raise_nofile(20_000);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("echo-reliability: {e}");
            return ExitCode::FAILURE;
        }
    };
    let figs = runtime.block_on(run(&o));
    echo_bench::procs::stop_all();
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
    let env = match setup() {
        Ok(x) => x,
        Err(e) => {
            figs.fail(e);
            return figs;
        }
    };
    let (env, _redis) = env;
    let want = |s: &str| o.only.iter().any(|x| x == s);
    let count = if o.quick { 100_000 } else { 1_000_000 };
    let (churn_for, garbage_for) = if o.quick { (15, 10) } else { (60, 30) };
    let outages: &[u64] = if o.quick { &[3] } else { &[3, 20] };
    for name in SCENARIOS.iter().filter(|s| want(s)) {
        let started = Instant::now();
        eprintln!("== {name}");
        let result = match *name {
            "ingress" => ingress::run(&env, &mut figs, ingress::Size { count, clients: 50 }).await,
            "redis" => redis_outage::run(&env, &mut figs, outages).await,
            "kill" => server_kill::run(&env, &mut figs).await,
            "auth" => auth::run(&env, &mut figs).await,
            "churn" => churn::run(&env, &mut figs, Duration::from_secs(churn_for)).await,
            "slow" => slow_reader::run(&env, &mut figs).await,
            _ => garbage::run(&env, &mut figs, Duration::from_secs(garbage_for)).await,
        };
        if let Err(e) = result {
            figs.fail(format!("{name}: could not run: {e}"));
        }
        figs.put(&format!("{name}.seconds"), started.elapsed().as_secs());
    }
    figs
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
    let port = echo_bench::sys::free_port().map_err(|e| e.to_string())?;
    let p = port.to_string();
    let args = [
        "--port",
        &p,
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ];
    let mut redis = Proc::spawn("redis", "redis-server", &args, &out, &out, None, &[])?;
    redis.wait_for_log("Ready to accept connections", Duration::from_secs(10))?;
    Ok((
        Env {
            root,
            out,
            redis_port: port,
        },
        redis,
    ))
}
