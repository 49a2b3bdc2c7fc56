//! The ws transport module is responsible for handling websocket connections
//! The only public function is [`new_req`] which is used to upgrade a http request to a websocket connection
//!
//! Other functions are used internally to handle the websocket connection through tasks and channels
//! and to handle upgrade from polling to ws

use std::collections::VecDeque;
use std::sync::Arc;

use futures_util::{
    SinkExt, StreamExt, TryStreamExt,
    stream::{SplitSink, SplitStream},
};
use http::{HeaderValue, Request, Response, StatusCode, request::Parts};
use smallvec::smallvec;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        self, Message,
        handshake::derive_accept_key,
        protocol::{Role, WebSocketConfig},
    },
};
use tokio_util::future::FutureExt as _;

use engineioxide_core::{Packet, PacketBuf, ProtocolVersion, Sid, Str, TransportType};

use crate::{
    DisconnectReason, Socket,
    body::ResponseBody,
    config::EngineIoConfig,
    engine::EngineIo,
    errors::Error,
    handler::EngineIoHandler,
    outgoing::{Outgoing, SharedMessage, SharedRun},
    queue,
    socket::InternalRx,
    transport::{join::join_quiet, make_open_packet},
};

/// Create a response for websocket upgrade
fn ws_response<B>(ws_key: &HeaderValue) -> Response<ResponseBody<B>> {
    let derived = derive_accept_key(ws_key.as_bytes());
    let sec = derived.parse::<HeaderValue>().unwrap();
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(http::header::UPGRADE, HeaderValue::from_static("websocket"))
        .header(
            http::header::CONNECTION,
            HeaderValue::from_static("Upgrade"),
        )
        .header(http::header::SEC_WEBSOCKET_ACCEPT, sec)
        .body(ResponseBody::empty_response())
        .unwrap() // we are only using constants
}

/// Upgrade a websocket request to create a websocket connection.
///
/// If a sid is provided in the query it means that is is upgraded from an existing HTTP polling request.
/// In this case the http polling request is closed and the SID is kept for the websocket
pub fn new_req<R: Send + 'static, B, H: EngineIoHandler>(
    engine: Arc<EngineIo<H>>,
    protocol: ProtocolVersion,
    sid: Option<Sid>,
    req: Request<R>,
) -> Result<Response<ResponseBody<B>>, Error> {
    let (parts, body) = req.into_parts();
    let req = Request::from_parts(parts.clone(), body);

    let ws_key = parts
        .headers
        .get("Sec-WebSocket-Key")
        .ok_or(Error::InvalidWebSocketKey)?
        .clone();

    // PATCH (rust-echo, docs/adr/0011): the wait for the upgrade runs boxed, with the request
    // and its parts (about 500 bytes) inside the box, freed once the connection is upgraded;
    // captured by the task itself they stayed in its future for the connection's whole life.
    let upgraded = Box::pin(async move {
        hyper::upgrade::on(req)
            .await
            .map(|conn| (hyper_util::rt::TokioIo::new(conn), parts))
    });
    tokio::spawn(async move {
        let res = match upgraded.await {
            Ok((conn, parts)) => on_init(engine.clone(), conn, protocol, sid, parts).await,
            Err(_e) => {
                #[cfg(feature = "tracing")]
                tracing::debug!("ws upgrade error: {}", _e);
                return;
            }
        };

        match res {
            Ok(_) => {
                #[cfg(feature = "tracing")]
                tracing::debug!(?sid, "ws closed")
            }
            Err(Error::MultipleWebsocketRequests) => {}
            Err(_e) => {
                #[cfg(feature = "tracing")]
                tracing::debug!(?sid, "ws closed with error: {_e}");
                if let Some(sid) = sid {
                    engine.close_session(sid, DisconnectReason::TransportError);
                }
            }
        }
    });

    Ok(ws_response(&ws_key))
}

