//! The lock file beside the config (`<config>.lock`, `{"process": <pid>}`), as laravel-echo-server
//! writes it: it stops a second `start` in the same folder and tells `stop` which process to end.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The lock file for a config file.
pub(super) fn path_for(config: &Path) -> PathBuf {
    let mut name = config
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    config.with_file_name(name)
}

/// The pid recorded in a lock file, if it exists and parses.
pub(super) fn read(lock: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(lock).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value
        .get("process")?
        .as_i64()
        .and_then(|p| i32::try_from(p).ok())
}

/// Record this process.
pub(super) fn write(lock: &Path) -> std::io::Result<()> {
    let body = serde_json::json!({ "process": std::process::id() }).to_string();
    std::fs::write(lock, body)
}

/// Whether a process with this pid runs (an exited one waiting to be reaped does not).
pub(super) fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) S ...": the state follows the last ')'.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
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
        if read(&self.0) == i32::try_from(std::process::id()).ok() {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}
