//! `protocol: "https"` with certificates made by `openssl` in the test: served and verified,
//! reloaded in place, encrypted keys, and start-up errors that name the file.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::TestServer;
use rust_echo_server::config::{Protocol, TlsFiles};
use rust_echo_server::{Config, StartError};

/// A fresh folder for one test's files.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rust-echo-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A self-signed certificate for 127.0.0.1 named `cn`: (cert.pem, key.pem).
fn self_signed(dir: &Path, cn: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join(format!("{cn}.crt")), dir.join(format!("{cn}.key")));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "2",
        "-subj",
        &format!("/CN={cn}"),
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-keyout",
        utf8(&key),
        "-out",
        utf8(&cert),
    ]);
    (cert, key)
}

/// Run `openssl` with `args`; it must succeed.
fn openssl(args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl {args:?}");
}

/// The test's temp paths are UTF-8.
fn utf8(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

fn files(cert: &Path, key: &Path) -> TlsFiles {
    TlsFiles {
        cert: cert.to_owned(),
        key: key.to_owned(),
        chain: None,
        passphrase: None,
    }
}

async fn https_server(tls: TlsFiles) -> TestServer {
    TestServer::start(move |c| {
        c.protocol = Protocol::Https;
        c.tls = Some(tls);
    })
    .await
}

/// GET /health over TLS, trusting only `ca`.
async fn health(addr: std::net::SocketAddr, ca: &Path) -> Result<u16, String> {
    let pem = std::fs::read(ca).expect("ca");
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("pem")])
        .build()
        .expect("client");
    client
        .get(format!("https://{addr}/health"))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| format!("{e:?}"))
}

#[tokio::test]
async fn serves_https_and_reloads_the_certificate_in_place() {
    let dir = folder("reload");
    let (cert_a, key_a) = self_signed(&dir, "a");
    let (cert_b, key_b) = self_signed(&dir, "b");
    let served_cert = dir.join("server.crt");
    let served_key = dir.join("server.key");
    std::fs::copy(&cert_a, &served_cert).expect("copy");
    std::fs::copy(&key_a, &served_key).expect("copy");
    let s = https_server(files(&served_cert, &served_key)).await;
    assert_eq!(health(s.addr, &cert_a).await, Ok(200));
    assert!(
        health(s.addr, &cert_b).await.is_err(),
        "b is not served yet"
    );

    // A broken file on reload keeps the current certificate.
    std::fs::write(&served_key, "not a key").expect("write");
    let err = s.handle.reload_tls().expect_err("bad key");
    assert!(err.to_string().contains("server.key"), "{err}");
    assert_eq!(health(s.addr, &cert_a).await, Ok(200));

    std::fs::copy(&cert_b, &served_cert).expect("copy");
    std::fs::copy(&key_b, &served_key).expect("copy");
    assert_eq!(s.handle.reload_tls().ok(), Some(true));
    assert_eq!(health(s.addr, &cert_b).await, Ok(200));
    assert!(
        health(s.addr, &cert_a).await.is_err(),
        "a is no longer served"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn encrypted_keys_need_the_right_passphrase() {
    let dir = folder("encrypted");
    let (cert, key) = self_signed(&dir, "enc");
    let encrypted = dir.join("enc.p8");
    openssl(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-passout",
        "pass:s3cret",
        "-in",
        utf8(&key),
        "-out",
        utf8(&encrypted),
    ]);

    let mut tls = files(&cert, &encrypted);
    let err = start_error(tls.clone()).await;
    assert!(
        err.contains("enc.p8 is encrypted; set sslPassphrase"),
        "{err}"
    );
    tls.passphrase = Some("wrong".to_owned());
    let err = start_error(tls.clone()).await;
    assert!(
        err.contains("enc.p8 could not be decrypted with sslPassphrase"),
        "{err}"
    );
    tls.passphrase = Some("s3cret".to_owned());
    let s = https_server(tls).await;
    assert_eq!(health(s.addr, &cert).await, Ok(200));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn missing_or_wrong_files_are_start_errors_naming_the_path() {
    let dir = folder("errors");
    let (cert, key) = self_signed(&dir, "ok");
    let missing = dir.join("missing.pem");
    let err = start_error(files(&missing, &key)).await;
    assert!(err.starts_with("TLS: could not read "), "{err}");
    assert!(err.contains(&missing.display().to_string()), "{err}");
    let err = start_error(files(&cert, &missing)).await;
    assert!(err.contains(&missing.display().to_string()), "{err}");
    // The key file given as the certificate and the other way round.
    let err = start_error(files(&key, &key)).await;
    assert!(err.contains("holds no PEM certificate"), "{err}");
    let err = start_error(files(&cert, &cert)).await;
    assert!(err.contains("holds no PEM private key"), "{err}");
    // A key that does not belong to the certificate.
    let (_, other_key) = self_signed(&dir, "other");
    let err = start_error(files(&cert, &other_key)).await;
    assert!(err.contains("other.key cannot be used"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn https_without_files_is_a_config_error() {
    let value = serde_json::json!({ "protocol": "https", "sslCertPath": "/etc/c.pem" });
    let err = Config::from_value(&value, "laravel-echo-server.json").expect_err("no key");
    assert_eq!(
        err.to_string(),
        "invalid value for `sslKeyPath` in laravel-echo-server.json: required when protocol is \"https\""
    );
}

async fn start_error(tls: TlsFiles) -> String {
    let config = Config {
        host: Some("127.0.0.1".to_owned()),
        port: 0,
        protocol: Protocol::Https,
        tls: Some(tls),
        ..Config::default()
    };
    match rust_echo_server::start(config).await {
        Ok(_) => panic!("server started"),
        Err(e @ StartError::Tls(_)) => e.to_string(),
        Err(e) => panic!("unexpected error: {e}"),
    }
}