/// Handle a websocket connection upgrade
///
/// Sends an open packet if it is not an upgrade from a polling request
///
/// Read packets from the websocket and handle them, it will block until the connection is closed
pub fn on_init<H: EngineIoHandler, S>(
    engine: Arc<EngineIo<H>>,
    conn: S,
    protocol: ProtocolVersion,
    sid: Option<Sid>,
    req_data: Parts,
) -> impl Future<Output = Result<(), Error>> + Send
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // PATCH (rust-echo, docs/adr/0011): the handshake or the upgrade from polling runs boxed,
    // with the connection and the request parts it takes. A task's future is allocated at the
    // size of its largest state for the whole life of the connection; the opening states
    // (upgrade timeout, probe exchange, open packet) and these arguments were several times
    // larger than the reading loop that follows, so every idle connection paid for them.
    let opening = Box::pin(open::<H, S>(engine.clone(), conn, protocol, sid, req_data));
    async move {
        let (socket, ws, heartbeat) = opening.await?;
        serve::<H, S>(engine, socket, ws, heartbeat).await;
        Ok(())
    }
}

/// An open session, its websocket stream, and whether this connection runs the session's
/// heartbeat (a new session does; a session upgraded from polling has its heartbeat task).
type Opened<H, S> = (
    Arc<Socket<<H as EngineIoHandler>::Data>>,
    WebSocketStream<S>,
    bool,
);

/// Opens the session of a new websocket connection, or takes over a polling session upgrading.
// PATCH (rust-echo, docs/adr/0011): the trace span moved here from `on_init`: `instrument` awaits
// the body in one of two branches (span enabled or not), which doubled the size of the future
// that the connection's task keeps for its whole life.
#[cfg_attr(
    feature = "tracing",
    tracing::instrument(level = "trace", name = "init_websocket", skip(engine, conn, req_data))
)]
async fn open<H: EngineIoHandler, S>(
    engine: Arc<EngineIo<H>>,
    conn: S,
    protocol: ProtocolVersion,
    sid: Option<Sid>,
    req_data: Parts,
) -> Result<Opened<H, S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let ws_config = WebSocketConfig::default()
        .read_buffer_size(engine.config.ws_read_buffer_size)
        .max_message_size(Some(engine.config.ws_max_message_size))
        .max_frame_size(Some(engine.config.ws_max_frame_size));

    let ws_init = move || WebSocketStream::from_raw_socket(conn, Role::Server, Some(ws_config));
    let opened = if let Some(sid) = sid {
        match engine.get_socket(sid) {
            None => return Err(Error::UnknownSessionID(sid)),
            Some(socket) if socket.is_ws() => return Err(Error::MultipleWebsocketRequests),
            Some(socket) => {
                let mut ws = ws_init().await;

                let upgrade_fut = upgrade_handshake::<H, S>(&socket, &mut ws);
                match tokio::time::timeout(engine.config.upgrade_timeout, upgrade_fut)
                    .with_cancellation_token(&socket.cancellation_token)
                    .await
                {
                    Some(Ok(res)) => res?,
                    Some(Err(_)) => {
                        #[cfg(feature = "tracing")]
                        tracing::debug!(?sid, "ws upgrade timed out, closing session");
                        engine.close_session(socket.id, DisconnectReason::TransportError);
                        return Err(Error::Upgrade);
                    }
                    None => {
                        #[cfg(feature = "tracing")]
                        tracing::debug!(?sid, "socket is being closed");
                        return Err(Error::Upgrade);
                    }
                }
                (socket, ws, false)
            }
        }
    } else {
        let socket = engine.create_session(protocol, TransportType::Websocket, req_data, false);

        #[cfg(feature = "tracing")]
        tracing::debug!("new websocket connection");

        let mut ws = ws_init().await;
        init_handshake(socket.id, &mut ws, &engine.config).await?;
        // PATCH (rust-echo, docs/adr/0011): the heartbeat runs in this connection's reading
        // task (see `serve`) instead of a task of its own.
        (socket, ws, true)
    };
    Ok(opened)
}

/// Runs an open websocket session until the connection or the session closes: the writer and
/// the reading (with the session's heartbeat when `heartbeat` is set) in the calling task.
///
/// PATCH (rust-echo, docs/adr/0011): the writer runs in the connection's task instead of a
/// task of its own; it is woken once per packet, and [`join_quiet`] polls the reading side only
/// when that side was woken, so the writer's wake-ups do not run the websocket parser. A plain
/// function rather than an `async fn`, which would keep the `ws` argument (about 300 bytes)
/// beside the halves it is split into for the life of the connection.
fn serve<H: EngineIoHandler, S>(
    engine: Arc<EngineIo<H>>,
    socket: Arc<Socket<H::Data>>,
    ws: WebSocketStream<S>,
    heartbeat: bool,
) -> impl Future<Output = ()> + Send
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = ws.split();
    join_quiet(
        forward_to_socket::<H, S>(socket.clone(), tx),
        read_until_closed(engine, rx, socket, heartbeat),
    )
}

