//! The lock file beside the config (`<config>.lock`, `{"process": <pid>, "started": <ticks>}`):
//! it stops a second `start` in the same folder and tells `stop` which process to end.
//!
//! A pid alone does not name a process for long: after a reboot or enough forks the pid in an
//! old lock belongs to some unrelated program, which laravel-echo-server would refuse to start
//! beside or SIGTERM. So the lock also records the process's start time (field 22 of
//! `/proc/<pid>/stat`, clock ticks since boot), and a process counts as the lock's holder only
//! when pid and start time both match. A lock without a start time (laravel-echo-server's, or an
//! older rust-echo's) is trusted only when the process's command line names the expected program.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The program a lock file belongs to, as seen in `/proc/<pid>/cmdline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Program {
    /// This server.
    RustEcho,
    /// laravel-echo-server (Node), whose lock is `<config name without .json>.lock`.
    LaravelEchoServer,
}

impl Program {
    fn name(self) -> &'static str {
        match self {
            Program::RustEcho => "rust-echo",
            Program::LaravelEchoServer => "laravel-echo-server",
        }
    }
}

/// What a lock file records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Lock {
    /// The process id.
    pub pid: i32,
    /// Its start time, when the writer recorded it.
    pub started: Option<u64>,
}

/// rust-echo's lock file for a config file: `<config>.lock`.
pub(super) fn path_for(config: &Path) -> PathBuf {
    let mut name = config
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    config.with_file_name(name)
}

/// laravel-echo-server's lock file for a config file: `.json` replaced by `.lock`.
pub(super) fn les_path_for(config: &Path) -> PathBuf {
    let name = config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".json").unwrap_or(&name);
    config.with_file_name(format!("{stem}.lock"))
}

/// The lock recorded in a file, if it exists and parses.
pub(super) fn read(lock: &Path) -> Option<Lock> {
    let text = std::fs::read_to_string(lock).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let pid = value.get("process")?.as_i64()?;
    Some(Lock {
        pid: i32::try_from(pid).ok()?,
        started: value.get("started").and_then(serde_json::Value::as_u64),
    })
}

/// Record this process.
pub(super) fn write(lock: &Path) -> std::io::Result<()> {
    let pid = std::process::id();
    let started = i32::try_from(pid).ok().and_then(start_time);
    let body = serde_json::json!({ "process": pid, "started": started }).to_string();
    std::fs::write(lock, body)
}

/// Whether the process a lock names still runs and is the `program` that wrote the lock.
pub(super) fn held(lock: Lock, program: Program) -> bool {
    if !alive(lock.pid) {
        return false;
    }
    match lock.started {
        Some(started) => start_time(lock.pid) == Some(started),
        None => command_line(lock.pid).is_some_and(|c| c.contains(program.name())),
    }
}

/// Fields of `/proc/<pid>/stat` after the command name ("pid (comm) S ppid ..."), which may
/// itself contain spaces and parentheses.
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    if pid <= 0 {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// The process's start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`).
fn start_time(pid: i32) -> Option<u64> {
    stat_fields(pid)?.get(19)?.parse().ok()
}

/// The command line, arguments joined by spaces.
fn command_line(pid: i32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(String::from_utf8_lossy(&raw).replace('\0', " "))
}

/// Whether a process with this pid runs (an exited one waiting to be reaped does not).
pub(super) fn alive(pid: i32) -> bool {
    let state = stat_fields(pid).and_then(|f| f.first().and_then(|s| s.chars().next()));
    !matches!(state, Some('Z' | 'X') | None)
}

/// Send SIGTERM to `pid` and wait up to `grace` for it to exit.
pub(super) fn terminate(pid: i32, grace: Duration) -> bool {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    let started = Instant::now();
    while ok && alive(pid) && started.elapsed() < grace {
        std::thread::sleep(Duration::from_millis(20));
    }
    ok && !alive(pid)
}

/// Removes the lock file when dropped, if it still names this process.
pub(super) struct Held(pub PathBuf);

impl Drop for Held {
    fn drop(&mut self) {
        if read(&self.0).map(|l| l.pid) == i32::try_from(std::process::id()).ok() {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_holds_its_own_lock() {
        let pid = i32::try_from(std::process::id()).unwrap_or(0);
        let started = start_time(pid);
        assert!(started.is_some());
        let lock = Lock { pid, started };
        assert!(held(lock, Program::RustEcho));
        let reused = Lock {
            pid,
            started: started.map(|s| s + 1),
        };
        assert!(!held(reused, Program::RustEcho), "another start time");
    }

    #[test]
    fn lock_names() {
        let config = Path::new("/srv/app/laravel-echo-server.json");
        assert_eq!(
            path_for(config),
            Path::new("/srv/app/laravel-echo-server.json.lock")
        );
        assert_eq!(
            les_path_for(config),
            Path::new("/srv/app/laravel-echo-server.lock")
        );
    }
}
