// A page that joins and leaves channels in one tick (an SPA changing route) through the real
// laravel-echo: every channel it left stays left, public, private and presence alike; joining
// again right after leaving ends joined. On socket.io-client 2.x and 4.x, WebSocket and polling.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverWithAuth, matrix, connectEcho, collect, until, subscriptionCount, waitSubscribed, waitNoChannels } from '../lib/harness.mjs';

const ctx = serverWithAuth();

const BURST = 40;

for (const [version, transport] of matrix) {
  describe(`socket.io-client ${version} over ${transport}`, () => {
    it('keeps 40 channels of each kind left when they are joined and left in one tick', async () => {
      const tag = `${version}-${transport}`;
      const echo = await connectEcho(ctx.server, version, transport, { auth: { headers: { 'X-User': '1' } } });
      const left = [];
      const got = [];
      for (let i = 0; i < BURST; i++) {
        const [pub, priv, pres] = [`news.${tag}.${i}`, `orders.${tag}.${i}`, `room.${tag}.${i}`];
        echo.channel(pub).listen('.Left', (e) => got.push([pub, e]));
        echo.leave(pub);
        echo.private(priv).listen('.Left', (e) => got.push([priv, e]));
        echo.leave(priv);
        echo.join(pres).listen('.Left', (e) => got.push([pres, e]));
        echo.leave(pres);
        left.push(pub, `private-${priv}`, `presence-${pres}`);
      }
      // Every private and presence subscribe was asked about, and answered, before or after its leave.
      await until(() => ctx.auth.requests.filter((r) => r.channel.includes(tag)).length === 2 * BURST, 'auth requests');
      const control = `control.${tag}`;
      const controlled = collect((push) => echo.channel(control).listen('.Control', push));
      await waitSubscribed(ctx.server, control, 1);
      for (const channel of left) {
        assert.equal(await subscriptionCount(ctx.server, channel), 0, `${channel} is still subscribed`);
      }
      // A raw listener sees events even for channels Echo no longer tracks.
      const raw = collect((push) => echo.connector.socket.on('Left', (channel) => push(channel)));
      const res = await ctx.server.publish({ channels: left, name: 'Left', data: '{}' });
      assert.equal(res.status, 200);
      await ctx.server.publish({ channel: control, name: 'Control', data: '{}' });
      await until(() => controlled.length === 1, 'the control event');
      assert.deepEqual(raw, []);
      assert.deepEqual(got, []);
      echo.disconnect();
      await waitSubscribed(ctx.server, control, 0);
    });

    it('ends joined after join, leave, join in one tick', async () => {
      const tag = `${version}-${transport}`;
      const echo = await connectEcho(ctx.server, version, transport, { auth: { headers: { 'X-User': '2' } } });
      const got = [];
      const names = [`again.${tag}`, `private-again-p.${tag}`, `presence-again-q.${tag}`];
      const open = [(n) => echo.channel(n), (n) => echo.private(n), (n) => echo.join(n)];
      open.forEach((subscribe, i) => {
        const name = names[i].replace(/^(private|presence)-/, '');
        subscribe(name);
        echo.leave(name);
        subscribe(name).listen('.Again', (e) => got.push([names[i], e]));
      });
      for (const channel of names) await waitSubscribed(ctx.server, channel, 1);
      await ctx.server.publish({ channels: names, name: 'Again', data: '{"n":1}' });
      await until(() => got.length === 3, 'one event per channel');
      assert.deepEqual(got.map(([c]) => c).sort(), [...names].sort());
      echo.disconnect();
    });
  });
}

describe('after every client has gone', () => {
  it('holds no channels', async () => {
    await waitNoChannels(ctx.server);
    assert.deepEqual((await ctx.server.api('/channels')).body, { channels: {} });
  });
});
