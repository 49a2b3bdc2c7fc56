//! What Laravel's `RedisBroadcaster` PUBLISHes, as the bench's own servers (the raw broadcaster,
//! the socketioxide adapter node) read it: the event name and the data, both left as JSON text.

use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
pub struct Payload<'a> {
    #[serde(borrow)]
    pub event: &'a RawValue,
    #[serde(borrow)]
    pub data: &'a RawValue,
}
