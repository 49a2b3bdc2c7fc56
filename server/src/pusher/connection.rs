//! One Pusher WebSocket connection, served by one task: it writes the frames queued in the
//! socket's [outbox](super::outbox), handles what the client sends in the order it arrives, pings
//! a client that has been silent for `ping_interval` and closes it (4201) when it stays silent as
//! long again. When it ends, the socket leaves every channel it was in. At shutdown, every
//! connection writes what is queued and closes.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use socketioxide::socket::Sid;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{Message as Frame, Utf8Bytes};

use super::error::PusherError;
use super::frames;
use super::limit::{Limited, MessageLimit};
use super::outbox::{Inbox, Outbox, outbox};
use super::space::{AppSpace, Running};
use crate::engine::{Engine, dev_log};
use crate::protocol::Bucket;

/// How long closing a connection may take (sending what is queued and the close frame).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// A connected Pusher socket's state, owned by its task.
pub(crate) struct Conn {
    pub engine: Arc<Engine>,
    /// Index of the app in [`super::space::Pusher::apps`].
    pub app: usize,
    /// The Pusher socket id (`N.N`).
    pub id: Arc<str>,
    /// The key of this socket's presence records (shared with Socket.IO members).
    pub sid: Sid,
    pub outbox: Outbox,
    /// Channels joined.
    pub channels: HashSet<String>,
    /// The client-event rate limit; `None` when off.
    pub client_events: Option<Bucket>,
}

impl Conn {
    pub(crate) fn space(&self) -> &AppSpace {
        &self.engine.pusher.apps[self.app]
    }

    /// Queue a frame for this socket.
    pub(crate) fn send(&self, frame: &Utf8Bytes) {
        self.outbox.send(frame);
    }
}

/// Serve a connection to the app at `app` (`None`: the key named no app).
pub(crate) async fn run<S>(
    engine: Arc<Engine>,
    app: Option<usize>,
    origin: Option<String>,
    ws: WebSocketStream<S>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut running = engine.pusher.running();
    let (mut sink, stream) = ws.split();
    let Some(app) = app else {
        return refuse(sink, PusherError::UnknownApp).await;
    };
    let space = &engine.pusher.apps[app];
    if !super::origin::allowed(&space.app.allowed_origins, origin.as_deref()) {
        return refuse(sink, PusherError::Origin).await;
    }
    let Some(id) = space.open() else {
        return refuse(sink, PusherError::OverQuota).await;
    };
    let limits = &engine.config.limits;
    let (outbox, inbox) = outbox(limits.max_buffered_packets);
    let activity = space.app.activity_timeout.as_secs();
    let ping_interval = space.app.ping_interval;
    let mut conn = Conn {
        engine: engine.clone(),
        app,
        id,
        sid: Sid::new(),
        outbox,
        channels: HashSet::new(),
        client_events: Bucket::new(limits.client_events_per_second, limits.client_event_burst),
    };
    engine.stats.connected();
    dev_log!(engine, socket = %conn.id, app = %space.app.id, "pusher client connected");
    if sink
        .send(Frame::Text(frames::established(&conn.id, activity)))
        .await
        .is_ok()
    {
        serve(
            &mut conn,
            (sink, stream),
            inbox,
            &mut running,
            ping_interval,
        )
        .await;
    }
    super::subscribe::leave_all(&mut conn);
    space.close(&conn.id);
    engine.stats.disconnected("transport_close");
    dev_log!(engine, socket = %conn.id, "pusher client disconnected");
}

type Sink<S> = futures_util::stream::SplitSink<WebSocketStream<S>, Frame>;
type Stream<S> = futures_util::stream::SplitStream<WebSocketStream<S>>;

/// Send `error` and close: the connection was not admitted.
async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(mut sink: Sink<S>, error: PusherError) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        let _ = sink.send(Frame::Text(error.frame())).await;
        let _ = sink.close().await;
    })
    .await;
}

