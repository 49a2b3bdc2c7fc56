//! A raw Socket.IO client over WebSocket that speaks Engine.IO 3 (socket.io-client 2.x) or
//! Engine.IO 4 (socket.io-client 3.x/4.x) and exposes the text packets exactly as sent.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::WAIT;

pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The socket id laravel-echo would report (`Echo.socketId()`).
    pub sid: String,
    pub eio: u8,
}

impl Client {
    pub async fn connect(addr: SocketAddr, eio: u8) -> Self {
        Self::connect_with(addr, "/socket.io", eio, &[], None).await
    }

    /// Connect with extra handshake headers and, for Engine.IO 4, a CONNECT auth payload.
    pub async fn connect_with(
        addr: SocketAddr,
        path: &str,
        eio: u8,
        headers: &[(&str, &str)],
        auth: Option<Value>,
    ) -> Self {
        let url = format!("ws://{addr}{path}/?EIO={eio}&transport=websocket");
        let mut req = url.into_client_request().expect("request");
        for (k, v) in headers {
            req.headers_mut().insert(
                http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("ws connect");
        let mut c = Client {
            ws,
            sid: String::new(),
            eio,
        };
        let open = c.next_text().await;
        assert!(open.starts_with('0'), "open packet, got {open}");
        let open: Value = serde_json::from_str(&open[1..]).expect("open json");
        if eio == 3 {
            assert_eq!(
                c.next_text().await,
                "40",
                "EIO3 server sends CONNECT itself"
            );
            c.sid = open["sid"].as_str().expect("sid").to_owned();
        } else {
            let connect = match auth {
                Some(a) => format!("40{a}"),
                None => "40".to_owned(),
            };
            c.send_raw(&connect).await;
            let ack = c.next_text().await;
            let ack: Value =
                serde_json::from_str(ack.strip_prefix("40").expect("40")).expect("json");
            c.sid = ack["sid"].as_str().expect("sid").to_owned();
        }
        c
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.ws
            .send(Frame::text(text.to_owned()))
            .await
            .expect("send");
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws.send(Frame::binary(bytes)).await.expect("send");
    }

    /// Emit `event` with one argument.
    pub async fn emit(&mut self, event: &str, data: Value) {
        let packet = format!("42{}", serde_json::json!([event, data]));
        self.send_raw(&packet).await;
    }

    /// Next text frame, answering Engine.IO 4 pings on the way.
    pub async fn next_text(&mut self) -> String {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a frame within the wait")
                .expect("stream open")
                .expect("frame");
            match frame {
                Frame::Text(t) if t.as_str() == "2" && self.eio == 4 => self.send_raw("3").await,
                Frame::Text(t) => return t.as_str().to_owned(),
                Frame::Close(_) => panic!("connection closed"),
                _ => {}
            }
        }
    }

    /// The JSON text of the next EVENT packet within `within` (longer than the usual wait).
    pub async fn next_event_within(&mut self, within: std::time::Duration) -> String {
        tokio::time::timeout(within, async {
            loop {
                let frame = self.ws.next().await.expect("stream open").expect("frame");
                match frame {
                    Frame::Text(t) if t.as_str() == "2" && self.eio == 4 => {
                        self.send_raw("3").await;
                    }
                    Frame::Text(t) => {
                        if let Some(ev) = t.as_str().strip_prefix("42") {
                            return ev.to_owned();
                        }
                    }
                    Frame::Close(_) => panic!("connection closed"),
                    _ => {}
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no event within {within:?}"))
    }

    /// Whispers `client-typing` on `private-chat` with `{"who": who}` and asserts that every
    /// client of `to` receives it.
    pub async fn whisper_to(&mut self, who: &str, to: &mut [&mut Client]) {
        self.emit(
            "client event",
            serde_json::json!({"channel": "private-chat", "event": "client-typing", "data": {"who": who}}),
        )
        .await;
        let whisper = format!(r#"["client-typing","private-chat",{{"who":"{who}"}}]"#);
        for client in to {
            assert_eq!(client.next_event_raw().await, whisper);
        }
    }

    /// The JSON text of the next EVENT packet (after `42`), exactly as sent.
    pub async fn next_event_raw(&mut self) -> String {
        loop {
            let t = self.next_text().await;
            if let Some(ev) = t.strip_prefix("42") {
                return ev.to_owned();
            }
        }
    }

    /// The next EVENT packet as (name, arguments).
    pub async fn next_event(&mut self) -> (String, Vec<Value>) {
        let raw = self.next_event_raw().await;
        let mut arr: Vec<Value> = serde_json::from_str(&raw).expect("event array");
        let name = arr.remove(0).as_str().expect("event name").to_owned();
        (name, arr)
    }

    /// Wait for the server's DISCONNECT of the namespace (`41`; socket.io-client does not
    /// reconnect after it).
    pub async fn disconnected_by_server(&mut self) {
        while self.next_text().await != "41" {}
    }

    /// Whether the server closed the connection within the wait.
    pub async fn closed(&mut self) -> bool {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Frame::Close(_)))) => return true,
                Ok(Some(Ok(Frame::Text(t)))) if t.as_str() == "1" => return true,
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    pub async fn subscribe(&mut self, channel: &str) {
        self.emit(
            "subscribe",
            serde_json::json!({ "channel": channel, "auth": { "headers": {} } }),
        )
        .await;
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
