//! What the CLI tests share: running the binary, reading its banner, signalling it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_rust-echo");

pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rust-echo-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Read the started server's stdout up to and including `Server ready!`.
pub fn banner_until_ready(child: &mut std::process::Child) -> Vec<String> {
    let mut banner = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let ready = line == "Server ready!";
        banner.push(line);
        if ready {
            break;
        }
    }
    banner
}

pub fn run(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Send `signal` (e.g. `TERM`) to the child with kill(1).
pub fn signal(child: &std::process::Child, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal}");
}

/// The binary with `args`, run in `cwd`: warnings only in the log (not read), its banner on a
/// pipe. Tests adjust the rest, then [`ready`].
pub fn command(args: &[&str], cwd: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(cwd)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    cmd
}

/// Spawn `cmd` and read its banner up to `Server ready!`.
pub fn ready(cmd: &mut Command) -> (std::process::Child, Vec<String>) {
    let mut child = cmd.spawn().unwrap();
    let banner = banner_until_ready(&mut child);
    (child, banner)
}

/// SIGTERM, and the server exits 0.
pub fn stop(child: &mut std::process::Child) {
    signal(child, "TERM");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

pub fn spawn_start(dir: &Path, extra: &[&str]) -> (std::process::Child, Vec<String>) {
    let mut cmd = command(&["start", "--dir"], dir);
    ready(cmd.arg(dir).args(extra))
}

pub fn write_config(dir: &Path) {
    std::fs::write(
        dir.join("laravel-echo-server.json"),
        r#"{"host":"127.0.0.1","port":0,"subscribers":{"redis":false},"shm":{"enabled":false}}"#,
    )
    .unwrap();
}
