//! Child processes the benchmark starts (redis-server, laravel-echo-server, rust-echo, the raw
//! broadcaster): each leads its own process group, logs to a file, and is stopped by its group
//! id when dropped, when the run fails, or when the run is interrupted — nothing outlives it.
#![allow(unsafe_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Process groups still running, for the interrupt handler.
static LIVE: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// A started child; dropping it stops its whole process group.
#[derive(Debug)]
pub struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    /// Start `program args` in `dir`, pinned to `cpu` when given, with output to
    /// `<log_dir>/<name>.log`.
    pub fn spawn(
        name: &str,
        program: &str,
        args: &[&str],
        dir: &Path,
        log_dir: &Path,
        cpu: Option<usize>,
        env: &[(&str, &str)],
    ) -> Result<Proc, String> {
        use std::os::unix::process::CommandExt;
        let log = log_dir.join(format!("{name}.log"));
        let out = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        // taskset execs the program, so the pid (and group) stays the server's own.
        let mut cmd = match cpu {
            Some(c) if c < crate::sys::cpu_count() => {
                let mut cmd = Command::new("taskset");
                cmd.args(["-c", &c.to_string(), program]);
                cmd
            }
            _ => Command::new(program),
        };
        cmd.args(args)
            .current_dir(dir)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name} ({program}): {e}"))?;
        let pgid = i32::try_from(child.id()).unwrap_or(i32::MAX);
        LIVE.lock().unwrap_or_else(|e| e.into_inner()).push(pgid);
        Ok(Proc {
            name: name.to_owned(),
            child,
            log,
        })
    }

    /// The child's pid (its group id too).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait until the log holds `text`; fail if the process exits or `timeout` passes.
    pub fn wait_for_log(&mut self, text: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.contains(text) {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited ({status}) before it was ready; its log:\n{}",
                    self.name,
                    tail(&log)
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not print {text:?} within {timeout:?}; its log:\n{}",
                    self.name,
                    tail(&log)
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// A throw-away redis-server on 127.0.0.1:`port` (no snapshots, no append-only file), run in
/// and logging to `dir` as `<name>.log`, pinned to `cpu` when given; returns once it accepts
/// connections.
pub fn redis_server(name: &str, port: u16, dir: &Path, cpu: Option<usize>) -> Result<Proc, String> {
    let port = port.to_string();
    let args = [
        "--port",
        &port,
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ];
    let mut redis = Proc::spawn(name, "redis-server", &args, dir, dir, cpu, &[])?;
    redis.wait_for_log("Ready to accept connections", Duration::from_secs(10))?;
    Ok(redis)
}

impl Drop for Proc {
    fn drop(&mut self) {
        let pgid = i32::try_from(self.child.id()).unwrap_or(i32::MAX);
        stop_group(pgid);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // SAFETY: kill(2) on our own child's group; harmless if it already exited.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
        LIVE.lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p| *p != pgid);
    }
}

/// SIGTERM a group: servers shut down cleanly (rust-echo removes its ring file).
fn stop_group(pgid: i32) {
    // SAFETY: kill(2) with a negative pid signals that process group only.
    unsafe { libc::kill(-pgid, libc::SIGTERM) };
}

/// Stop every group still running (the run was interrupted), then SIGKILL after a grace.
pub fn stop_all() {
    let groups = LIVE.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for g in &groups {
        stop_group(*g);
    }
    std::thread::sleep(Duration::from_millis(500));
    for g in &groups {
        // SAFETY: as above.
        unsafe { libc::kill(-*g, libc::SIGKILL) };
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
