// One scripted Pusher-protocol session, run against a server and recorded as observations: every
// frame each raw WebSocket client received (socket ids replaced by the client's name), every HTTP
// API answer. Run against `php artisan reverb:start` and against rust-echo, the two records are
// compared (tests/reverb-compare.test.mjs).
import { createHash, createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { within } from './harness.mjs';

const require = createRequire(import.meta.url);
const WebSocket = require('ws');

export const app = { id: 'compare-id', key: 'compare-key', secret: 'compare-secret' };

const hmac = (text) => createHmac('sha256', app.secret).update(text).digest('hex');

/** A raw client: frames as they arrive, in order. */
async function connect(wsUrl, key = app.key) {
  const ws = new WebSocket(`${wsUrl}/app/${key}?protocol=7&client=js&version=8.4.0`);
  const frames = [];
  const waiting = [];
  let closed = false;
  ws.on('message', (data) => {
    frames.push(data.toString());
    waiting.splice(0).forEach((w) => w());
  });
  ws.on('close', () => {
    closed = true;
    waiting.splice(0).forEach((w) => w());
  });
  await within(5000, 'ws open', (done) => ws.on('open', done));
  const c = {
    id: null,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    next: async () => {
      while (frames.length === 0) {
        if (closed) return '<closed>';
        await within(5000, 'a frame', (done) => waiting.push(done));
      }
      return frames.shift();
    },
    closed: async () => {
      while (!closed) {
        frames.splice(0);
        await within(5000, 'close', (done) => waiting.push(done));
      }
      return true;
    },
    close: () => ws.close(),
  };
  return c;
}

/** Pusher-signed HTTP API request. */
async function api(httpUrl, method, path, body = '', params = {}, secret = app.secret, appId = app.id) {
  const full = path.replace('{id}', appId);
  const query = { auth_key: app.key, auth_timestamp: String(Math.floor(Date.now() / 1000)), auth_version: '1.0', ...params };
  if (body) query.body_md5 = createHash('md5').update(body).digest('hex');
  const sorted = Object.keys(query).sort().map((k) => `${k}=${query[k]}`).join('&');
  const signature = createHmac('sha256', secret).update(`${method}\n${full}\n${sorted}`).digest('hex');
  const res = await fetch(`${httpUrl}${full}?${sorted}&auth_signature=${signature}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: method === 'GET' ? undefined : body,
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, body: json };
}

/** Parse a frame for comparison: `data` strings that hold JSON are parsed too. */
export function parse(frame, names) {
  let text = frame;
  for (const [id, name] of names) text = text.split(id).join(`<${name}>`);
  if (text === '<closed>') return text;
  const f = JSON.parse(text);
  if (typeof f.data === 'string') {
    try { f.data = JSON.parse(f.data); } catch { /* a plain string */ }
  }
  return f;
}

/** Run the session; `log(step, value)` records each observation. */
export async function session(wsUrl, httpUrl) {
  const record = [];
  const names = [];
  const established = async (c, name) => {
    const f = JSON.parse(await c.next());
    c.id = JSON.parse(f.data).socket_id;
    names.push([c.id, name]);
    record.push([`${name} established`, parse(JSON.stringify(f), names)]);
  };
  const see = async (c, step) => record.push([step, parse(await c.next(), names)]);
  const http = async (step, ...args) => record.push([step, await api(httpUrl, ...args)]);

  const unknown = await connect(wsUrl, 'no-such-key');
  await see(unknown, 'unknown key: error');
  record.push(['unknown key: closed', await unknown.closed()]);

  const a = await connect(wsUrl);
  await established(a, 'A');
  a.send({ event: 'pusher:ping', data: {} });
  await see(a, 'ping');
  a.send('not json');
  await see(a, 'invalid json');
  a.send({ event: 'pusher:nonsense', data: {} });
  await see(a, 'unknown pusher event');
  a.send({ event: 'pusher:subscribe', data: { channel: 'news' } });
  await see(a, 'public subscribe');
  a.send({ event: 'pusher:subscribe', data: { channel: 'private-x', auth: `${app.key}:${hmac('1.1:private-x')}` } });
  await see(a, 'private subscribe, bad signature');
  a.send({ event: 'pusher:subscribe', data: { channel: 'private-x', auth: `${app.key}:${hmac(`${a.id}:private-x`)}` } });
  await see(a, 'private subscribe');

  const presence = async (c, user) => {
    const channelData = JSON.stringify({ user_id: user, user_info: { name: `User ${user}` } });
    const auth = `${app.key}:${hmac(`${c.id}:presence-room:${channelData}`)}`;
    c.send({ event: 'pusher:subscribe', data: { channel: 'presence-room', auth, channel_data: channelData } });
  };
  const b = await connect(wsUrl);
  await established(b, 'B');
  await presence(b, 1);
  await see(b, 'presence subscribe, first member');
  const c = await connect(wsUrl);
  await established(c, 'C');
  await presence(c, 2);
  await see(c, 'presence subscribe, second member');
  await see(b, 'member_added');

  c.send({ event: 'client-typing', channel: 'presence-room', data: { typing: true } });
  await see(b, 'client event on presence');
  a.send({ event: 'client-typing', channel: 'presence-room', data: {} });
  await see(a, 'client event from a non-member');

  await http('events', 'POST', '/apps/{id}/events', JSON.stringify({ name: 'Shipped', channel: 'news', data: '{"a":1,"url":"a/b"}' }));
  await see(a, 'event');
  await http('events, info, socket_id', 'POST', '/apps/{id}/events',
    JSON.stringify({ name: 'Skip', channels: ['news', 'private-x'], data: 'plain', socket_id: a.id, info: 'subscription_count' }));
  await http('batch', 'POST', '/apps/{id}/batch_events', JSON.stringify({ batch: [{ name: 'One', channel: 'news', data: '1' }] }));
  await see(a, 'batch event (the skipped one never came)');
  await http('channels', 'GET', '/apps/{id}/channels', '', { info: 'subscription_count' });
  await http('presence channels', 'GET', '/apps/{id}/channels', '', { filter_by_prefix: 'presence-', info: 'user_count' });
  await http('channel', 'GET', '/apps/{id}/channels/news', '', { info: 'subscription_count' });
  await http('empty channel', 'GET', '/apps/{id}/channels/nobody', '');
  await http('users', 'GET', '/apps/{id}/channels/presence-room/users', '');
  await http('users of a public channel', 'GET', '/apps/{id}/channels/news/users', '');
  // A connection in no channel is not counted.
  const d = await connect(wsUrl);
  await established(d, 'D');
  await http('connections', 'GET', '/apps/{id}/connections', '');
  d.close();
  const up = await fetch(`${httpUrl}/up`);
  record.push(['health check', { status: up.status, body: await up.json() }]);
  await http('bad signature', 'POST', '/apps/{id}/events', '{"name":"E","channel":"news","data":"1"}', {}, 'wrong');
  const stale = String(Math.floor(Date.now() / 1000) - 601);
  await http('stale timestamp', 'POST', '/apps/{id}/events', '{"name":"Stale","channel":"private-x","data":"1"}', { auth_timestamp: stale });
  await http('unknown app', 'POST', '/apps/{id}/events', '{"name":"E","channel":"news","data":"1"}', {}, app.secret, 'nope');

  c.send({ event: 'pusher:unsubscribe', data: { channel: 'presence-room' } });
  await see(b, 'member_removed');
  for (const client of [a, b, c]) client.close();
  return record;
}
