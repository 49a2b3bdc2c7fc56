//! Which server runs from a config's folder: `start` claims it (refusing, or with `--force`
//! stopping, a server that really runs there), `stop` ends it. Only a process verified to be the
//! lock's writer (see [`lockfile`]) is refused or signalled; a lock naming any other process is
//! stale and replaced.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use super::lockfile::{self, Held, Lock, Program};

/// How long a server asked to stop may take.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// Take this folder's lock for the config at `config`, after dealing with a server already
/// running from it (a rust-echo, or a laravel-echo-server from the same config).
pub(super) fn claim(config: &Path, force: bool) -> Result<Held, ExitCode> {
    let les = lockfile::les_path_for(config);
    if let Some(lock) =
        lockfile::read(&les).filter(|l| lockfile::held(*l, Program::LaravelEchoServer))
    {
        if !force {
            eprintln!(
                "Error: laravel-echo-server is running from this folder (process {}, {}). Stop it with 'laravel-echo-server stop', or use the option '--force' to stop it and start rust-echo.",
                lock.pid,
                les.display()
            );
            return Err(ExitCode::FAILURE);
        }
        stop_or_fail(lock, "laravel-echo-server")?;
    }
    let path = lockfile::path_for(config);
    if let Some(lock) = lockfile::read(&path).filter(|l| !is_self(*l)) {
        if lockfile::held(lock, Program::RustEcho) {
            if !force {
                eprintln!(
                    "Error: There is already a server running! Use the option '--force' to stop it and start another one."
                );
                return Err(ExitCode::FAILURE);
            }
            stop_or_fail(lock, "the running server")?;
        } else {
            tracing::warn!(
                pid = lock.pid,
                "{}: stale lock file (process {} is not the rust-echo server that wrote it); replacing it",
                path.display(),
                lock.pid
            );
        }
    }
    if let Err(e) = lockfile::write(&path) {
        eprintln!(
            "Error: could not write the lock file {}: {e}",
            path.display()
        );
        return Err(ExitCode::FAILURE);
    }
    Ok(Held(path))
}

/// `stop`: SIGTERM the server the lock names, if it is the one that wrote it; remove the lock.
pub(super) fn stop(config: &Path) -> ExitCode {
    let path = lockfile::path_for(config);
    let Some(lock) = lockfile::read(&path) else {
        eprintln!("Error: Could not find any lock file.");
        return ExitCode::FAILURE;
    };
    let _ = std::fs::remove_file(&path);
    if !lockfile::held(lock, Program::RustEcho) {
        eprintln!(
            "Error: no server was running: the lock file named process {}, which is not the rust-echo server that wrote it. Removed the stale lock file.",
            lock.pid
        );
        return ExitCode::FAILURE;
    }
    if !lockfile::terminate(lock.pid, STOP_GRACE) {
        eprintln!("Error: process {} did not stop.", lock.pid);
        return ExitCode::FAILURE;
    }
    println!("Closed the running server.");
    ExitCode::SUCCESS
}

fn is_self(lock: Lock) -> bool {
    i32::try_from(std::process::id()).is_ok_and(|me| me == lock.pid)
}

fn stop_or_fail(lock: Lock, what: &str) -> Result<(), ExitCode> {
    if lockfile::terminate(lock.pid, STOP_GRACE) {
        Ok(())
    } else {
        eprintln!("Error: {what} (process {}) did not stop.", lock.pid);
        Err(ExitCode::FAILURE)
    }
}
