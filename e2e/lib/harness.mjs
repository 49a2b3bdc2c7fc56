// Test harness: starts the real rust-echo binary, a real redis-server and an HTTP endpoint that
// answers /broadcasting/auth the way Laravel's RedisBroadcaster does; builds laravel-echo clients
// on socket.io-client 2.x or 4.x.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import net from 'node:net';
import Echo from 'laravel-echo';
import { before, after } from 'node:test';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');

export const clients = {
  v2: require('sio2'),
  v4: require('socket.io-client'),
};

/** Every client/transport combination the suites run against. */
export const matrix = [
  ['v2', 'websocket'],
  ['v2', 'polling'],
  ['v4', 'websocket'],
  ['v4', 'polling'],
];

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolve with the first value `fn` produces, or reject after `ms`. */
export function within(ms, what, register) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    register((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

async function waitForOutput(child, text, ms) {
  let out = '';
  return within(ms, `"${text}" from ${child.spawnargs[0]}`, (done) => {
    const on = (chunk) => {
      out += chunk.toString();
      if (out.includes(text)) done(out);
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
  });
}

/** A real redis-server on a free port. */
export async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForOutput(child, 'Ready to accept connections', 5000);
  return {
    port,
    stop: () => child.kill('SIGKILL'),
    publish: (channel, payload) => redisCommand(port, ['PUBLISH', channel, payload]),
  };
}

/** Send one command over RESP and return the reply line. */
export function redisCommand(port, args) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let cmd = `*${args.length}\r\n`;
    for (const a of args) cmd += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
    sock.on('connect', () => sock.write(cmd));
    sock.on('data', (d) => {
      resolve(d.toString().trim());
      sock.end();
    });
    sock.on('error', reject);
  });
}

/**
 * An endpoint answering like Laravel's RedisBroadcaster: the user is named by the `X-User`
 * header (absent: 403); `private-*` channels need a user and `private-forbidden*` are denied;
 * `presence-*` returns channel_data for the user.
 */
export async function startAuthEndpoint() {
  const requests = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const channel = new URLSearchParams(body).get('channel_name') ?? '';
      requests.push({ channel, headers: req.headers });
      const user = req.headers['x-user'];
      if (!user || channel.includes('forbidden')) {
        res.writeHead(403, { 'Content-Type': 'application/json' });
        return res.end('{"message":""}');
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (channel.startsWith('presence-')) {
        const id = Number(user);
        return res.end(JSON.stringify({ channel_data: { user_id: id, user_info: { id, name: `User ${id}` } } }));
      }
      res.end('true');
    });
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, requests, stop: () => server.close() };
}

/** The rust-echo binary with a laravel-echo-server.json built from `options`. */
export async function startServer(options = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rust-echo-e2e-'));
  const config = {
    host: '127.0.0.1',
    port,
    authHost: 'http://127.0.0.1:9',
    clients: [{ appId: 'app', key: 'secret' }],
    subscribers: { http: true, redis: false },
    ...options,
  };
  writeFileSync(join(dir, 'laravel-echo-server.json'), JSON.stringify(config, null, '\t'));
  const bin = process.env.RUST_ECHO_BIN ?? join(root, 'target', 'debug', 'rust-echo');
  if (!existsSync(bin)) {
    throw new Error(`the rust-echo binary is not built: ${bin} (cargo build, or set RUST_ECHO_BIN)`);
  }
  const child = spawn(bin, ['start', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  await waitForOutput(child, 'Server ready!', 10000);
  const url = `${config.protocol === 'https' ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    url,
    port,
    child,
    log: () => log,
    api: async (path, init) => {
      const sep = path.includes('?') ? '&' : '?';
      const res = await fetch(`${url}/apps/app${path}${sep}auth_key=secret`, init);
      return { status: res.status, body: await res.json() };
    },
    publish: (body) => fetch(`${url}/apps/app/events?auth_key=secret`, { method: 'POST', body: JSON.stringify(body) }),
    stop: () => new Promise((r) => {
      if (child.exitCode !== null) return r();
      child.on('exit', r);
      child.kill('SIGTERM');
    }),
  };
}

/** A cluster node (`cluster.enabled`) on `redisPort`, resolved once its relay is subscribed. */
export async function startClusterNode(redisPort, options = {}) {
  const node = await startServer({
    databaseConfig: { redis: { host: '127.0.0.1', port: redisPort } },
    cluster: { enabled: true },
    ...options,
  });
  await until(async () => {
    const health = await (await fetch(`${node.url}/health`)).json();
    return health.cluster?.relay_subscribed === true;
  }, 'the relay subscribed');
  return node;
}

/** A laravel-echo client on socket.io-client `version` over `transport`, connected. */
export async function connectEcho(server, version, transport, extra = {}) {
  const echo = new Echo({
    broadcaster: 'socket.io',
    host: server.url,
    client: clients[version],
    transports: [transport],
    reconnection: false,
    ...extra,
  });
  const socket = echo.connector.socket;
  if (!socket.connected) {
    await within(5000, `${version}/${transport} connect`, (done) => socket.on('connect', done));
  }
  return echo;
}

/** Collect events of one kind into an array as they arrive. */
export function collect(register) {
  const got = [];
  register((v) => got.push(v));
  return got;
}

/** Wait until `cond()` (sync or async) holds; fail naming `what` after `ms`. */
export async function until(cond, what, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Wait until the server reports `n` sockets in `channel` through its HTTP API. */
export async function waitSubscribed(server, channel, n) {
  let seen;
  await until(async () => {
    seen = await subscriptionCount(server, channel);
    return seen === n;
  }, `${n} subscribers in ${channel} (last seen ${seen})`);
}

/** Wait until the server holds no channels (every client has gone). */
export async function waitNoChannels(server) {
  await until(async () => Object.keys((await server.api('/channels')).body.channels).length === 0, 'no channels left');
}

/** The subscription count the server reports for `channel` through its HTTP API. */
export async function subscriptionCount(server, channel) {
  return (await server.api(`/channels/${channel}`)).body.subscription_count;
}

/**
 * A server with an auth endpoint for the test file: started before its tests, stopped after.
 * The returned object's `server` and `auth` are set once the `before` hook has run.
 */
export function serverWithAuth(options = {}) {
  const ctx = {};
  before(async () => {
    ctx.auth = await startAuthEndpoint();
    ctx.server = await startServer({ authHost: ctx.auth.url, ...options });
  });
  after(async () => {
    await ctx.server.stop();
    ctx.auth.stop();
  });
  return ctx;
}
