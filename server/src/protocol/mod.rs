//! The Socket.IO side of laravel-echo-server's protocol: what happens when a client connects,
//! sends `subscribe`, `unsubscribe` or `client event`, and disconnects. Unknown events and
//! payloads of the wrong shape are ignored (logged at DEBUG); nothing a client sends can stop
//! the server.
//!
//! socketioxide calls a socket's handlers in the order its packets arrived, and every handler
//! here applies its effect before it returns; only a guarded subscribe's wait for the app's
//! answer runs in the future socketioxide spawns (see [`subscriptions`]). So a socket's events
//! take effect in the order it sent them.

mod connection;
mod rate;
mod subscribe;
mod subscriptions;
mod whisper;

use std::sync::Arc;

use serde_json::Value;
use socketioxide::ParserError;
use socketioxide::extract::{SocketRef, TryData};
use socketioxide::socket::DisconnectReason;

use crate::engine::{Engine, dev_log};
use crate::gate::Gate;
pub(crate) use connection::Connection;
pub(crate) use rate::{Bucket, Verdict};
use socketioxide::handler::ConnectHandler;
pub(crate) use subscribe::{PRESENCE_JOINING, PRESENCE_LEAVING, PRESENCE_SUBSCRIBED};

/// Client → server event names.
const SUBSCRIBE: &str = "subscribe";
const UNSUBSCRIBE: &str = "unsubscribe";
const CLIENT_EVENT: &str = "client event";

/// The log line for clients disconnected for breaking the protocol.
static VIOLATION_LOG: crate::logging::Throttle =
    crate::logging::Throttle::new(std::time::Duration::from_secs(10));

/// Register the handlers on the default namespace (the only one laravel-echo uses). Past
/// `maxConnections` a connect is refused with a `connect_error` carrying the reason (the HTTP
/// gate refuses most earlier; this catches handshakes that raced past it).
pub(crate) fn register(engine: &Arc<Engine>, gate: Gate) {
    let io = engine.io.clone();
    let e = engine.clone();
    // socketioxide sends the CONNECT acknowledgement after the middleware and before the
    // handler: a client that subscribes the moment it is acknowledged can be heard before the
    // handler ran, and an event without a handler is dropped. So the handlers are registered
    // here, before the acknowledgement.
    let admit = move |socket: SocketRef, TryData(auth): TryData<Value>| {
        let verdict = gate.admit_connect();
        if verdict.is_ok() {
            on_connect(&e, &socket, auth);
        }
        async move { verdict }
    };
    let engine = engine.clone();
    let handler = move |socket: SocketRef| {
        engine.stats.connected();
        dev_log!(engine, socket = %socket.id, "client connected");
        async {}
    };
    io.ns("/", handler.with(admit));
}

fn on_connect(engine: &Arc<Engine>, socket: &SocketRef, auth: Result<Value, ParserError>) {
    let conn = Arc::new(Connection::new(
        socket,
        auth.as_ref().unwrap_or(&Value::Null),
        &engine.config,
    ));
    if let Err(e) = &auth {
        crate::undecodable::undecodable(engine, socket, &conn.strikes, "connect", e);
    }

    let (e, c) = (engine.clone(), conn.clone());
    socket.on(
        SUBSCRIBE,
        move |s: SocketRef, TryData(data): TryData<Value>| {
            // Runs now, in arrival order; the future only waits for the app's answer.
            let asking = decoded(&e, &c, &s, SUBSCRIBE, data)
                .and_then(|data| subscribe::on_subscribe(&e, &c, &s, &data));
            async move {
                if let Some(asking) = asking {
                    asking.await;
                }
            }
        },
    );
    let (e, c) = (engine.clone(), conn.clone());
    socket.on(
        UNSUBSCRIBE,
        move |s: SocketRef, TryData(data): TryData<Value>| {
            if let Some(data) = decoded(&e, &c, &s, UNSUBSCRIBE, data) {
                subscribe::on_unsubscribe(&e, &c, &s, &data);
            }
            async {}
        },
    );
    let (e, c) = (engine.clone(), conn.clone());
    socket.on(
        CLIENT_EVENT,
        move |s: SocketRef, TryData(data): TryData<Value>| {
            if let Some(data) = decoded(&e, &c, &s, CLIENT_EVENT, data) {
                whisper::on_client_event(&e, &c, &s, data);
            }
            async {}
        },
    );
    let e = engine.clone();
    socket.on_disconnect(move |s: SocketRef, reason: DisconnectReason| {
        on_disconnect(&e, &conn, &s, reason);
        async {}
    });
}

/// The payload, or `None` after counting an undecodable one against the client.
fn decoded(
    engine: &Engine,
    conn: &Connection,
    socket: &SocketRef,
    event: &str,
    data: Result<Value, ParserError>,
) -> Option<Value> {
    data.map_err(|e| crate::undecodable::undecodable(engine, socket, &conn.strikes, event, &e))
        .ok()
}

/// Every channel of this socket is left (presence members too: others see `presence:leaving`
/// when it was the user's last socket); socketioxide then removes the socket from its rooms.
fn on_disconnect(engine: &Engine, conn: &Connection, socket: &SocketRef, reason: DisconnectReason) {
    engine.stats.disconnected(reason_label(reason));
    crate::gate::sessions::left_namespace(socket, reason);
    subscribe::on_close(engine, conn, socket);
    match reason {
        DisconnectReason::TransportError => {
            tracing::info!(socket = %socket.id, "client disconnected: transport error (network failure, or a packet over socketio.maxHttpBufferSize)");
        }
        DisconnectReason::PacketParsingError | DisconnectReason::MultipleHttpPollingError => {
            // Any client can break the protocol on purpose: one line per period, the rest counted.
            if let Some(held_back) = VIOLATION_LOG.admit(&engine.stats) {
                tracing::warn!(socket = %socket.id, %reason, violations_since_last_line = held_back + 1,
                    "client disconnected: protocol violation");
            }
        }
        _ => dev_log!(engine, socket = %socket.id, %reason, "client disconnected"),
    }
}

/// The `reason` label of `rust_echo_disconnects_total`.
fn reason_label(reason: DisconnectReason) -> &'static str {
    match reason {
        DisconnectReason::TransportClose => "transport_close",
        DisconnectReason::MultipleHttpPollingError => "multiple_http_polling",
        DisconnectReason::PacketParsingError => "packet_parsing",
        DisconnectReason::TransportError => "transport_error",
        DisconnectReason::HeartbeatTimeout => "heartbeat_timeout",
        DisconnectReason::ClientNSDisconnect => "client_disconnect",
        DisconnectReason::ServerNSDisconnect => "server_disconnect",
        DisconnectReason::ClosingServer => "server_closing",
    }
}
