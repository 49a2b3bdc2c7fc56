//! Pusher's request signing: `auth_signature` is the HMAC-SHA256, under the app's secret, of
//! `METHOD\nPATH\nQUERY` where QUERY is every other parameter (`auth_key`, `auth_timestamp`,
//! `auth_version`, `body_md5` of a non-empty body, ...) sorted by name as `k=v` joined by `&`.
//! The server computes `body_md5` from the body it received, so a body changed on the way fails.
//! `auth_timestamp` must be within 600 s of the server's clock (Reverb does not check it).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use md5::{Digest, Md5};

use super::PusherApiError;
use crate::engine::Engine;

/// Largest skew between the client's `auth_timestamp` and the server's clock.
const MAX_SKEW_SECONDS: u64 = 600;

/// A request whose signature was checked: the app it is for and its body.
#[derive(Debug)]
pub(crate) struct Signed {
    /// Index of the app.
    pub app: usize,
    pub body: Bytes,
    /// The query parameters, decoded.
    pub query: Vec<(String, String)>,
}

impl Signed {
    /// A query parameter.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl FromRequest<Arc<Engine>> for Signed {
    type Rejection = axum::response::Response;

    async fn from_request(req: Request, engine: &Arc<Engine>) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let (mut parts, body) = req.into_parts();
        let Path(params) = Path::<std::collections::HashMap<String, String>>::from_request_parts(
            &mut parts, engine,
        )
        .await
        .map_err(IntoResponse::into_response)?;
        let app_id = params.get("app_id").cloned().unwrap_or_default();
        let method = parts.method.as_str().to_owned();
        let path = parts.uri.path().to_owned();
        let query = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|Query(q)| q)
            .unwrap_or_default();
        let body = Bytes::from_request(Request::from_parts(parts, body), &())
            .await
            .map_err(IntoResponse::into_response)?;
        let space = engine
            .pusher
            .by_id(&app_id)
            .ok_or_else(|| PusherApiError::UnknownApp(app_id.clone()).into_response())?;
        verify(&space.app, &method, &path, &query, &body, now())
            .map_err(IntoResponse::into_response)?;
        Ok(Signed {
            app: space.index,
            body,
            query,
        })
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Check a request's signature against `app`, at server time `now` (Unix seconds).
pub(crate) fn verify(
    app: &crate::config::PusherApp,
    method: &str,
    path: &str,
    query: &[(String, String)],
    body: &[u8],
    now: u64,
) -> Result<(), PusherApiError> {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if get("auth_key") != Some(app.key.as_str()) {
        return Err(PusherApiError::Signature);
    }
    let timestamp = get("auth_timestamp")
        .and_then(|t| t.parse::<u64>().ok())
        .ok_or(PusherApiError::Timestamp)?;
    if timestamp.abs_diff(now) > MAX_SKEW_SECONDS {
        return Err(PusherApiError::Timestamp);
    }
    let signature = get("auth_signature").ok_or(PusherApiError::Signature)?;
    let message = string_to_sign(method, path, query, body);
    if super::super::signature::verify(&app.secret, &message, signature) {
        Ok(())
    } else {
        Err(PusherApiError::Signature)
    }
}

/// `METHOD\nPATH\nk=v&...`, parameters sorted by name, `body_md5` from the body itself.
pub(crate) fn string_to_sign(
    method: &str,
    path: &str,
    query: &[(String, String)],
    body: &[u8],
) -> String {
    const UNSIGNED: [&str; 5] = [
        "auth_signature",
        "body_md5",
        "appId",
        "appKey",
        "channelName",
    ];
    let mut params: Vec<(&str, String)> = query
        .iter()
        .filter(|(k, _)| !UNSIGNED.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    if !body.is_empty() {
        params.push(("body_md5", hex::encode(Md5::digest(body))));
    }
    params.sort_by(|a, b| a.0.cmp(b.0));
    params.dedup_by(|a, b| a.0 == b.0);
    let joined: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{method}\n{path}\n{}", joined.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Pusher's HTTP API reference (auth_version 1.0, body_md5 of the body).
    #[test]
    fn pusher_reference_example() {
        let body = br#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#;
        let query: Vec<(String, String)> = [
            ("auth_key", "278d425bdf160c739803"),
            ("auth_timestamp", "1353088179"),
            ("auth_version", "1.0"),
            ("body_md5", "ec365a775a4cd0599faeb73354201b6f"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let s = string_to_sign("POST", "/apps/3/events", &query, body);
        assert_eq!(
            s,
            "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f"
        );
        assert_eq!(
            super::super::super::signature::sign("7ad3773142a6692b25b8", &s),
            "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
        );
    }
}
