//! A minimal WebSocket client connection: the HTTP upgrade, unmasked frames from the server
//! parsed in place from one read buffer, masked text frames to the server.
//!
//! The load generator holds tens of thousands of these on one core next to the server under
//! test, so a delivered message must cost it as little as possible: no allocation, no copy, no
//! UTF-8 validation per frame; many frames are parsed from each read. Extensions
//! (permessage-deflate) are not offered, so frames arrive as plain text.

use std::io;
use std::net::{IpAddr, SocketAddr};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Opcodes the client acts on.
pub const TEXT: u8 = 0x1;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;

/// One connection.
#[derive(Debug)]
pub struct Ws {
    stream: TcpStream,
    buf: BytesMut,
}

impl Ws {
    /// Open a TCP connection (from `source` when given, so more than one loopback address can
    /// supply ephemeral ports) and upgrade it on `path_query`.
    pub async fn connect(
        server: SocketAddr,
        source: Option<IpAddr>,
        path_query: &str,
    ) -> io::Result<Ws> {
        let socket = TcpSocket::new_v4()?;
        if let Some(ip) = source {
            socket.bind(SocketAddr::new(ip, 0))?;
        }
        let mut stream = socket.connect(server).await?;
        stream.set_nodelay(true)?;
        let request = format!(
            "GET {path_query} HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut buf = BytesMut::with_capacity(16 * 1024);
        let end = loop {
            if stream.read_buf(&mut buf).await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "closed during the upgrade",
                ));
            }
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            if buf.len() > 8192 {
                return Err(io::Error::other("upgrade response too long"));
            }
        };
        if !buf.starts_with(b"HTTP/1.1 101") {
            let head = String::from_utf8_lossy(&buf[..end.min(200)]).into_owned();
            return Err(io::Error::other(format!("upgrade refused: {head}")));
        }
        buf.advance(end);
        Ok(Ws { stream, buf })
    }

    /// Read more bytes into the buffer; 0 means the server closed.
    pub async fn fill(&mut self) -> io::Result<usize> {
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(16 * 1024);
        }
        self.stream.read_buf(&mut self.buf).await
    }

    /// The next complete frame in the buffer as (opcode, payload range), or `None` when more
    /// bytes are needed. Call [`Ws::consume`] with the range's end when done with it.
    pub fn frame(&self) -> io::Result<Option<(u8, std::ops::Range<usize>)>> {
        let b = &self.buf[..];
        if b.len() < 2 {
            return Ok(None);
        }
        if b[0] & 0x80 == 0 {
            return Err(io::Error::other("fragmented frames are not expected"));
        }
        if b[1] & 0x80 != 0 {
            return Err(io::Error::other("the server masked a frame"));
        }
        let (len, head) = match b[1] & 0x7f {
            126 if b.len() >= 4 => (usize::from(u16::from_be_bytes([b[2], b[3]])), 4),
            127 if b.len() >= 10 => {
                let mut n = [0u8; 8];
                n.copy_from_slice(&b[2..10]);
                (
                    usize::try_from(u64::from_be_bytes(n)).map_err(io::Error::other)?,
                    10,
                )
            }
            126 | 127 => return Ok(None),
            n => (usize::from(n), 2),
        };
        if b.len() < head + len {
            return Ok(None);
        }
        Ok(Some((b[0] & 0x0f, head..head + len)))
    }

    /// The buffered bytes (payload ranges from [`Ws::frame`] index into them).
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Drop the first `n` buffered bytes.
    pub fn consume(&mut self, n: usize) {
        self.buf.advance(n);
    }

    /// Send a text frame.
    pub async fn send_text(&mut self, text: &str) -> io::Result<()> {
        self.send(TEXT, text.as_bytes()).await
    }

    /// Send a frame with `opcode`, masked as clients must. The mask key is zero: the server
    /// unmasks either way and this keeps the payload copy a plain copy.
    pub async fn send(&mut self, opcode: u8, payload: &[u8]) -> io::Result<()> {
        let mut frame = Vec::with_capacity(payload.len() + 14);
        frame.push(0x80 | opcode);
        match payload.len() {
            n if n < 126 => frame.push(0x80 | u8::try_from(n).unwrap_or(125)),
            n if n <= usize::from(u16::MAX) => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&[0, 0, 0, 0]);
        frame.extend_from_slice(payload);
        self.stream.write_all(&frame).await
    }
}
