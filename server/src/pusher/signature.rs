//! Pusher's signatures: HMAC-SHA256 with the app's secret, hex encoded, compared in constant
//! time. Channel authorizations sign `socket_id:channel[:channel_data]` and are sent as
//! `key:signature`; HTTP API requests sign `METHOD\nPATH\nsorted query` (see [`super::api`]).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Hex HMAC-SHA256 of `message` under `secret`.
#[cfg(test)]
pub(crate) fn sign(secret: &str, message: &str) -> String {
    hex::encode(mac(secret, message).finalize().into_bytes())
}

/// Whether `signature` (hex) is the HMAC of `message` under `secret`; constant time.
pub(crate) fn verify(secret: &str, message: &str, signature: &str) -> bool {
    let Ok(bytes) = hex::decode(signature) else {
        return false;
    };
    mac(secret, message).verify_slice(&bytes).is_ok()
}

fn mac(secret: &str, message: &str) -> HmacSha256 {
    // HMAC takes keys of any length.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(message.as_bytes());
    mac
}

/// Whether `auth` (`key:signature`) authorizes `socket_id` on `channel`, with `channel_data`
/// for presence channels.
pub(crate) fn channel_auth(
    key: &str,
    secret: &str,
    socket_id: &str,
    channel: &str,
    channel_data: Option<&str>,
    auth: &str,
) -> bool {
    let Some((their_key, signature)) = auth.split_once(':') else {
        return false;
    };
    let message = match channel_data {
        Some(data) => format!("{socket_id}:{channel}:{data}"),
        None => format!("{socket_id}:{channel}"),
    };
    // The key is public; only the signature needs the constant-time compare.
    their_key == key && verify(secret, &message, signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Pusher's authentication docs.
    #[test]
    fn pusher_docs_example() {
        let sig = sign("7ad3773142a6692b25b8", "1234.1234:private-foobar");
        assert_eq!(
            sig,
            "58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
        );
        let auth = format!("278d425bdf160c739803:{sig}");
        assert!(channel_auth(
            "278d425bdf160c739803",
            "7ad3773142a6692b25b8",
            "1234.1234",
            "private-foobar",
            None,
            &auth
        ));
        assert!(!channel_auth(
            "278d425bdf160c739803",
            "7ad3773142a6692b25b8",
            "1234.1235",
            "private-foobar",
            None,
            &auth
        ));
        assert!(!channel_auth("k", "s", "1.1", "c", None, "no-colon"));
        assert!(!verify("s", "m", "zz"));
    }
}
