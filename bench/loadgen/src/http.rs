//! A one-shot HTTP/1.1 GET for the servers' JSON API (status, channels) and their plain-text
//! endpoints (`/health`, `/metrics`): enough for a handful of requests per scenario without an
//! HTTP client library.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// GET `path` and parse the body as JSON; any status but 200 is an error.
pub async fn get(addr: SocketAddr, path: &str) -> Result<Value, String> {
    let (head, body) = exchange(addr, path, Duration::from_secs(30)).await?;
    if !head.starts_with("HTTP/1.1 200") {
        let status = head.lines().next().unwrap_or_default();
        return Err(format!("GET {path}: {status}"));
    }
    serde_json::from_str(&body).map_err(|e| format!("GET {path}: {e}"))
}

/// GET `path` within `within`: the status code (0 when the status line is unreadable) and the
/// body as text.
pub async fn get_text(
    addr: SocketAddr,
    path: &str,
    within: Duration,
) -> Result<(u16, String), String> {
    let (head, body) = exchange(addr, path, within).await?;
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((status, body))
}

/// One request on its own connection (`Connection: close`): the response head and the body,
/// de-chunked.
async fn exchange(
    addr: SocketAddr,
    path: &str,
    within: Duration,
) -> Result<(String, String), String> {
    let exchange = async {
        let mut s = TcpStream::connect(addr).await?;
        let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await?;
        Ok::<_, std::io::Error>(buf)
    };
    let buf = tokio::time::timeout(within, exchange)
        .await
        .map_err(|_| format!("GET {path}: no answer within {within:?}"))?
        .map_err(|e| format!("GET {path}: {e}"))?;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("GET {path}: malformed response"))?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok((head.to_owned(), body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}
