// Presence events through the real laravel-echo carry no member socket ids: a socket.io-client 2
// peer's socket id is its Engine.IO session id, which ends a polling session in one request.
// laravel-echo's here/joining/leaving only ever read user_info, and toOthers keeps working.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverWithAuth, matrix, connectEcho, collect, until } from '../lib/harness.mjs';

const ctx = serverWithAuth();

const user = (id) => ({ id, name: `User ${id}` });

for (const [version, transport] of matrix) {
  describe(`socket.io-client ${version} over ${transport}`, () => {
    it('lists members without socket ids and still excludes the sender with toOthers', async () => {
      const room = `ids.${version}-${transport}`;
      const as = (id) => connectEcho(ctx.server, version, transport, { auth: { headers: { 'X-User': String(id) } } });
      const peer = await as(1);
      const here = collect((push) => peer.join(room).here(push));
      await until(() => here.length === 1, 'peer here');

      const other = await as(2);
      const raw = collect((push) => {
        for (const event of ['presence:subscribed', 'presence:joining', 'presence:leaving']) {
          other.connector.socket.on(event, (channel, data) => push(JSON.stringify(data)));
        }
      });
      const otherHere = collect((push) => other.join(room).here(push));
      await until(() => otherHere.length === 1, 'other here');
      assert.deepEqual(otherHere[0], [user(2), user(1)]);
      assert.ok(raw.length > 0);
      for (const payload of raw) {
        assert.ok(!payload.includes(peer.socketId()), payload);
        assert.ok(!payload.includes('socketId'), payload);
      }

      const gotPeer = collect((push) => peer.join(room).listen('.Mine', push));
      const gotOther = collect((push) => other.join(room).listen('.Mine', push));
      await ctx.server.publish({ channel: `presence-${room}`, name: 'Mine', data: '{"n":1}', socket_id: peer.socketId() });
      await ctx.server.publish({ channel: `presence-${room}`, name: 'Mine', data: '{"n":2}' });
      await until(() => gotOther.length === 2 && gotPeer.length === 1, 'both events at the other, the second at the peer');
      assert.deepEqual(gotPeer, [{ n: 2 }]);
      peer.disconnect();
      other.disconnect();
    });
  });
}
