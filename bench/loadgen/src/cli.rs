//! What the benchmark binaries share on their command line: comma-separated lists, the usage
//! message after a bad argument, and the tokio runtime they run on.

use std::process::ExitCode;

use tokio::runtime::Runtime;

/// The argument after `flag`, split at commas.
pub fn list(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<Vec<String>, String> {
    let list = args.next().ok_or_else(|| format!("{flag} needs a list"))?;
    Ok(list.split(',').map(str::to_owned).collect())
}

/// The error for an argument no option matches.
pub fn unknown(arg: &str) -> String {
    format!("unknown argument {arg:?}")
}

/// The options `parse` reads from the command line; after an error, prints it with `usage` and
/// gives exit code 2.
pub fn options<O>(
    program: &str,
    usage: &str,
    parse: impl FnOnce() -> Result<O, String>,
) -> Result<O, ExitCode> {
    parse().map_err(|e| {
        eprintln!("{program}: {e}\nusage: {usage}");
        ExitCode::from(2)
    })
}

/// A multi-threaded runtime with `workers` worker threads; after an error, prints it and gives
/// a failing exit code.
pub fn runtime(program: &str, workers: usize) -> Result<Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("{program}: {e}");
            ExitCode::FAILURE
        })
}