/// Reads from the websocket until the connection or the session closes, running the session's
/// heartbeat beside it when `heartbeat` is set; closes the session when the connection ends.
async fn read_until_closed<H: EngineIoHandler, S>(
    engine: Arc<EngineIo<H>>,
    rx: SplitStream<WebSocketStream<S>>,
    socket: Arc<Socket<H::Data>>,
    heartbeat: bool,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // PATCH (rust-echo, docs/adr/0011): the heartbeat of a new websocket session runs here,
    // beside the reading, instead of in a third task per connection (a task costs its header,
    // its 128-byte-aligned allocation and its future for the life of the connection). Both
    // wait on rare events (a client packet, a ping tick), so neither adds work to the other's
    // wake-ups; a failed heartbeat closes the session, which ends the reading too.
    let beat = async {
        if heartbeat {
            let config = &engine.config;
            socket
                .heartbeat(config.ping_interval, config.ping_timeout)
                .await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let read = tokio::select! {
        biased;
        () = socket.cancellation_token.cancelled() => None,
        () = beat => None,
        read = forward_to_handler(&engine, rx, &socket) => Some(read),
    };
    match read {
        Some(Err(ref e)) => {
            let reason =
                Option::<DisconnectReason>::from(e).unwrap_or(DisconnectReason::TransportError);

            #[cfg(feature = "tracing")]
            tracing::debug!("error when handling packet: {:?}", e);
            engine.close_session(socket.id, reason);
        }
        Some(Ok(())) => {
            #[cfg(feature = "tracing")]
            tracing::debug!(sid = %socket.id, "ws transport was closed");
            engine.close_session(socket.id, DisconnectReason::TransportClose);
        }
        None => {
            #[cfg(feature = "tracing")]
            tracing::debug!(sid = %socket.id, "socket is closing");
        }
    }
}

/// Forwards all packets received from a websocket to a EngineIo [`Socket`]
async fn forward_to_handler<H: EngineIoHandler, S>(
    engine: &Arc<EngineIo<H>>,
    mut rx: SplitStream<WebSocketStream<S>>,
    socket: &Arc<Socket<H::Data>>,
) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    while let Some(msg) = rx.try_next().await? {
        match msg {
            Message::Text(msg) => match Packet::parse(socket.protocol, ws_bytes_to_str(msg))? {
                Packet::Close => {
                    #[cfg(feature = "tracing")]
                    tracing::debug!("[sid={}] closing session", socket.id);
                    engine.close_session(socket.id, DisconnectReason::TransportClose);
                    break;
                }
                Packet::Pong | Packet::Ping => {
                    // A full channel means that the client is already known to be alive.
                    socket.heartbeat.notify_one();
                    Ok::<(), Error>(())
                }
                Packet::Message(msg) => {
                    engine.handler.on_message(msg, socket.clone());
                    Ok(())
                }
                p => return Err(Error::BadPacket(p)),
            },
            Message::Binary(mut data) => {
                if socket.protocol == ProtocolVersion::V3 && !data.is_empty() {
                    // The first byte is the message type, which we don't need.
                    data = data.split_off(1);
                }
                engine.handler.on_binary(data, socket.clone());
                Ok(())
            }
            Message::Close(_) => {
                #[cfg(feature = "tracing")]
                tracing::debug!("websocket closed, closing session");
                engine.close_session(socket.id, DisconnectReason::TransportClose);
                break;
            }
            _ => {
                #[cfg(feature = "tracing")]
                tracing::debug!(sid = ?socket.id, "unexpected ws message");
                Ok(())
            }
        }?
    }
    Ok(())
}

/// Forwards all packets waiting to be sent to the websocket
///
/// The websocket stream is flushed only when the internal channel is drained
async fn forward_to_socket<H: EngineIoHandler, S>(
    socket: Arc<Socket<H::Data>>,
    mut tx: SplitSink<WebSocketStream<S>, Message>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // A polling request that was in progress during the upgrade may still hold the lock.
    // PATCH (rust-echo, docs/adr/0011): boxed, as it is only the first state of a task that
    // lives as long as the connection.
    let lock = Box::pin(
        socket
            .internal_rx
            .lock()
            .with_cancellation_token(&socket.cancellation_token),
    );
    let Some(mut internal_rx) = lock.await else {
        #[cfg(feature = "tracing")]
        tracing::debug!(sid = %socket.id, "session closed before starting the ws writer");
        return;
    };
    let InternalRx {
        buffered_rx,
        peeked_packet,
    } = &mut *internal_rx;
    // PATCH (rust-echo, docs/adr/0013): an entry the last polling request held back (it did not
    // fit that response) is written first; it was dropped when the session upgraded.
    if let Some(packets) = peeked_packet.take() {
        buffered_rx.put_back(Outgoing::Packets(packets));
    }

    // PATCH (rust-echo, docs/adr/0011): one waiting state and one writing state. The packets
    // were written in three places (first batch, the rest of the queue, volatile), and the
    // task's future kept room for all three iterators and writes at once (2.3 KiB per
    // connection); now the writing happens in one loop after the wait, and the volatile packet
    // comes from the packet queue's slot instead of a `watch` channel.
    // Queued packets come first, then the volatile one.
    // PATCH (rust-echo, docs/adr/0012): the writer waits on its packet queue alone. The end of
    // the session interrupts the queue (`EngineIo::close_session`), so `recv_any` returns
    // `None` once what is queued is written, as the cancellation token's branch of a `select!`
    // did. Polling the token on every wait cost a wait registered and dropped on its waiter
    // list, and a cache miss on its node, for each batch of deliveries.
    loop {
        let Some(first) = buffered_rx.recv_any().await else {
            break;
        };
        // Write what arrived and everything queued behind it, then flush once.
        // PATCH (rust-echo, docs/adr/0012): what is queued is taken in one lock per batch,
        // where each packet took the lock again, and every message is written at one await
        // point, so the task's future keeps room for one message, not one per kind of entry.
        let mut pending = Pending::new(first, socket.protocol);
        while let Some(message) = pending.next_message(buffered_rx) {
            if let Err(_e) = tx.feed(message).await {
                #[cfg(feature = "tracing")]
                tracing::debug!("[sid={}] error sending packet: {}", socket.id, _e);
            }
        }

        #[cfg(feature = "tracing")]
        tracing::trace!(sid = %socket.id, "ws flush");
        tx.flush().await.ok();
    }

    #[cfg(feature = "tracing")]
    tracing::trace!(sid = %socket.id, "ws closing flush");

    tx.flush().await.ok();
    tx.close().await.ok();
}

/// The websocket messages of a batch of queue entries, in order: the entry that woke the writer,
/// then everything queued behind it, taken from the queue in one lock at a time.
///
/// PATCH (rust-echo, docs/adr/0012): replaces a loop that awaited a write in three places
/// (shared message, packet, binary packet), each keeping its own state in the task's future.
struct Pending {
    /// A message ready to write (a shared message is one message).
    ready: Option<Message>,
    /// The rest of the entry being written.
    current: Current,
    /// Entries taken from the queue, not yet started.
    queued: VecDeque<Outgoing>,
    protocol: ProtocolVersion,
}

/// What is left of the entry being written.
enum Current {
    /// Its packets not yet written.
    Packets(smallvec::IntoIter<[Packet; 2]>),
    /// A run of shared messages and the index of the next one (PATCH, docs/adr/0013).
    Run(SharedRun, usize),
}

impl Pending {
    fn new(first: Outgoing, protocol: ProtocolVersion) -> Self {
        let mut pending = Pending {
            ready: None,
            current: Current::Packets(PacketBuf::new().into_iter()),
            queued: VecDeque::new(),
            protocol,
        };
        pending.start(first);
        pending
    }

    /// Starts writing `entry`.
    fn start(&mut self, entry: Outgoing) {
        match entry {
            // The bytes shared by every socket of a broadcast are framed as they are, without
            // a per-socket `"4" + msg` string.
            Outgoing::Shared(msg) => self.ready = Some(shared_text(&msg)),
            Outgoing::Run(run) => self.current = Current::Run(run, 0),
            Outgoing::Packets(packets) => self.current = Current::Packets(packets.into_iter()),
        }
    }

    /// The next message to write, or `None` once the queue is empty.
    fn next_message(&mut self, rx: &mut queue::Receiver<Outgoing>) -> Option<Message> {
        loop {
            if let Some(message) = self.ready.take() {
                return Some(message);
            }
            match &mut self.current {
                Current::Packets(packets) => {
                    if let Some(packet) = packets.next() {
                        self.ready = packet_message(packet, self.protocol);
                        continue;
                    }
                }
                Current::Run(run, next) => {
                    if let Some(msg) = run.messages().get(*next) {
                        *next += 1;
                        return Some(shared_text(msg));
                    }
                    self.current = Current::Packets(PacketBuf::new().into_iter());
                }
            }
            if self.queued.is_empty() {
                self.queued = rx.take_queued();
            }
            let entry = self.queued.pop_front()?;
            self.start(entry);
        }
    }
}

/// The text frame of a shared message: its bytes as they are, no copy, no validation.
fn shared_text(msg: &SharedMessage) -> Message {
    let bytes = bytes::Bytes::from(msg.packet().clone());
    // SAFETY: the bytes come from a `Str`, which is valid UTF-8.
    let text = unsafe { tungstenite::Utf8Bytes::from_bytes_unchecked(bytes) };
    Message::Text(text)
}

/// Maps a packet to its websocket message; a NOOP has none.
fn packet_message(item: Packet, protocol: ProtocolVersion) -> Option<Message> {
    match item {
        Packet::Binary(bin) | Packet::BinaryV3(bin) => {
            if protocol == ProtocolVersion::V3 {
                // v3 protocol requires packet type as the first byte.
                // This requires a new buffer. This is OK as it is only for the V3 protocol.
                let mut buff = Vec::with_capacity(bin.len() + 1);
                buff.push(0x04);
                buff.extend(bin);
                Some(Message::Binary(buff.into()))
            } else {
                Some(Message::Binary(bin))
            }
        }
        // A Noop Packet maybe sent by the server to upgrade from a polling connection
        // In the case that the packet was not poll in time it will remain in the buffer and therefore
        // it should be discarded here
        Packet::Noop => None,
        item => {
            let packet: String = item.into();
            Some(Message::Text(packet.into()))
        }
    }
}

/// Send a Engine.IO [`OpenPacket`] to initiate a websocket connection
async fn init_handshake<S>(
    sid: Sid,
    ws: &mut WebSocketStream<S>,
    config: &EngineIoConfig,
) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let packet = Packet::Open(make_open_packet(TransportType::Websocket, sid, config));
    let packet: String = packet.into();
    ws.send(Message::Text(packet.into())).await?;
    Ok(())
}

