// Three rust-echo nodes on one real redis-server (`cluster.enabled`), laravel-echo clients on
// socket.io-client 2.x and 4.x spread over them: events from each node's HTTP API and from
// Laravel's Redis PUBLISH reach every client once, in order; toOthers and whispers cross nodes;
// presence is one member list for the cluster.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startAuthEndpoint, startClusterNode, matrix, connectEcho, collect, until, waitSubscribed } from '../lib/harness.mjs';

const ctx = { nodes: [] };
const user = (id) => ({ id, name: `User ${id}` });

before(async () => {
  ctx.redis = await startRedis();
  ctx.auth = await startAuthEndpoint();
  for (let i = 0; i < 3; i++) {
    const node = await startClusterNode(ctx.redis.port, { authHost: ctx.auth.url, subscribers: { http: true, redis: true } });
    ctx.nodes.push(node);
  }
});

after(async () => {
  for (const n of ctx.nodes) await n.stop();
  ctx.auth.stop();
  ctx.redis.stop();
});

/** One laravel-echo client per node. */
async function spread(version, transport, headers = (i) => ({ 'X-User': String(i + 1) })) {
  const out = [];
  for (const [i, node] of ctx.nodes.entries()) {
    out.push(await connectEcho(node, version, transport, { auth: { headers: headers(i) } }));
  }
  return out;
}

for (const [version, transport] of matrix) {
  describe(`socket.io-client ${version} over ${transport}, one client per node`, () => {
    it('delivers every event once, in order per publisher, whichever node it entered', async () => {
      const chan = `orders.${version}-${transport}`;
      const echos = await spread(version, transport);
      const got = echos.map((e) => collect((push) => e.channel(chan).listen('.Ev', push)));
      await waitSubscribed(ctx.nodes[0], chan, 3);
      const N = 5;
      for (let n = 0; n < N; n++) {
        for (const [i, node] of ctx.nodes.entries()) {
          await node.publish({ channel: chan, name: 'Ev', data: { src: `http-${i}`, n } });
        }
        await ctx.redis.publish(chan, JSON.stringify({ event: 'Ev', data: { src: 'redis', n }, socket: null }));
      }
      const total = N * 4;
      await until(() => got.every((g) => g.length >= total), 'every event everywhere');
      // One more through node 2: whatever a duplicate would be has arrived before it.
      await ctx.nodes[2].publish({ channel: chan, name: 'Ev', data: { src: 'end', n: 0 } });
      await until(() => got.every((g) => g.length >= total + 1), 'the end marker');
      for (const g of got) {
        assert.equal(g.length, total + 1, 'no duplicates');
        assert.deepEqual(g[total], { src: 'end', n: 0 });
        const bySource = {};
        for (const e of g.slice(0, total)) (bySource[e.src] ??= []).push(e.n);
        assert.deepEqual(Object.keys(bySource).sort(), ['http-0', 'http-1', 'http-2', 'redis']);
        for (const seq of Object.values(bySource)) assert.deepEqual(seq, [0, 1, 2, 3, 4]);
      }
      echos.forEach((e) => e.disconnect());
    });

    it('honours toOthers and relays whispers across nodes', async () => {
      const chan = `chat.${version}-${transport}`;
      const echos = await spread(version, transport);
      const events = echos.map((e) => collect((push) => e.private(chan).listen('.Said', push)));
      const whispers = echos.map((e) => collect((push) => e.private(chan).listenForWhisper('typing', push)));
      await waitSubscribed(ctx.nodes[1], `private-${chan}`, 3);
      // Sent through node 1's API on behalf of the client on node 0.
      await ctx.nodes[1].publish({ channel: `private-${chan}`, name: 'Said', data: { n: 1 }, socket_id: echos[0].socketId() });
      echos[0].private(chan).whisper('typing', { from: 0 });
      await until(() => events[1].length === 1 && events[2].length === 1, 'the event on nodes 1 and 2');
      await until(() => whispers[1].length === 1 && whispers[2].length === 1, 'the whisper on nodes 1 and 2');
      // Node 2 replies last: when it reaches node 0, nothing else is on its way there.
      echos[2].private(chan).whisper('typing', { from: 2 });
      await until(() => whispers[0].length === 1, 'the reply');
      assert.deepEqual(events[0], [], 'the excluded socket got nothing');
      assert.deepEqual(whispers[0], [{ from: 2 }], 'the sender does not hear itself');
      assert.deepEqual(whispers[1], [{ from: 0 }, { from: 2 }]);
      assert.deepEqual(whispers[2], [{ from: 0 }]);
      echos.forEach((e) => e.disconnect());
    });

    it('keeps one member list for the cluster, the same user on two nodes', async () => {
      const room = `room.${version}-${transport}`;
      // Users 1, 2 and 1 again (a second tab, on node 2).
      const echos = await spread(version, transport, (i) => ({ 'X-User': String(i === 2 ? 1 : i + 1) }));
      const track = (echo) => {
        const ev = { here: [], joining: [], leaving: [] };
        echo.join(room).here((m) => ev.here.push(m)).joining((m) => ev.joining.push(m)).leaving((m) => ev.leaving.push(m));
        return ev;
      };
      const t0 = track(echos[0]);
      await until(() => t0.here.length === 1, 'user 1 here');
      const t1 = track(echos[1]);
      await until(() => t1.here.length === 1 && t0.joining.length === 1, 'user 2 joined');
      const t2 = track(echos[2]);
      await until(() => t2.here.length === 1, 'user 1 second tab here');
      const ids = (list) => list.map((m) => m.id).sort();
      assert.deepEqual(ids(t1.here[0]), [1, 2]);
      assert.deepEqual(ids(t2.here[0]), [1, 2]);
      assert.deepEqual(t0.joining, [user(2)]);
      // User 1 closes the tab on node 0: still on node 2, nobody is told it left. Then the tab
      // on node 2 closes: node 1's client hears user 1 leave once.
      echos[0].disconnect();
      await waitSubscribed(ctx.nodes[1], `presence-${room}`, 2);
      echos[2].disconnect();
      await until(() => t1.leaving.length === 1, 'user 1 left');
      const marker = collect((push) => echos[1].join(room).listen('.Marker', push));
      await ctx.nodes[0].publish({ channel: `presence-${room}`, name: 'Marker', data: { n: 1 } });
      await until(() => marker.length >= 1, 'the marker');
      assert.deepEqual(t1.leaving, [user(1)]);
      assert.deepEqual(t1.joining, [], 'user 1 second tab did not join again');
      for (const node of ctx.nodes) {
        assert.deepEqual((await node.api(`/channels/presence-${room}/users`)).body, { users: [{ id: 2, user_info: user(2) }] });
      }
      echos[1].disconnect();
    });
  });
}
