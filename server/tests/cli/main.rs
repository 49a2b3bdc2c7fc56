//! The `rust-echo` binary as an operator runs it: config discovery, errors that name the key and
//! the file, the start-up banner, SIGTERM.
#![allow(clippy::unwrap_used)]

mod lock;
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use support::{BIN, banner_until_ready, command, ready, run, signal, stop, temp_dir, write_config};

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
        r#"{"host":"127.0.0.1","port":0,"subscribers":{"redis":false},"metrics":{"port":0},"someKey":1}"#,
    )
    .unwrap();
    let mut cmd = command(&["start", "--dev", "--dir"], &dir);
    let (mut child, banner) = ready(cmd.arg(&dir).env("RUST_LOG", "info").stderr(Stdio::piped()));
    assert_eq!(banner[1], "Starting server in DEV mode...");
    assert!(
        banner[2].starts_with("✔  Running at http://127.0.0.1 on port "),
        "{banner:?}"
    );
    assert_eq!(banner[3], "✔  Listening for http events...");
    assert!(
        banner[4].starts_with("✔  Listening on the shared-memory ring rust-echo-"),
        "{banner:?}"
    );
    assert!(
        banner[5].starts_with("✔  Metrics at http://127.0.0.1:") && banner[5].ends_with("/metrics"),
        "{banner:?}"
    );
    // The log, line by line, as the server writes it.
    let (lines, log) = std::sync::mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        stderr
            .lines()
            .map_while(Result::ok)
            .try_for_each(|l| lines.send(l))
    });
    let mut err = String::new();
    let mut until = |what: &str| {
        while !err.contains(what) {
            let line = log
                .recv_timeout(std::time::Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no `{what}` in the log: {err}"));
            err.push_str(&line);
            err.push('\n');
        }
    };
    // SIGHUP reloads certificates (none here) and keeps the server running.
    signal(&child, "HUP");
    until("SIGHUP: nothing to reload");
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP does not stop the server"
    );
    signal(&child, "TERM");
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
    until("unknown key `someKey` is ignored");
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

/// `client:add` and `client:remove` edit only the clients, keep unknown keys, and refuse an
/// unknown id (laravel-echo-server removed the last client instead).
#[test]
fn clients_are_added_renewed_and_removed() {
    let dir = temp_dir("clients");
    let file = dir.join("laravel-echo-server.json");
    std::fs::write(
        &file,
        r#"{"port":"6001","custom":{"keep":true},"clients":[{"appId":"a","key":"k"}]}"#,
    )
    .unwrap();
    let read = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
    };

    let (code, out, _) = run(&["client:add"], &dir);
    assert_eq!(code, 0);
    assert!(out.starts_with("API Client added!\nappId: "), "{out}");
    let config = read();
    let added = &config["clients"][1];
    assert_eq!(added["appId"].as_str().unwrap().len(), 16);
    assert_eq!(added["key"].as_str().unwrap().len(), 32);
    assert_eq!(config["custom"], serde_json::json!({"keep": true}));
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("\n\t\"clients\""),
        "tab-indented"
    );

    let (code, out, _) = run(&["client:add", "a"], &dir);
    assert!(code == 0 && out.starts_with("API Client updated!"), "{out}");
    let renewed = read()["clients"][0]["key"].as_str().unwrap().to_owned();
    assert_ne!(renewed, "k");
    assert_eq!(renewed.len(), 32);

    let before = std::fs::read_to_string(&file).unwrap();
    let (code, _, err) = run(&["client:remove", "nope"], &dir);
    assert_eq!(
        (code, err.trim()),
        (1, "Error: no API client with appId nope")
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        before,
        "file untouched"
    );

    let (code, out, _) = run(&["client:remove", "a"], &dir);
    assert_eq!((code, out.trim()), (0, "API Client removed!"));
    let ids: Vec<String> = read()["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["appId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1);
    assert_ne!(ids[0], "a");
}

/// `init --yes` writes laravel-echo-server's keys from flags; without `--yes` it asks.
#[test]
fn init_writes_a_config_file() {
    let dir = temp_dir("init");
    let (code, out, _) = run(
        &[
            "init",
            "--yes",
            "--port",
            "6002",
            "--auth-host",
            "http://app.test",
            "--client",
            "--cors",
        ],
        &dir,
    );
    assert_eq!(code, 0, "{out}");
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("laravel-echo-server.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(config["port"], "6002");
    assert_eq!(config["authHost"], "http://app.test");
    assert_eq!(config["devMode"], false);
    assert_eq!(config["clients"][0]["key"].as_str().unwrap().len(), 32);
    assert_eq!(config["apiOriginAllow"]["allowCors"], true);
    assert_eq!(config["apiOriginAllow"]["allowMethods"], "GET, POST");
    assert_eq!(
        config["subscribers"],
        serde_json::json!({"http": true, "redis": true})
    );

    let mut child = Command::new(BIN)
        .args(["init", "--config", "asked.json"])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // dev mode, port, auth host, protocol, client, CORS
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"y\n7001\n\nhttp\nn\nn\n").unwrap();
    assert!(child.wait().unwrap().success());
    let asked: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("asked.json")).unwrap()).unwrap();
    assert_eq!(
        (asked["devMode"].clone(), asked["port"].clone()),
        (serde_json::json!(true), serde_json::json!("7001"))
    );
    assert_eq!(asked["authHost"], "http://localhost");
    assert_eq!(asked["clients"], serde_json::json!([]));
}

