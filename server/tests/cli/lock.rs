//! The lock file: which server runs from a config's folder.

use std::process::{Command, Stdio};

use crate::support::{run, spawn_start, temp_dir, write_config};

/// The lock file: a second start is refused, `--force` replaces the first, `stop` ends the
/// server and removes the lock.
#[test]
fn lock_file_force_and_stop() {
    let dir = temp_dir("lock");
    write_config(&dir);
    let lock = dir.join("laravel-echo-server.json.lock");
    let (mut first, _) = spawn_start(&dir, &[]);
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    assert_eq!(recorded["process"], first.id());

    let (code, _, err) = run(&["start", "--dir", dir.to_str().unwrap()], &dir);
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        "Error: There is already a server running! Use the option '--force' to stop it and start another one."
    );

    let (mut second, banner) = spawn_start(&dir, &["--force"]);
    assert_eq!(banner.last().map(String::as_str), Some("Server ready!"));
    assert_eq!(
        first.wait().unwrap().code(),
        Some(0),
        "the first server stopped gracefully"
    );
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    assert_eq!(recorded["process"], second.id());

    let (code, out, _) = run(&["stop", "--dir", dir.to_str().unwrap()], &dir);
    assert_eq!((code, out.trim()), (0, "Closed the running server."));
    assert_eq!(second.wait().unwrap().code(), Some(0));
    assert!(!lock.exists());
    let (code, _, err) = run(&["stop", "--dir", dir.to_str().unwrap()], &dir);
    assert_eq!(
        (code, err.trim()),
        (1, "Error: Could not find any lock file.")
    );
}

/// A process that is not this config's server, started for a test and killed when dropped.
struct Bystander(std::process::Child);

impl Bystander {
    fn sleep() -> Self {
        Bystander(Command::new("sleep").arg("600").spawn().unwrap())
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn running(&mut self) -> bool {
        self.0.try_wait().unwrap().is_none()
    }
}

impl Drop for Bystander {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A lock naming a live process that is not a rust-echo server (a reused pid) is stale: `start`
/// proceeds and replaces it, `stop` removes it without signalling that process.
#[test]
fn lock_naming_an_unrelated_process_is_stale() {
    let dir = temp_dir("stale");
    write_config(&dir);
    let lock = dir.join("laravel-echo-server.json.lock");
    let mut bystander = Bystander::sleep();
    let stale = format!(r#"{{"process": {}}}"#, bystander.pid());

    std::fs::write(&lock, &stale).unwrap();
    let (mut server, banner) = spawn_start(&dir, &[]);
    assert_eq!(banner.last().map(String::as_str), Some("Server ready!"));
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    assert_eq!(recorded["process"], server.id(), "the lock was replaced");
    assert!(bystander.running());

    // `start --force` beside the live server stops that server, never the bystander.
    let (mut forced, _) = spawn_start(&dir, &["--force"]);
    assert_eq!(server.wait().unwrap().code(), Some(0));
    let (code, out, _) = run(&["stop", "--dir", dir.to_str().unwrap()], &dir);
    assert_eq!((code, out.trim()), (0, "Closed the running server."));
    assert_eq!(forced.wait().unwrap().code(), Some(0));
    assert!(bystander.running());

    // Same pid, another start time: an earlier process of that pid wrote the lock.
    for stale in [
        stale.clone(),
        format!(r#"{{"process": {}, "started": 1}}"#, bystander.pid()),
    ] {
        std::fs::write(&lock, &stale).unwrap();
        let (code, _, err) = run(&["stop", "--dir", dir.to_str().unwrap()], &dir);
        assert_eq!(code, 1);
        assert_eq!(
            err.trim(),
            format!(
                "Error: no server was running: the lock file named process {}, which is not the rust-echo server that wrote it. Removed the stale lock file.",
                bystander.pid()
            )
        );
        assert!(!lock.exists());
        assert!(bystander.running(), "the bystander was not signalled");
    }
}

/// laravel-echo-server's own `bin/server.js` from the e2e packages; under `CI=true` it must exist.
fn laravel_echo_server() -> Option<std::path::PathBuf> {
    let js = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../e2e/node_modules/laravel-echo-server/bin/server.js");
    let found = js.exists() && Command::new("node").arg("--version").output().is_ok();
    if !found && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("laravel-echo-server is not installed (npm ci in e2e/)");
    }
    found.then_some(js)
}

/// A laravel-echo-server running from the same folder (its `laravel-echo-server.lock`) is named,
/// and `start` refuses to run beside it.
#[test]
fn laravel_echo_server_in_the_same_folder() {
    let Some(js) = laravel_echo_server() else {
        eprintln!("skipped: laravel-echo-server is not installed (npm ci in e2e/)");
        return;
    };
    let dir = temp_dir("les");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        dir.join("laravel-echo-server.json"),
        format!(
            r#"{{"host":"127.0.0.1","port":"{port}","subscribers":{{"http":true,"redis":false}},"shm":{{"enabled":false}}}}"#
        ),
    )
    .unwrap();
    let les = Command::new("node")
        .arg(&js)
        .arg("start")
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut les = Bystander(les);
    let ready = std::io::BufRead::lines(std::io::BufReader::new(les.0.stdout.take().unwrap()))
        .map_while(Result::ok)
        .any(|line| line.contains("Server ready!"));
    assert!(ready && dir.join("laravel-echo-server.lock").exists());

    let (code, _, err) = run(&["start", "--dir", dir.to_str().unwrap()], &dir);
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        format!(
            "Error: laravel-echo-server is running from this folder (process {}, {}). Stop it with 'laravel-echo-server stop', or use the option '--force' to stop it and start rust-echo.",
            les.pid(),
            dir.join("laravel-echo-server.lock").display()
        )
    );
    assert!(les.running());
}
