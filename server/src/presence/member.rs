//! A presence member as the app's auth endpoint describes it (`channel_data`), and its form on
//! the wire.

use serde::Serialize;
use serde_json::value::RawValue;

/// What the app's auth endpoint said about a presence member (`channel_data`).
#[derive(Debug, Clone)]
pub struct Member {
    /// `user_id`, as the app sent it.
    pub user_id: Box<RawValue>,
    /// `user_info`, as the app sent it (`null` when absent).
    pub user_info: Box<RawValue>,
    /// `user_id` normalized for comparisons.
    key: String,
}

impl PartialEq for Member {
    fn eq(&self, other: &Self) -> bool {
        self.user_id.get() == other.user_id.get() && self.user_info.get() == other.user_info.get()
    }
}

/// Why `channel_data` cannot make a member.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MemberError {
    /// The auth reply has no `channel_data` (e.g. the presence callback returned `true`).
    #[error("member data for presence channel missing: the auth reply has no channel_data")]
    Missing,
    /// `channel_data` is neither an object nor a JSON string of one.
    #[error("channel_data is not an object")]
    NotAnObject,
    /// `channel_data` has no usable `user_id`.
    #[error("channel_data has no user_id")]
    NoUserId,
}

#[derive(serde::Deserialize)]
struct ChannelData<'a> {
    #[serde(borrow, default)]
    user_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    user_info: Option<&'a RawValue>,
}

impl Member {
    /// Read the member from an auth reply body's `channel_data`, which Laravel sends as an object
    /// and Pusher-style backends as a JSON string.
    ///
    /// # Errors
    /// No `channel_data`, not an object, or no `user_id`.
    pub fn from_auth_body(body: &serde_json::Value) -> Result<Self, MemberError> {
        let cd = match body.get("channel_data") {
            None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => {
                return Err(MemberError::Missing);
            }
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v @ serde_json::Value::Object(_)) => v.to_string(),
            Some(_) => return Err(MemberError::NotAnObject),
        };
        let parsed: ChannelData<'_> =
            serde_json::from_str(&cd).map_err(|_| MemberError::NotAnObject)?;
        let user_id = parsed
            .user_id
            .filter(|id| id.get() != "null" && id.get() != "\"\"")
            .ok_or(MemberError::NoUserId)?;
        let key = match serde_json::from_str::<serde_json::Value>(user_id.get()) {
            Ok(serde_json::Value::String(s)) => s,
            Ok(serde_json::Value::Number(n)) => n.to_string(),
            _ => user_id.get().to_owned(),
        };
        Ok(Member {
            user_id: user_id.to_owned(),
            user_info: parsed
                .user_info
                .map_or_else(crate::message::null, ToOwned::to_owned),
            key,
        })
    }

    /// `user_id` as a string, the form presence compares (`1` and `"1"` are one user) and the
    /// Pusher protocol keys its member hash by.
    pub fn user_key(&self) -> &str {
        &self.key
    }

    /// The member as sent to clients in `presence:*` events.
    ///
    /// laravel-echo-server also sent each member's `socketId`. For a socket.io-client 2 peer that
    /// is its Engine.IO session id, which lets any other member end the peer's polling session
    /// with one request; laravel-echo never reads it (its `here`, `joining` and `leaving` hand
    /// out `user_info` only), so it is not sent. A client's own id, for `X-Socket-ID` and
    /// `toOthers()`, is what its socket.io-client reports.
    pub fn wire(&self) -> MemberWire<'_> {
        MemberWire {
            user_id: &self.user_id,
            user_info: &self.user_info,
        }
    }
}

/// Serialized form: `{"user_id":..,"user_info":..}`.
#[derive(Debug, Serialize)]
pub struct MemberWire<'a> {
    user_id: &'a RawValue,
    user_info: &'a RawValue,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn channel_data_forms() {
        let s = Member::from_auth_body(&json!({"channel_data": "{\"user_id\":5}"})).unwrap();
        assert_eq!(s.user_id.get(), "5");
        assert_eq!(s.user_info.get(), "null");
        assert_eq!(
            Member::from_auth_body(&json!(true)),
            Err(MemberError::Missing)
        );
        assert_eq!(
            Member::from_auth_body(&json!({"channel_data": {"user_info": {}}})),
            Err(MemberError::NoUserId)
        );
        assert_eq!(
            Member::from_auth_body(&json!({"channel_data": 3})),
            Err(MemberError::NotAnObject)
        );
        let w = serde_json::to_string(&s.wire()).unwrap();
        assert_eq!(w, r#"{"user_id":5,"user_info":null}"#);
    }
}
