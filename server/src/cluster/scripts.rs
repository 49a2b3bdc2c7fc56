//! The Lua scripts that change presence in Redis, each atomic, so two nodes joining or leaving
//! the same user at once, or two nodes sweeping the same dead node, cannot miscount.

/// A node has the user in the channel now (its first socket of that user there).
/// KEYS: members, nodes of user, the node's hash. ARGV: user key, member JSON, node field.
/// Returns `{nodes having the user, whether this call added the node, now, members...}`; `now`
/// (Redis's clock, in microseconds) dates both the join and the member list.
pub(crate) const JOIN: &str = r"
local added = redis.call('HSETNX', KEYS[3], ARGV[3], '1')
local n
if added == 1 then
  n = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
else
  n = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local t = redis.call('TIME')
local out = {n, added, tonumber(t[1]) * 1000000 + tonumber(t[2])}
for _, m in ipairs(redis.call('HVALS', KEYS[1])) do table.insert(out, m) end
return out
";

/// The member list for a socket whose user is on this node already, dated as [`JOIN`] does.
/// KEYS: members. Returns `{2, 0, now, members...}` (the shape of [`JOIN`]'s answer).
pub(crate) const MEMBERS: &str = r"
local t = redis.call('TIME')
local out = {2, 0, tonumber(t[1]) * 1000000 + tonumber(t[2])}
for _, m in ipairs(redis.call('HVALS', KEYS[1])) do table.insert(out, m) end
return out
";

/// A node no longer has the user in the channel (its last socket of that user there left).
/// KEYS: members, nodes of user, the node's hash. ARGV: user key, node field.
/// Returns the member JSON when no node has the user any more (it left the cluster).
pub(crate) const LEAVE: &str = r"
if redis.call('HDEL', KEYS[3], ARGV[2]) == 0 then return false end
local n = redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
if n > 0 then return false end
redis.call('HDEL', KEYS[2], ARGV[1])
local m = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
return m
";

/// Take away everything a node added (it died, or it stops), and forget the node.
/// KEYS: the node's hash, the set of nodes, the node's subscription counts, its swept mark
/// (which tells a node that comes back that the others were told its members left), its
/// connection counts.
/// ARGV: the names' prefix ([`super::keys::Keys::prefix`]), node id.
/// Returns `{channel, member JSON, ...}` for each user that left the cluster.
pub(crate) const SWEEP: &str = r"
local out = {}
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  local ok, cu = pcall(cjson.decode, f)
  if ok and type(cu) == 'table' and type(cu[1]) == 'string' and type(cu[2]) == 'string' then
    local nodes = ARGV[1] .. ':presence-nodes:' .. cu[1]
    local members = ARGV[1] .. ':presence:' .. cu[1]
    local n = redis.call('HINCRBY', nodes, cu[2], -1)
    if n <= 0 then
      redis.call('HDEL', nodes, cu[2])
      local m = redis.call('HGET', members, cu[2])
      redis.call('HDEL', members, cu[2])
      if m then
        table.insert(out, cu[1])
        table.insert(out, m)
      end
    end
  end
end
redis.call('DEL', KEYS[1], KEYS[3], KEYS[5])
redis.call('SREM', KEYS[2], ARGV[2])
redis.call('SET', KEYS[4], '1', 'EX', 3600)
return out
";
