//! The `X-Forwarded-For` the auth endpoint sees: a client's own value is kept only as a claim
//! with the real peer address appended, as a proxy does; the chain of a trusted proxy is kept.
mod common;

use std::time::Duration;

use common::{AuthStub, Client, TestServer};
use serde_json::{Value, json};

/// The `X-Forwarded-For` of the auth request for one private subscribe.
async fn seen(
    trusted: &[&str],
    handshake: &[(&str, &str)],
    connect: Option<Value>,
    subscribe: Value,
) -> String {
    let stub = AuthStub::start(|_, _| (200, "true".to_owned(), Duration::ZERO)).await;
    let trusted: Vec<String> = trusted.iter().map(|t| (*t).to_owned()).collect();
    let s = TestServer::start(|c| {
        c.auth_host = vec![stub.url.clone()];
        c.trusted_proxies =
            rust_echo_server::forwarded::TrustedProxies::parse(&trusted).expect("proxies");
    })
    .await;
    let eio = if connect.is_some() { 4 } else { 3 };
    let mut c = Client::connect_with(s.addr, "/socket.io", eio, handshake, connect).await;
    c.emit(
        "subscribe",
        json!({"channel": "private-x", "auth": {"headers": subscribe}}),
    )
    .await;
    assert!(
        common::eventually(common::WAIT, || !stub.recorded().is_empty()).await,
        "no auth request"
    );
    let r = &stub.recorded()[0];
    assert_eq!(
        r.headers.get_all("x-forwarded-for").iter().count(),
        1,
        "one header"
    );
    r.headers["x-forwarded-for"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// A client's handshake header is a claim: the peer address is appended.
#[tokio::test]
async fn handshake_header_gets_the_peer_appended() {
    let xff = [("X-Forwarded-For", "6.6.6.6")];
    assert_eq!(seen(&[], &xff, None, json!({})).await, "6.6.6.6, 127.0.0.1");
}

/// Echo's `auth.headers`, on the subscribe or on a socket.io ≥ 3 CONNECT, cannot replace the
/// chain either.
#[tokio::test]
async fn auth_headers_cannot_choose_the_address() {
    let claim = json!({"X-Forwarded-For": "6.6.6.6"});
    assert_eq!(
        seen(&[], &[], None, claim.clone()).await,
        "6.6.6.6, 127.0.0.1"
    );
    let connect = json!({"headers": claim});
    assert_eq!(
        seen(&[], &[], Some(connect), json!({})).await,
        "6.6.6.6, 127.0.0.1"
    );
    let xff = [("X-Forwarded-For", "7.7.7.7")];
    assert_eq!(
        seen(&[], &xff, None, claim).await,
        "6.6.6.6, 7.7.7.7, 127.0.0.1"
    );
}

/// From a trusted proxy (here the loopback peer), the chain it sent is kept as it is; a claim in
/// `auth.headers` still only goes on its left.
#[tokio::test]
async fn a_trusted_proxy_keeps_its_chain() {
    let xff = [("X-Forwarded-For", "198.51.100.1, 203.0.113.7")];
    assert_eq!(
        seen(&["127.0.0.0/8"], &xff, None, json!({})).await,
        "198.51.100.1, 203.0.113.7"
    );
    let claim = json!({"X-Forwarded-For": "6.6.6.6"});
    assert_eq!(
        seen(&["127.0.0.1"], &xff, None, claim).await,
        "6.6.6.6, 198.51.100.1, 203.0.113.7"
    );
    // A trusted proxy that sent no header: the peer itself.
    assert_eq!(
        seen(&["127.0.0.1"], &[], None, json!({})).await,
        "127.0.0.1"
    );
    // A peer outside the trusted ranges is not trusted.
    assert_eq!(
        seen(&["10.0.0.0/8"], &xff, None, json!({})).await,
        "198.51.100.1, 203.0.113.7, 127.0.0.1"
    );
}

/// `trustedProxies` in the config file: addresses or CIDR ranges, and a clear error otherwise.
#[test]
fn trusted_proxies_are_read_from_the_config() {
    let loaded = rust_echo_server::Config::from_value(
        &json!({"trustedProxies": ["10.0.0.0/8", "192.0.2.7", "fd00::/8"]}),
        "test",
    )
    .expect("valid");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let err = rust_echo_server::Config::from_value(&json!({"trustedProxies": ["lb"]}), "test")
        .expect_err("invalid");
    assert!(err.to_string().contains("trustedProxies"), "{err}");
}