/// The connection's loop, until the client goes, breaks the protocol's framing, stops
/// answering pings or stops reading.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn,
    (mut sink, mut stream): (Sink<S>, Stream<S>),
    mut inbox: Inbox,
    running: &mut Running,
    ping_interval: Duration,
) {
    let mut tick = tokio::time::interval_at(Instant::now() + ping_interval, ping_interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut activity = Activity::new(ping_interval);
    let mut limit = conn.space().app.rate_limit.map(MessageLimit::new);
    // Started while the server was already closing.
    let mut open = !*running.closing.borrow_and_update();
    while open {
        tokio::select! {
            frame = inbox.rx.recv() => {
                let Some(frame) = frame else { break };
                if write(&mut sink, &mut inbox, frame).await.is_err() {
                    return;
                }
            }
            read = stream.next() => {
                activity.seen();
                match read {
                    Some(Ok(Frame::Text(text))) => open = on_text(conn, &mut limit, &text),
                    Some(Ok(Frame::Binary(_))) => conn.send(&PusherError::InvalidFormat.frame()),
                    Some(Ok(Frame::Ping(_) | Frame::Pong(_) | Frame::Frame(_))) => {}
                    Some(Ok(Frame::Close(_)) | Err(_)) | None => open = false,
                }
            }
            _ = tick.tick() => open = activity.tick(conn),
            () = inbox.hangup.notified() => break,
            changed = running.closing.changed() => {
                open = changed.is_ok() && !*running.closing.borrow_and_update();
            }
        }
    }
    finish(sink, inbox).await;
}

/// Handle a text message within the app's rate limit; whether the connection stays open.
fn on_text(conn: &mut Conn, limit: &mut Option<MessageLimit>, text: &str) -> bool {
    match limit
        .as_mut()
        .map_or(Limited::No, |l| l.hit(Instant::now()))
    {
        Limited::No => {
            super::subscribe::on_message(conn, text);
            true
        }
        Limited::Refused => {
            conn.send(&PusherError::RateLimited.frame());
            true
        }
        Limited::Terminate => {
            conn.send(&PusherError::RateLimited.frame());
            false
        }
    }
}

/// When the client was last heard from, and whether it has been pinged since.
struct Activity {
    interval: Duration,
    last_seen: Instant,
    pinged: bool,
}

impl Activity {
    fn new(interval: Duration) -> Self {
        Activity {
            interval,
            last_seen: Instant::now(),
            pinged: false,
        }
    }

    /// The client sent something.
    fn seen(&mut self) {
        self.last_seen = Instant::now();
        self.pinged = false;
    }

    /// A tick of the ping interval: ping a client silent for a whole interval; one that stayed
    /// silent since its ping gets 4201. Whether the connection stays open.
    fn tick(&mut self, conn: &Conn) -> bool {
        if self.last_seen.elapsed() < self.interval {
            return true;
        }
        if self.pinged {
            conn.send(&PusherError::PongTimeout.frame());
            return false;
        }
        self.pinged = true;
        conn.send(&frames::bare("pusher:ping", None));
        true
    }
}

/// Write what is already queued (an error, the last events), then close.
async fn finish<S: AsyncRead + AsyncWrite + Unpin>(mut sink: Sink<S>, mut inbox: Inbox) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        while let Ok(frame) = inbox.rx.try_recv() {
            if sink.feed(Frame::Text(frame)).await.is_err() {
                return;
            }
        }
        let _ = sink.close().await;
    })
    .await;
}

/// Write `frame` and whatever else is queued, then flush once.
async fn write<S: AsyncRead + AsyncWrite + Unpin>(
    sink: &mut Sink<S>,
    inbox: &mut Inbox,
    frame: Utf8Bytes,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    sink.feed(Frame::Text(frame)).await?;
    while let Ok(frame) = inbox.rx.try_recv() {
        sink.feed(Frame::Text(frame)).await?;
    }
    sink.flush().await
}
