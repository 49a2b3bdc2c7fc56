// laravel-echo's `reverb` broadcaster (pusher-js) and its socket.io broadcaster on two rust-echo
// nodes of one cluster: one presence member list across nodes and protocols, each client told
// of the others in its own protocol's words, and events of the shared channels everywhere.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startAuthEndpoint, startClusterNode, connectEcho, collect, until } from '../lib/harness.mjs';
import { app, connectPusherEcho } from '../lib/pusher.mjs';

const ctx = { nodes: [] };
const user = (id) => ({ id, name: `User ${id}` });

before(async () => {
  ctx.redis = await startRedis();
  ctx.auth = await startAuthEndpoint();
  for (let i = 0; i < 2; i++) {
    const node = await startClusterNode(ctx.redis.port, { authHost: ctx.auth.url, apps: [app] });
    ctx.nodes.push(node);
  }
});

after(async () => {
  for (const n of ctx.nodes) await n.stop();
  ctx.auth.stop();
  ctx.redis.stop();
});

describe('laravel-echo reverb and socket.io clients on two nodes', () => {
  it('share one presence member list and hear of each other in their own protocol', async () => {
    const room = 'lobby';
    const [a, b] = ctx.nodes;
    const first = await connectPusherEcho(a, 'reverb', { user: 1 });
    const here = collect((push) => first.join(room).here(push));
    const joining = collect((push) => first.join(room).joining(push));
    const leaving = collect((push) => first.join(room).leaving(push));
    await until(() => here.length === 1, 'pusher here on node A');
    assert.deepEqual(here[0], [user(1)]);
    // What node A relayed about user 1 has reached node B once an event sent after it has.
    const watcher = await connectEcho(b, 'v4', 'websocket');
    const synced = collect((push) => watcher.channel('sync').listen('.Sync', push));
    await until(async () => (await b.api('/channels/sync')).body.subscription_count === 1, 'watcher in');
    await a.publish({ channel: 'sync', name: 'Sync', data: { n: 1 } });
    await until(() => synced.length === 1, 'node A settled at node B');

    const sio = await connectEcho(b, 'v2', 'websocket', { auth: { headers: { 'X-User': '2' } } });
    const sioHere = collect((push) => sio.join(room).here(push));
    const sioJoining = collect((push) => sio.join(room).joining(push));
    const sioLeaving = collect((push) => sio.join(room).leaving(push));
    await until(() => sioHere.length === 1 && joining.length === 1, 'socket.io here on node B; pusher on A hears it');
    assert.deepEqual(sioHere[0].map((m) => m.id).sort(), [1, 2]);
    assert.deepEqual(joining, [user(2)]);

    const second = await connectPusherEcho(b, 'reverb', { user: 3 });
    const secondHere = collect((push) => second.join(room).here(push));
    await until(() => secondHere.length === 1 && sioJoining.length === 1 && joining.length === 2, 'user 3 joined everywhere');
    assert.deepEqual(secondHere[0].map((m) => m.id).sort(), [1, 2, 3]);
    assert.deepEqual(sioJoining, [user(3)]);

    // An event through node A's API reaches both protocols on node B once.
    const atSecond = collect((push) => second.join(room).listen('.Said', push));
    const atSio = collect((push) => sio.join(room).listen('.Said', push));
    await a.publish({ channel: `presence-${room}`, name: 'Said', data: { text: 'hi' } });
    await until(() => atSecond.length === 1 && atSio.length === 1, 'the event on node B');

    first.disconnect();
    await until(() => sioLeaving.length === 1, 'socket.io on B hears user 1 leave node A');
    assert.deepEqual(sioLeaving, [user(1)]);
    sio.disconnect();
    second.disconnect();
    watcher.disconnect();
    assert.deepEqual(leaving, [], 'user 1 heard nothing after it left');
    assert.deepEqual([atSecond, atSio], [[{ text: 'hi' }], [{ text: 'hi' }]]);
  });
});