/// Upgrade a session from a polling request to a websocket request.
///
/// Before upgrading the session the server should send a NOOP packet to any pending polling request.
///
/// ## Handshake :
/// ```text
/// CLIENT                                                 SERVER
///│                                                      │
///│   GET /engine.io/?EIO=4&transport=websocket&sid=...  │
///│ ───────────────────────────────────────────────────► │
///│  ◄─────────────────────────────────────────────────┘ │
///│            HTTP 101 (WebSocket handshake)            │
///│                                                      │
///│            -----  WebSocket frames -----             │
///│  ─────────────────────────────────────────────────►  │
///│                         2probe                       │ (ping packet)
///│  ◄─────────────────────────────────────────────────  │
///│                         3probe                       │ (pong packet)
///│  ─────────────────────────────────────────────────►  │
///│                         5                            │ (upgrade packet)
///│                                                      │
///│            -----  WebSocket frames -----             │
/// ```
#[cfg_attr(
    feature = "tracing",
    tracing::instrument(level = "trace", skip(socket, ws))
)]
async fn upgrade_handshake<H: EngineIoHandler, S>(
    socket: &Arc<Socket<H::Data>>,
    ws: &mut WebSocketStream<S>,
) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    #[cfg(feature = "tracing")]
    tracing::debug!("starting websocket connection upgrade");

    // The socket is upgrading, from now on all polling
    // request will return a `Packet::Noop`
    socket.start_upgrade();

    // We send a last Noop request to close a potential waiting polling request.
    // PATCH (rust-echo, docs/adr/0011): queued past the bound instead of waiting for room, as
    // the packet queue has no async send; one control packet over the bound is harmless.
    socket
        .internal_tx
        .send_unbounded(Outgoing::Packets(smallvec![Packet::Noop]))
        .map_err(|_| Error::Upgrade)?;

    // wait for any current polling connection to finish by waiting for the socket to be unlocked
    // All other polling connection will be immediately closed with a NOOP packet.
    let _lock = socket.internal_rx.lock().await;

    // Fetch the next packet from the ws stream, it should be a PingUpgrade packet
    let msg = match ws.next().await {
        Some(Ok(Message::Text(d))) => d,
        _ => Err(Error::Upgrade)?,
    };
    match Packet::parse(socket.protocol, ws_bytes_to_str(msg))? {
        Packet::PingUpgrade => {
            #[cfg(feature = "tracing")]
            tracing::debug!("received first ping upgrade");
            // Respond with a PongUpgrade packet
            ws.send(Message::Text(String::from(Packet::PongUpgrade).into()))
                .await?;
        }
        p => Err(Error::BadPacket(p))?,
    };

    // Fetch the next packet from the ws stream, it should be an Upgrade packet
    let msg = match ws.next().await {
        Some(Ok(Message::Text(d))) => d,
        Some(Ok(Message::Close(_))) => {
            #[cfg(feature = "tracing")]
            tracing::debug!("ws stream closed before upgrade");
            Err(Error::Upgrade)?
        }
        _ => {
            #[cfg(feature = "tracing")]
            tracing::debug!("unexpected ws message before upgrade");
            Err(Error::Upgrade)?
        }
    };
    match Packet::parse(socket.protocol, ws_bytes_to_str(msg))? {
        Packet::Upgrade => {
            #[cfg(feature = "tracing")]
            tracing::debug!("ws upgraded successfully")
        }
        p => Err(Error::BadPacket(p))?,
    };

    socket.upgrade_to_websocket();
    Ok(())
}

