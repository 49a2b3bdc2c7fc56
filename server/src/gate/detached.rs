//! The handshake request a new Socket.IO session keeps for its whole life, cut down to what is
//! read from it.
//!
//! Engine.IO keeps a copy of the handshake's request parts in every session (the Socket.IO
//! layer exposes them as `req_parts`). As hyper parses it, that request holds its URI and
//! headers as slices of the connection's 8–16 KiB read buffer, every header a browser sent
//! (each an entry of about 100 bytes in the `HeaderMap`) and every extension the router and
//! the listener added. Per idle connection that was about 1 KiB of headers and extensions that
//! nothing reads after the handshake, and the read buffer itself.

use axum::extract::{ConnectInfo, Request};
use axum::http::{Extensions, HeaderMap, HeaderName, HeaderValue, header};
use hyper::upgrade::OnUpgrade;

use crate::listener::Peer;
use crate::listener::watchdog::Hangup;

/// The headers a session reads after its handshake: those rust-echo forwards to the auth
/// endpoint or uses to pick it (`protocol::connection`), and those Engine.IO answers the
/// handshake itself from (the WebSocket key; the content type of a polling POST).
const KEPT_HEADERS: [HeaderName; 7] = [
    header::COOKIE,
    header::REFERER,
    header::ORIGIN,
    header::USER_AGENT,
    HeaderName::from_static("x-forwarded-for"),
    header::SEC_WEBSOCKET_KEY,
    header::CONTENT_TYPE,
];

/// The request with its URI and the headers of [`KEPT_HEADERS`] copied out of the connection's
/// read buffer, and only the extensions the session or the upgrade reads: the peer's address,
/// the connection's [`Hangup`] and hyper's upgrade handle.
pub(super) fn detached(req: Request) -> Request {
    let (mut parts, body) = req.into_parts();
    parts.headers = kept_headers(&parts.headers);
    parts.extensions = kept_extensions(&mut parts.extensions);
    if let Ok(uri) = parts.uri.to_string().parse() {
        parts.uri = uri;
    }
    Request::from_parts(parts, body)
}

/// Copies of the [`KEPT_HEADERS`], every value of each, in order.
fn kept_headers(headers: &HeaderMap) -> HeaderMap {
    let count = KEPT_HEADERS
        .iter()
        .map(|name| headers.get_all(name).iter().count())
        .sum();
    let mut kept = HeaderMap::with_capacity(count);
    for name in &KEPT_HEADERS {
        for value in headers.get_all(name) {
            if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
                kept.append(name.clone(), value);
            }
        }
    }
    kept
}

fn kept_extensions(extensions: &mut Extensions) -> Extensions {
    let mut kept = Extensions::new();
    if let Some(peer) = extensions.remove::<ConnectInfo<Peer>>() {
        kept.insert(peer);
    }
    if let Some(hangup) = extensions.remove::<Hangup>() {
        kept.insert(hangup);
    }
    if let Some(upgrade) = extensions.remove::<OnUpgrade>() {
        kept.insert(upgrade);
    }
    kept
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::body::Body;

    use super::*;

    fn browser_handshake() -> Request {
        let mut req = Request::builder()
            .uri("/socket.io/?EIO=3&transport=websocket")
            .header("Host", "example.com")
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("Sec-WebSocket-Version", "13")
            .header("Accept-Language", "en-GB,en;q=0.9")
            .header("Cookie", "a=1")
            .header("Cookie", "b=2")
            .header("Origin", "https://example.com")
            .header("Referer", "https://example.com/page")
            .header("User-Agent", "Mozilla/5.0")
            .header("X-Forwarded-For", "203.0.113.9")
            .body(Body::empty())
            .unwrap_or_default();
        let addr = SocketAddr::from(([192, 0, 2, 1], 4321));
        req.extensions_mut().insert(ConnectInfo(Peer(addr)));
        req.extensions_mut().insert(7_u32);
        req
    }

    #[test]
    fn keeps_the_headers_a_session_reads_and_drops_the_rest() {
        let req = detached(browser_handshake());
        let h = req.headers();
        let cookies: Vec<_> = h.get_all("cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(h["origin"], "https://example.com");
        assert_eq!(h["referer"], "https://example.com/page");
        assert_eq!(h["user-agent"], "Mozilla/5.0");
        assert_eq!(h["x-forwarded-for"], "203.0.113.9");
        assert_eq!(h["sec-websocket-key"], "dGhlIHNhbXBsZSBub25jZQ==");
        for dropped in [
            "host",
            "upgrade",
            "connection",
            "sec-websocket-version",
            "accept-language",
        ] {
            assert!(h.get(dropped).is_none(), "{dropped} should not be kept");
        }
        assert_eq!(h.len(), 7);
        assert_eq!(req.uri(), "/socket.io/?EIO=3&transport=websocket");
    }

    #[test]
    fn keeps_the_peer_address_and_drops_other_extensions() {
        let req = detached(browser_handshake());
        let peer = req.extensions().get::<ConnectInfo<Peer>>();
        assert_eq!(
            peer.map(|ConnectInfo(Peer(addr))| addr.to_string())
                .as_deref(),
            Some("192.0.2.1:4321")
        );
        assert!(req.extensions().get::<u32>().is_none());
    }
}
