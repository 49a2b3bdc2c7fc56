// laravel-echo with the `reverb` and `pusher` broadcasters (pusher-js) against rust-echo, beside
// laravel-echo on socket.io-client in the same channels: public, private, presence and encrypted
// channels, client events, toOthers, errors; a mixed room receiving the same events.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { serverWithAuth, connectEcho, collect, until, within, waitSubscribed } from '../lib/harness.mjs';
import { app, connectPusherEcho, subscribed, sharedSecret, Pusher } from '../lib/pusher.mjs';

const require = createRequire(import.meta.url);
const nacl = require('tweetnacl');

const ctx = serverWithAuth({ apps: [app] });

for (const broadcaster of ['reverb', 'pusher']) {
  describe(`laravel-echo ${broadcaster} broadcaster`, () => {
    it('a mixed room of Pusher and Socket.IO clients receives the same events once each', async () => {
      const channel = `mixed-${broadcaster}`;
      const pusher = await connectPusherEcho(ctx.server, broadcaster);
      const sio = await connectEcho(ctx.server, 'v4', 'websocket');
      const viaPusher = collect((push) => pusher.channel(channel).listen('.Shipped', push));
      const viaSio = collect((push) => sio.channel(channel).listen('.Shipped', push));
      await subscribed(pusher, channel);
      await waitSubscribed(ctx.server, channel, 2);
      await ctx.server.publish({ channel, name: 'Shipped', data: { id: 1, note: 'a/b "q"' } });
      await ctx.server.publish({ channel, name: 'Shipped', data: { id: 2 } });
      await until(() => viaPusher.length === 2 && viaSio.length === 2, 'both events at both clients');
      assert.deepEqual(viaPusher, [{ id: 1, note: 'a/b "q"' }, { id: 2 }]);
      assert.deepEqual(viaSio, viaPusher);
      pusher.disconnect();
      sio.disconnect();
    });

    it('private channels, whispers across protocols and toOthers', async () => {
      const room = `orders-${broadcaster}`;
      const pusher = await connectPusherEcho(ctx.server, broadcaster);
      const sio = await connectEcho(ctx.server, 'v4', 'websocket', { auth: { headers: { 'X-User': '2' } } });
      const events = collect((push) => pusher.private(room).listen('.Shipped', push));
      const whispersAtPusher = collect((push) => pusher.private(room).listenForWhisper('typing', push));
      const whispersAtSio = collect((push) => sio.private(room).listenForWhisper('typing', push));
      const sioEvents = collect((push) => sio.private(room).listen('.Shipped', push));
      await subscribed(pusher, `private-${room}`);
      await waitSubscribed(ctx.server, `private-${room}`, 2);

      pusher.private(room).whisper('typing', { from: 'pusher' });
      sio.private(room).whisper('typing', { from: 'sio' });
      await until(() => whispersAtPusher.length === 1 && whispersAtSio.length === 1, 'each whisper at the other');
      assert.deepEqual(whispersAtSio, [{ from: 'pusher' }]);
      assert.deepEqual(whispersAtPusher, [{ from: 'sio' }]);

      await ctx.server.publish({ channel: `private-${room}`, name: 'Shipped', data: { n: 1 }, socket_id: pusher.socketId() });
      await ctx.server.publish({ channel: `private-${room}`, name: 'Shipped', data: { n: 2 }, socket_id: sio.socketId() });
      await until(() => events.length === 1 && sioEvents.length === 1, 'each event at the other');
      assert.deepEqual(events, [{ n: 2 }]);
      assert.deepEqual(sioEvents, [{ n: 1 }]);
      pusher.disconnect();
      sio.disconnect();
    });

    it('presence: one member list across protocols', async () => {
      const room = `chat-${broadcaster}`;
      const user = (id) => ({ id, name: `User ${id}` });
      const pusher = await connectPusherEcho(ctx.server, broadcaster, { user: 1 });
      const here = collect((push) => pusher.join(room).here(push));
      const joining = collect((push) => pusher.join(room).joining(push));
      const leaving = collect((push) => pusher.join(room).leaving(push));
      await until(() => here.length === 1, 'pusher here');
      assert.deepEqual(here[0], [user(1)]);

      const sio = await connectEcho(ctx.server, 'v4', 'websocket', { auth: { headers: { 'X-User': '2' } } });
      const sioHere = collect((push) => sio.join(room).here(push));
      const sioJoining = collect((push) => sio.join(room).joining(push));
      await until(() => sioHere.length === 1 && joining.length === 1, 'sio here, pusher sees sio join');
      assert.deepEqual(sioHere[0].map((m) => m.id).sort(), [1, 2]);
      assert.deepEqual(joining, [user(2)]);

      const second = await connectPusherEcho(ctx.server, broadcaster, { user: 3 });
      const secondHere = collect((push) => second.join(room).here(push));
      await until(() => secondHere.length === 1 && sioJoining.length === 1 && joining.length === 2, 'user 3 joined everywhere');
      assert.deepEqual(secondHere[0].map((m) => m.id).sort(), [1, 2, 3]);
      assert.deepEqual(sioJoining, [user(3)]);

      sio.disconnect();
      await until(() => leaving.length === 1, 'pusher sees sio leave');
      assert.deepEqual(leaving, [user(2)]);
      pusher.disconnect();
      second.disconnect();
    });

    it('encrypted channels carry what the publisher sealed', async () => {
      const room = `vault-${broadcaster}`;
      const pusher = await connectPusherEcho(ctx.server, broadcaster);
      const got = collect((push) => pusher.encryptedPrivate(room).listen('.Secret', push));
      await subscribed(pusher, `private-encrypted-${room}`);
      const nonce = nacl.randomBytes(24);
      const key = Buffer.from(sharedSecret, 'base64');
      const ciphertext = nacl.secretbox(Buffer.from(JSON.stringify({ pin: 1234 })), nonce, key);
      const data = { nonce: Buffer.from(nonce).toString('base64'), ciphertext: Buffer.from(ciphertext).toString('base64') };
      await ctx.server.publish({ channel: `private-encrypted-${room}`, name: 'Secret', data });
      await until(() => got.length === 1, 'the decrypted event');
      assert.deepEqual(got, [{ pin: 1234 }]);
      pusher.disconnect();
    });
  });
}

describe('errors', () => {
  it('an unknown key is refused with 4001', async () => {
    const client = new Pusher('no-such-key', {
      cluster: 'mt1', wsHost: '127.0.0.1', wsPort: ctx.server.port, forceTLS: false, enabledTransports: ['ws'],
    });
    const error = await within(5000, 'pusher:error', (done) => client.connection.bind('error', done));
    // pusher-js reports an error during the handshake wrapped, as it does with Reverb.
    assert.deepEqual(error.error, { type: 'PusherError', data: { code: 4001, message: 'Application does not exist' } });
    client.disconnect();
  });

  it('a private channel with a bad signature is refused with 4009', async () => {
    const client = new Pusher(app.key, {
      cluster: 'mt1', wsHost: '127.0.0.1', wsPort: ctx.server.port, forceTLS: false, enabledTransports: ['ws'],
      channelAuthorization: { customHandler: (_, callback) => callback(null, { auth: `${app.key}:00` }) },
    });
    const error = await within(5000, 'pusher:error', (done) => {
      client.connection.bind('error', done);
      client.subscribe('private-nope');
    });
    assert.equal(error.data.code, 4009);
    client.disconnect();
  });
});
