//! The HTTP/1.1 server over the [`Listener`]: hyper, with the timeouts `axum::serve` leaves off.
//!
//! - A connection must deliver a complete request head within [`HEADER_TIMEOUT`] of being
//!   accepted or of its previous response (hyper's header read timeout, which also runs while a
//!   keep-alive connection is idle): silent, half-header and slowloris connections are closed.
//! - A request body may not pause longer than [`BODY_TIMEOUT`] between two reads; the handler
//!   then fails, and hyper closes a connection whose body was not read to the end.
//!
//! Neither applies past the head: a long-poll whose response is pending and an upgraded
//! WebSocket (no longer HTTP) live as long as Engine.IO's heartbeat says.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::watch;
use tower_http::timeout::TimeoutBody;
use tower_service::Service;

use super::{Accepted, Listener};

/// Longest wait for a complete request head, on a new or an idle keep-alive connection.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest pause while a request body is read.
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Serve `app` on every connection `listener` accepts until `shutdown` completes; then stop
/// accepting, let each connection finish its request in flight, and return once all are closed.
pub(crate) async fn serve(
    mut listener: Listener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    // Dropping `stop_rx` tells every connection to finish; every connection holds a
    // `closed_rx`, so `closed_tx.closed()` waits for the last one.
    let (stop_tx, stop_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(stop_rx);
    });
    let (closed_tx, closed_rx) = watch::channel(());
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop_tx.closed() => break,
        };
        let stop = stop_tx.clone();
        let closed = closed_rx.clone();
        tokio::spawn(connection(accepted, app.clone(), stop, closed));
    }
    drop(closed_rx);
    drop(listener);
    closed_tx.closed().await;
}

/// Serve one connection; finish gracefully when `stop` is told to.
async fn connection(
    (stream, peer, hangup): Accepted,
    app: Router,
    stop: watch::Sender<()>,
    closed: watch::Receiver<()>,
) {
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let mut req = req.map(|body| TimeoutBody::new(BODY_TIMEOUT, body));
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(hangup.clone());
        let mut app = app.clone();
        async move { Ok::<_, Infallible>(app.call(req).await.unwrap_or_else(|e| match e {})) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let mut conn = pin!(
        builder
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades()
    );
    let mut stopping = pin!(stop.closed());
    let mut told = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(peer = %peer.0, error = %e, "connection ended");
                }
                break;
            }
            () = &mut stopping, if !told => {
                told = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
    drop(closed);
}
