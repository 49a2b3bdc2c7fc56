// The multi-node recipe of docs/deploy.md, run: nginx (docs/examples/nginx-cluster.conf, only
// addresses and port changed) in front of two rust-echo nodes of one cluster on a real
// redis-server. laravel-echo clients on socket.io-client 2.x and 4.x, over websocket and
// long-polling, connect through nginx from two loopback addresses that nginx's address hash
// sends to different nodes; events published on either node reach every client exactly once, in
// order, and each polling session stays on its node. laravel-echo's reverb broadcaster
// (pusher-js) connects through nginx too.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, startRedis, startAuthEndpoint, startClusterNode, matrix, connectEcho, collect, until } from '../lib/harness.mjs';
import { nginxInstalled, startNginx, recipePath } from '../lib/nginx.mjs';
import { app, connectPusherEcho, subscribed } from '../lib/pusher.mjs';

const ctx = { nodes: [], agents: [] };

/** The `connections` a node reports in /health (its own sockets). */
async function connections(node) {
  return (await (await fetch(`${node.url}/health`)).json()).connections;
}

/** A laravel-echo client through nginx whose requests leave from `agent`'s local address. */
function viaNginx(version, transport, agent) {
  return connectEcho({ url: ctx.nginx.url }, version, transport, { agent });
}

/** The node a client from `agent`'s address lands on through nginx. */
async function landsOn(agent) {
  const before = await Promise.all(ctx.nodes.map(connections));
  const echo = await viaNginx('v4', 'websocket', agent);
  let node;
  await until(async () => {
    const now = await Promise.all(ctx.nodes.map(connections));
    node = now.findIndex((n, i) => n > before[i]);
    return node >= 0;
  }, 'the probe counted by one node');
  echo.disconnect();
  await until(async () => (await connections(ctx.nodes[node])) === before[node], 'the probe gone');
  return node;
}

before(async () => {
  if (!nginxInstalled()) {
    if (process.env.CI === 'true') throw new Error('CI=true and nginx is not installed (scripts/setup.sh installs nginx-light)');
    ctx.skip = true;
    return;
  }
  ctx.redis = await startRedis();
  ctx.auth = await startAuthEndpoint();
  for (let i = 0; i < 2; i++) {
    const node = await startClusterNode(ctx.redis.port, {
      authHost: ctx.auth.url,
      cluster: { enabled: true, namespace: `nginx-${ctx.redis.port}` },
      apps: [app],
    });
    ctx.nodes.push(node);
  }
  ctx.nginx = await startNginx(ctx.nodes.map((n) => `127.0.0.1:${n.port}`));
  // One local address per node: nginx hashes the client's address.
  const found = [];
  for (let a = 2; a < 64 && !(found[0] && found[1]); a++) {
    const agent = new http.Agent({ localAddress: `127.0.0.${a}` });
    const node = await landsOn(agent);
    if (!found[node]) found[node] = agent;
  }
  assert.ok(found[0] && found[1], 'two loopback addresses that nginx sends to different nodes');
  ctx.agents = found;
});

after(async () => {
  await ctx.nginx?.stop();
  for (const n of ctx.nodes) await n.stop();
  ctx.auth?.stop();
  ctx.redis?.stop();
});

describe('nginx in front of two cluster nodes (docs/examples/nginx-cluster.conf)', () => {
  it('is the recipe docs/deploy.md shows', () => {
    const deploy = readFileSync(join(root, 'docs', 'deploy.md'), 'utf8');
    assert.ok(deploy.includes(readFileSync(recipePath, 'utf8').trim()), 'docs/deploy.md shows the tested file as it is');
  });

  for (const [version, transport] of matrix) {
    it(`delivers events from both nodes once to clients of both, socket.io-client ${version} over ${transport}`, async (t) => {
      if (ctx.skip) return t.skip('nginx is not installed');
      const chan = `orders.${version}-${transport}`;
      const before = await Promise.all(ctx.nodes.map(connections));
      const echos = [];
      for (const agent of ctx.agents) echos.push(await viaNginx(version, transport, agent));
      // One client on each node (a node counts its socket once the CONNECT is handled).
      let spread;
      await until(async () => {
        const now = await Promise.all(ctx.nodes.map(connections));
        spread = now.map((n, i) => n - before[i]);
        return spread[0] === 1 && spread[1] === 1;
      }, 'one client per node').catch(() => assert.deepEqual(spread, [1, 1], 'one client per node'));
      const got = echos.map((e) => collect((push) => e.channel(chan).listen('.Ev', push)));
      await until(async () => (await ctx.nodes[0].api(`/channels/${chan}`)).body.subscription_count === 2, 'both subscribed');
      const N = 10;
      for (let n = 0; n < N; n++) {
        for (const [i, node] of ctx.nodes.entries()) {
          await node.publish({ channel: chan, name: 'Ev', data: { src: `node-${i}`, n } });
        }
      }
      await until(() => got.every((g) => g.length >= 2 * N), 'every event at every client', 10000);
      // One more, once all have arrived: whatever a duplicate would be has arrived before it. (The
      // nodes relay to each other asynchronously, so events of two nodes have no common order.)
      await ctx.nodes[1].publish({ channel: chan, name: 'Ev', data: { src: 'end', n: 0 } });
      await until(() => got.every((g) => g.length >= 2 * N + 1), 'the end marker');
      for (const g of got) {
        assert.equal(g.length, 2 * N + 1, 'no duplicates');
        assert.deepEqual(g[2 * N], { src: 'end', n: 0 }, 'the marker last');
        const bySource = {};
        for (const e of g.slice(0, 2 * N)) (bySource[e.src] ??= []).push(e.n);
        assert.deepEqual(Object.keys(bySource).sort(), ['node-0', 'node-1']);
        for (const seq of Object.values(bySource)) assert.deepEqual(seq, [...Array(N).keys()]);
      }
      // A polling session is still on the node that opened it: neither client was dropped.
      for (const e of echos) assert.ok(e.connector.socket.connected, `${version}/${transport} still connected`);
      echos.forEach((e) => e.disconnect());
      await until(async () => {
        const after = await Promise.all(ctx.nodes.map(connections));
        return after.every((n, i) => n === before[i]);
      }, 'the clients gone');
    });
  }

  it('carries the Pusher protocol: laravel-echo reverb clients through nginx hear both nodes', async (t) => {
    if (ctx.skip) return t.skip('nginx is not installed');
    const echos = [];
    for (const user of [1, 2]) echos.push(await connectPusherEcho({ port: ctx.nginx.port }, 'reverb', { user }));
    const got = echos.map((e) => collect((push) => e.channel('news').listen('.Ev', push)));
    for (const e of echos) await subscribed(e, 'news');
    for (const [i, node] of ctx.nodes.entries()) await node.publish({ channel: 'news', name: 'Ev', data: { src: i } });
    await until(() => got.every((g) => g.length === 2), 'both nodes\' events at both clients');
    for (const g of got) assert.deepEqual(g.map((e) => e.src).sort(), [0, 1]);
    echos.forEach((e) => e.disconnect());
  });
});