/// Environment variables (and `.env` in the working directory) win over the file; an invalid
/// value names the variable.
#[test]
fn environment_overrides_the_file() {
    let dir = temp_dir("env");
    std::fs::write(
        dir.join("laravel-echo-server.json"),
        r#"{"host":"0.0.0.0","port":"6001","subscribers":{"redis":false},"shm":{"enabled":false}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join(".env"),
        "RUST_ECHO_DEVMODE=true\nLARAVEL_ECHO_SERVER_HOST=10.9.9.9\n",
    )
    .unwrap();
    let (mut child, banner) = ready(
        command(&["start"], &dir)
            .env("RUST_ECHO_PORT", "0")
            .env("LARAVEL_ECHO_SERVER_HOST", "127.0.0.1"),
    );
    assert_eq!(banner[1], "Starting server in DEV mode...", "from .env");
    assert!(
        banner[2].starts_with("✔  Running at http://127.0.0.1 on port "),
        "environment beats .env: {banner:?}"
    );
    assert!(
        !banner[2].ends_with(" 6001"),
        "RUST_ECHO_PORT beats the file: {banner:?}"
    );
    stop(&mut child);

    let out = Command::new(BIN)
        .arg("start")
        .current_dir(&dir)
        .env("LARAVEL_ECHO_SERVER_PORT", "abc")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "Error: invalid value for `port` in environment variable LARAVEL_ECHO_SERVER_PORT: expected a port number (0-65535)"
    );
}

/// A Reverb `.env` in the working directory makes its app the Pusher app, as the banner says;
/// `--no-env` (how `rust-echo:serve` runs the binary) reads no variable.
#[test]
fn reverb_env_makes_the_pusher_app() {
    let dir = temp_dir("reverb-env");
    write_config(&dir);
    std::fs::write(
        dir.join(".env"),
        "REVERB_APP_ID=743051\nREVERB_APP_KEY=pssrf76myf3ufjk29711\nREVERB_APP_SECRET=\"s3cret\"\n",
    )
    .unwrap();
    let start = |extra: &[&str]| {
        let (mut child, banner) = ready(command(&["start"], &dir).args(extra));
        stop(&mut child);
        banner
    };
    let line = "✔  Pusher protocol for app 743051 at /app/pssrf76myf3ufjk29711".to_owned();
    assert!(start(&[]).contains(&line));
    assert!(!start(&["--no-env"]).iter().any(|l| l.contains("Pusher")));
}

/// `--log-format json` writes one JSON object per log line.
#[test]
fn json_logs() {
    let dir = temp_dir("jsonlog");
    write_config(&dir);
    let mut cmd = command(&["start", "--dev", "--log-format", "json", "--dir"], &dir);
    let (mut child, _) = ready(cmd.arg(&dir).env_remove("RUST_LOG").stderr(Stdio::piped()));
    stop(&mut child);
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "shutting down"),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["timestamp"].is_string())
    );
}

/// `start --config - --no-env` takes the whole configuration from standard input (no file holds
/// its secrets), applies no variable, and writes no lock file.
#[test]
fn configuration_from_standard_input() {
    let dir = temp_dir("stdin");
    let mut child = command(&["start", "--config", "-", "--no-env"], &dir)
        .env("RUST_ECHO_HOST", "10.9.9.9")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(
        &mut stdin,
        br#"{"host":"127.0.0.1","port":0,"subscribers":{"redis":false},"shm":{"enabled":false},
            "databaseConfig":{"redis":{"password":"s3cret"}},"metrics":{"enabled":false}}"#,
    )
    .unwrap();
    drop(stdin);
    let banner = banner_until_ready(&mut child);
    assert!(
        banner[2].starts_with("✔  Running at http://127.0.0.1 on port "),
        "RUST_ECHO_HOST is not applied: {banner:?}"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no lock file");
    stop(&mut child);

    let out = Command::new(BIN)
        .args(["start", "--config", "-"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("Error: the configuration on standard input is not valid JSON: EOF"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
