//! The `rust-echo` binary as an operator runs it: config discovery, errors that name the key and
//! the file, the start-up banner, SIGTERM.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rust-echo");

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rust-echo-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str], cwd: &Path) -> (i32, String, String) {
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

/// No config file: exit 1 with the path named.
#[test]
fn missing_config_file() {
    let dir = temp_dir("missing");
    let (code, _, err) = run(&["start"], &dir);
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        "Error: the config file could not be found: laravel-echo-server.json"
    );
}

/// Broken JSON and invalid values: exit 1, the file and the key named.
#[test]
fn invalid_config_values() {
    let dir = temp_dir("invalid");
    std::fs::write(dir.join("bad.json"), "{\"port\": ").unwrap();
    let (code, _, err) = run(&["start", "--config", "bad.json"], &dir);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("Error: the config file bad.json is not valid JSON: EOF"),
        "{err}"
    );

    std::fs::write(dir.join("typed.json"), r#"{"authHost": 5}"#).unwrap();
    let (code, _, err) = run(&["start", "--config", "typed.json"], &dir);
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        "Error: invalid value for `authHost` in typed.json: expected a URL or an array of URLs"
    );
}

/// `--dir` locates the file; the banner names the address; unknown keys warn; SIGTERM exits 0.
#[test]
fn start_banner_warnings_and_sigterm() {
    let dir = temp_dir("start");
    std::fs::write(
        dir.join("laravel-echo-server.json"),
        r#"{"host":"127.0.0.1","port":0,"subscribers":{"redis":false},"someKey":1}"#,
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .args(["start", "--dev", "--dir"])
        .arg(&dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let ready = line == "Server ready!";
        banner.push(line);
        if ready {
            break;
        }
    }
    assert_eq!(banner[1], "Starting server in DEV mode...");
    assert!(
        banner[2].starts_with("✔  Running at http://127.0.0.1 on port "),
        "{banner:?}"
    );
    assert_eq!(banner[3], "✔  Listening for http events...");
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("unknown key `someKey` is ignored"), "{err}");
}

/// `--version` and `--help` answer without a config file.
#[test]
fn version_and_help() {
    let dir = temp_dir("version");
    let (code, out, _) = run(&["--version"], &dir);
    assert_eq!(
        (code, out.trim()),
        (
            0,
            format!("rust-echo {}", env!("CARGO_PKG_VERSION")).as_str()
        )
    );
    let (code, out, _) = run(&["--help"], &dir);
    assert_eq!(code, 0);
    assert!(out.contains("start"));
}