fn ws_bytes_to_str(bytes: tungstenite::Utf8Bytes) -> Str {
    // SAFETY: the bytes are guaranteed to be valid UTF-8 by the tungstenite parser
    unsafe { Str::from_bytes_unchecked(bytes.into()) }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;
    use futures_util::StreamExt;
    use http::Request;
    use tokio::io::DuplexStream;

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(1);

    #[derive(Debug)]
    struct StubHandler;
    impl EngineIoHandler for StubHandler {
        type Data = ();
        fn on_connect(self: Arc<Self>, _: Arc<Socket<()>>) {}
        fn on_disconnect(&self, _: Arc<Socket<()>>, _: DisconnectReason) {}
        fn on_message(self: &Arc<Self>, _: Str, _: Arc<Socket<()>>) {}
        fn on_binary(self: &Arc<Self>, _: Bytes, _: Arc<Socket<()>>) {}
    }

    fn socket() -> Arc<Socket<()>> {
        Arc::new(Socket::new(
            ProtocolVersion::V4,
            TransportType::Websocket,
            &EngineIoConfig::default(),
            Request::<()>::default().into_parts().0,
            Box::new(|_, _| ()),
            false,
        ))
    }

    async fn ws_pair() -> (WebSocketStream<DuplexStream>, WebSocketStream<DuplexStream>) {
        let (server, client) = tokio::io::duplex(1024);
        (
            WebSocketStream::from_raw_socket(server, Role::Server, None).await,
            WebSocketStream::from_raw_socket(client, Role::Client, None).await,
        )
    }

    /// A polling request can still hold the lock at the end of an upgrade.
    #[tokio::test]
    async fn writer_waits_for_the_lock_of_a_polling_request() {
        let socket = socket();
        let (server, mut client) = ws_pair().await;
        let (tx, _rx) = server.split();

        let polling = socket.internal_rx.lock().await;
        let writer = tokio::spawn(forward_to_socket::<StubHandler, _>(socket.clone(), tx));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!writer.is_finished(), "the writer should wait for the lock");

        drop(polling);
        socket.emit(Str::from("hello")).unwrap();
        let msg = tokio::time::timeout(TIMEOUT, client.next())
            .await
            .expect("the writer should send the packet")
            .unwrap()
            .unwrap();
        assert_eq!(msg, Message::text("4hello"));
    }

    /// A message shared by many sockets reaches each as its own text frame, in queue order
    /// with the socket's other packets.
    #[tokio::test]
    async fn shared_messages_are_framed_in_order_with_other_packets() {
        let (first, second) = (socket(), socket());
        let ((server_a, mut client_a), (server_b, mut client_b)) =
            (ws_pair().await, ws_pair().await);
        let shared = crate::SharedMessage::new(r#"2["event","é"]"#);
        for (socket, server) in [(&first, server_a), (&second, server_b)] {
            socket.emit(Str::from("before")).unwrap();
            socket.try_emit_shared(&shared).unwrap();
            socket.emit(Str::from("after")).unwrap();
            let (tx, _rx) = server.split();
            tokio::spawn(forward_to_socket::<StubHandler, _>(socket.clone(), tx));
        }
        for client in [&mut client_a, &mut client_b] {
            let mut texts = Vec::new();
            for _ in 0..3 {
                let msg = tokio::time::timeout(TIMEOUT, client.next())
                    .await
                    .expect("the writer should send every packet")
                    .unwrap()
                    .unwrap();
                texts.push(msg);
            }
            assert_eq!(
                texts,
                [
                    Message::text("4before"),
                    Message::text(r#"42["event","é"]"#),
                    Message::text("4after")
                ]
            );
        }
    }

    #[tokio::test]
    async fn a_run_is_framed_message_by_message_in_order_with_other_packets() {
        let socket = socket();
        let (server, mut client) = ws_pair().await;
        let run = crate::SharedRun::from(vec![
            crate::SharedMessage::new(r#"2["a",1]"#),
            crate::SharedMessage::new(r#"2["b",2]"#),
            crate::SharedMessage::new(r#"2["c",3]"#),
        ]);
        socket.emit(Str::from("before")).unwrap();
        socket.try_emit_run(&run).unwrap();
        socket.emit(Str::from("after")).unwrap();
        let (tx, _rx) = server.split();
        tokio::spawn(forward_to_socket::<StubHandler, _>(socket.clone(), tx));
        let mut texts = Vec::new();
        for _ in 0..5 {
            let msg = tokio::time::timeout(TIMEOUT, client.next())
                .await
                .expect("the writer should send every packet")
                .unwrap()
                .unwrap();
            texts.push(msg);
        }
        assert_eq!(
            texts,
            [
                Message::text("4before"),
                Message::text(r#"42["a",1]"#),
                Message::text(r#"42["b",2]"#),
                Message::text(r#"42["c",3]"#),
                Message::text("4after"),
            ]
        );
    }

    #[tokio::test]
    async fn an_entry_a_polling_request_held_back_is_written_first_after_the_upgrade() {
        let socket = socket();
        socket.internal_rx.try_lock().unwrap().peeked_packet =
            Some(smallvec![Packet::Message(Str::from("held"))]);
        socket.emit(Str::from("after")).unwrap();
        let (server, mut client) = ws_pair().await;
        let (tx, _rx) = server.split();
        tokio::spawn(forward_to_socket::<StubHandler, _>(socket.clone(), tx));
        let mut texts = Vec::new();
        for _ in 0..2 {
            let msg = tokio::time::timeout(TIMEOUT, client.next())
                .await
                .expect("the writer should send every packet")
                .unwrap()
                .unwrap();
            texts.push(msg);
        }
        assert_eq!(texts, [Message::text("4held"), Message::text("4after")]);
    }

    #[tokio::test]
    async fn writer_waiting_for_the_lock_stops_with_the_session() {
        let socket = socket();
        let (server, _client) = ws_pair().await;
        let (tx, _rx) = server.split();

        let _polling = socket.internal_rx.lock().await;
        let writer = tokio::spawn(forward_to_socket::<StubHandler, _>(socket.clone(), tx));
        tokio::time::sleep(Duration::from_millis(20)).await;

        socket.cancellation_token.cancel();
        tokio::time::timeout(TIMEOUT, writer)
            .await
            .expect("the writer should stop")
            .unwrap();
    }
}
