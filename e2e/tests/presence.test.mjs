// Presence and whispers through the real laravel-echo: here/joining/leaving exactly once per
// user across tabs, whispers to others only, on socket.io-client 2.x and 4.x.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverWithAuth, matrix, connectEcho, collect, until, waitSubscribed, waitNoChannels } from '../lib/harness.mjs';

const ctx = serverWithAuth();

const user = (id) => ({ id, name: `User ${id}` });

for (const [version, transport] of matrix) {
  describe(`socket.io-client ${version} over ${transport}`, () => {
    it('shows who is here, who joins and who leaves, once per user', async () => {
      const room = `room.${version}-${transport}`;
      const as = (id) => connectEcho(ctx.server, version, transport, { auth: { headers: { 'X-User': String(id) } } });
      const track = (echo) => {
        const ev = { here: [], joining: [], leaving: [] };
        echo.join(room)
          .here((m) => ev.here.push(m))
          .joining((m) => ev.joining.push(m))
          .leaving((m) => ev.leaving.push(m));
        return ev;
      };
      const alice1 = await as(1);
      const a1 = track(alice1);
      await until(() => a1.here.length === 1, 'alice here');
      assert.deepEqual(a1.here[0], [user(1)]);

      const bob = await as(2);
      const b = track(bob);
      const markers = collect((push) => bob.join(room).listen('.Marker', push));
      // An event for the room through the HTTP API, after whatever Bob must not be told: one
      // socket's packets arrive in order, so anything sent to Bob before it has arrived too.
      const marker = async (n) => {
        await ctx.server.publish({ channel: `presence-${room}`, name: 'Marker', data: { n } });
        await until(() => markers.length === n, `marker ${n}`);
      };
      await until(() => b.here.length === 1 && a1.joining.length === 1, 'bob joined');
      assert.deepEqual(b.here[0], [user(2), user(1)]);
      assert.deepEqual(a1.joining, [user(2)]);

      // Alice opens a second tab: it sees both, nobody sees Alice join again.
      const alice2 = await as(1);
      const a2 = track(alice2);
      await until(() => a2.here.length === 1, 'second tab here');
      assert.deepEqual(a2.here[0], [user(1), user(2)]);
      await marker(1);
      assert.equal(b.joining.length, 0);

      // One tab closes: Alice is still here. The second closes: Bob sees her leave, once.
      alice1.disconnect();
      await waitSubscribed(ctx.server, `presence-${room}`, 2);
      await marker(2);
      assert.equal(b.leaving.length, 0);
      alice2.disconnect();
      await until(() => b.leaving.length === 1, 'alice left');
      await marker(3);
      assert.deepEqual(b.leaving, [user(1)]);
      const { body } = await ctx.server.api(`/channels/presence-${room}/users`);
      assert.deepEqual(body, { users: [{ id: 2, user_info: user(2) }] });
      bob.disconnect();
    });

    it('delivers whispers to the others on private channels and drops the rest', async () => {
      const chan = `typing.${version}-${transport}`;
      const a = await connectEcho(ctx.server, version, transport, { auth: { headers: { 'X-User': '1' } } });
      const b = await connectEcho(ctx.server, version, transport, { auth: { headers: { 'X-User': '2' } } });
      const gotA = collect((push) => a.private(chan).listenForWhisper('typing', push));
      const gotB = collect((push) => b.private(chan).listenForWhisper('typing', push));
      const pubA = collect((push) => a.channel(`public-${chan}`).listenForWhisper('typing', push));
      const pubB = collect((push) => b.channel(`public-${chan}`).listenForWhisper('typing', push));
      await waitSubscribed(ctx.server, `private-${chan}`, 2);
      await waitSubscribed(ctx.server, `public-${chan}`, 2);
      a.private(chan).whisper('typing', { name: 'A' });
      // Public channels carry no whispers; the socket.io connector has no whisper() there, so
      // send the raw client event as a modified client would.
      a.connector.socket.emit('client event', { channel: `public-${chan}`, event: 'client-typing', data: { name: 'X' } });
      // Whispers are relayed in the order the sender sent them: a's next one reaching b, and
      // then b's reply reaching a, come after anything the two before could have produced.
      a.private(chan).whisper('typing', { name: 'A2' });
      await until(() => gotB.length === 2, 'whispers');
      b.private(chan).whisper('typing', { name: 'B' });
      await until(() => gotA.length === 1, 'the reply');
      assert.deepEqual(gotB, [{ name: 'A' }, { name: 'A2' }]);
      assert.deepEqual(gotA, [{ name: 'B' }], 'the sender does not hear its own whisper');
      assert.equal(pubA.length + pubB.length, 0);
      a.disconnect();
      b.disconnect();
    });
  });
}

describe('after every client has gone', () => {
  it('holds no presence members or channels', async () => {
    await waitNoChannels(ctx.server);
    assert.deepEqual((await ctx.server.api('/channels')).body, { channels: {} });
    assert.equal(ctx.server.child.exitCode, null);
  });
});
