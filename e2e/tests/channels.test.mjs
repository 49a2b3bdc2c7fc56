// Public and private channels, toOthers, Redis prefix, HTTP API — through the real laravel-echo
// on socket.io-client 2.x and 4.x, over WebSocket and polling.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { matrix, startServer, startRedis, startAuthEndpoint, connectEcho, collect, until, waitNoChannels } from '../lib/harness.mjs';
import * as harness from '../lib/harness.mjs';

let redis, auth, server;

before(async () => {
  redis = await startRedis();
  auth = await startAuthEndpoint();
  server = await startServer({
    authHost: auth.url,
    subscribers: { http: true, redis: true },
    databaseConfig: { redis: { host: '127.0.0.1', port: redis.port, keyPrefix: 'laravel_database_' } },
  });
});

after(async () => {
  await server.stop();
  redis.stop();
  auth.stop();
});

/** Laravel's RedisBroadcaster payload, published with Laravel's prefix. */
function laravelPublish(channel, event, data, socket = null) {
  return redis.publish(`laravel_database_${channel}`, JSON.stringify({ event, data: { ...data, socket }, socket }));
}

for (const [version, transport] of matrix) {
  describe(`socket.io-client ${version} over ${transport}`, () => {
    it('receives public events published by Laravel through Redis, prefix stripped', async () => {
      const echo = await connectEcho(server, version, transport);
      const channel = `news-${version}-${transport}`;
      const got = collect((push) => echo.channel(channel).listen('OrderShipped', push));
      await waitSubscribed(channel, 1);
      assert.equal(await laravelPublish(channel, 'App\\Events\\OrderShipped', { id: 1 }), ':1');
      await laravelPublish(channel, 'App\\Events\\OrderShipped', { id: 2 });
      await until(() => got.length === 2, 'two events');
      assert.deepEqual(got, [{ id: 1, socket: null }, { id: 2, socket: null }]);
      echo.disconnect();
    });

    it('authorizes private channels and reports denials with subscription_error', async () => {
      const echo = await connectEcho(server, version, transport, { auth: { headers: { 'X-User': '1' } } });
      const channel = `orders.${version}-${transport}`;
      const errors = collect((push) => echo.connector.socket.on('subscription_error', (c, s) => push([c, s])));
      const got = collect((push) => echo.private(channel).listen('.shipped', push));
      echo.private(`forbidden.${transport}`);
      await until(() => errors.length === 1, 'subscription_error');
      assert.deepEqual(errors, [[`private-forbidden.${transport}`, 403]]);
      await waitSubscribed(`private-${channel}`, 1);
      await laravelPublish(`private-${channel}`, 'shipped', { ok: true });
      await until(() => got.length === 1, 'private event');
      assert.deepEqual(got, [{ ok: true, socket: null }]);
      const last = auth.requests.at(-1);
      assert.equal(last.headers['x-requested-with'], 'XMLHttpRequest');
      echo.disconnect();
    });

    it('excludes the sender with toOthers (X-Socket-ID)', async () => {
      const channel = `chat-${version}-${transport}`;
      const a = await connectEcho(server, version, transport);
      const b = await connectEcho(server, version, transport);
      const gotA = collect((push) => a.channel(channel).listen('.msg', push));
      const gotB = collect((push) => b.channel(channel).listen('.msg', push));
      await waitSubscribed(channel, 2);
      await laravelPublish(channel, 'msg', { n: 1 }, a.socketId());
      // A marker for everyone, published the same way after it: when a has it, the event meant
      // for the others only would have arrived before it.
      await laravelPublish(channel, 'msg', { n: 2 });
      await until(() => gotA.length === 1 && gotB.length === 2, 'the marker for a and b');
      assert.deepEqual(gotA, [{ n: 2, socket: null }]);
      assert.deepEqual(gotB.map((e) => e.n), [1, 2]);
      a.disconnect();
      b.disconnect();
    });

    it('publishes through the HTTP API and reads channels back', async () => {
      const channel = `api-${version}-${transport}`;
      const echo = await connectEcho(server, version, transport);
      const got = collect((push) => echo.channel(channel).listen('.Api', push));
      await waitSubscribed(channel, 1);
      const res = await server.publish({ channel, name: 'Api', data: JSON.stringify({ via: 'http' }) });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { message: 'ok' });
      await until(() => got.length === 1, 'api event');
      assert.deepEqual(got, [{ via: 'http' }]);
      const { body } = await server.api(`/channels?filter_by_prefix=${channel}`);
      assert.deepEqual(body, { channels: { [channel]: { subscription_count: 1, occupied: true } } });
      echo.leave(channel);
      await waitSubscribed(channel, 0);
      echo.disconnect();
    });
  });
}

function waitSubscribed(channel, n) {
  return harness.waitSubscribed(server, channel, n);
}

describe('after every client has gone', () => {
  it('holds no channels or connections and still serves', async () => {
    await waitNoChannels(server);
    assert.deepEqual((await server.api('/channels')).body, { channels: {} });
    assert.equal((await server.api('/status')).body.subscription_count, 0);
    assert.equal(server.child.exitCode, null);
  });
});
