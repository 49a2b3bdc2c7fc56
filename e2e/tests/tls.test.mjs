// `protocol: "https"`: laravel-echo on socket.io-client 4 over wss with a self-signed certificate
// made here, and SIGHUP swapping the certificate while that client stays connected; the Pusher
// protocol over wss on the same listener.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import { createRequire } from 'node:module';
import Echo from 'laravel-echo';
import { clients, startServer, collect, until, within } from '../lib/harness.mjs';

const WebSocket = createRequire(import.meta.url)('ws');

/** A self-signed certificate for 127.0.0.1 with common name `cn`. */
function selfSigned(dir, cn) {
  const cert = join(dir, `${cn}.crt`);
  const key = join(dir, `${cn}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1',
    '-addext', 'basicConstraints=critical,CA:FALSE', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { cert, key, pem: readFileSync(cert) };
}

/** The common name of the certificate the server presents to a new connection trusting `ca`. */
function servedName(port, ca) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca }, () => {
      resolve(s.getPeerCertificate().subject.CN);
      s.end();
    });
    s.on('error', reject);
  });
}

/** POST an event to the HTTP API over TLS. */
function publish(port, ca, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: '/apps/app/events?auth_key=secret', method: 'POST', ca },
      (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** How many sockets the HTTP API reports in `channel`, over TLS. */
function subscribers(port, ca, channel) {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: `/apps/app/channels/${channel}?auth_key=secret`, ca },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(JSON.parse(body).subscription_count));
      },
    );
    req.on('error', reject);
  });
}

test('wss with socket.io-client 4; SIGHUP reloads the certificate without dropping the socket', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rust-echo-tls-'));
  const a = selfSigned(dir, 'cert-a');
  const b = selfSigned(dir, 'cert-b');
  const served = { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  copyFileSync(a.cert, served.cert);
  copyFileSync(a.key, served.key);
  const server = await startServer({
    protocol: 'https',
    sslCertPath: served.cert,
    sslKeyPath: served.key,
    metrics: { enabled: false },
  });
  try {
    assert.equal(await servedName(server.port, a.pem), 'cert-a');
    const echo = new Echo({
      broadcaster: 'socket.io', host: server.url, client: clients.v4,
      transports: ['websocket'], reconnection: false, ca: a.pem,
    });
    const socket = echo.connector.socket;
    await within(5000, 'wss connect', (done) => socket.on('connect', done));
    const disconnects = collect((push) => socket.on('disconnect', push));
    const got = collect((push) => echo.channel('news').listen('.Posted', push));
    await until(async () => (await subscribers(server.port, a.pem, 'news')) === 1, 'the subscription to news');
    assert.equal(await publish(server.port, a.pem, { channel: 'news', name: 'Posted', data: { n: 1 } }), 200);
    await until(() => got.length === 1, 'event over wss');

    copyFileSync(b.cert, served.cert);
    copyFileSync(b.key, served.key);
    process.kill(server.child.pid, 'SIGHUP');
    await until(
      async () => (await servedName(server.port, b.pem).catch(() => undefined)) === 'cert-b',
      'the new certificate to be served',
    );
    await assert.rejects(servedName(server.port, a.pem), 'the old certificate is no longer served');

    // The socket opened with the old certificate is still there and still receives.
    assert.equal(socket.connected, true);
    assert.equal(await publish(server.port, b.pem, { channel: 'news', name: 'Posted', data: { n: 2 } }), 200);
    await until(() => got.length === 2, 'event after reload');
    assert.deepEqual(got, [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(disconnects, []);
    echo.disconnect();
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the Pusher protocol over wss on the same TLS listener', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rust-echo-tls-'));
  const a = selfSigned(dir, 'cert-a');
  const server = await startServer({
    protocol: 'https',
    sslCertPath: a.cert,
    sslKeyPath: a.key,
    metrics: { enabled: false },
    apps: [{ id: 'tls-id', key: 'tls-key', secret: 'tls-secret' }],
  });
  try {
    const ws = new WebSocket(`wss://127.0.0.1:${server.port}/app/tls-key?protocol=7`, { ca: a.pem });
    const frames = collect((push) => ws.on('message', (d) => push(JSON.parse(d.toString()))));
    await until(() => frames.length === 1, 'connection_established over wss');
    assert.equal(frames[0].event, 'pusher:connection_established');
    ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'news' } }));
    await until(() => frames.length === 2, 'subscription_succeeded');
    assert.deepEqual(frames[1], { event: 'pusher_internal:subscription_succeeded', data: '{}', channel: 'news' });
    assert.equal(await publish(server.port, a.pem, { channel: 'news', name: 'Posted', data: { n: 1 } }), 200);
    await until(() => frames.length === 3, 'the event over wss');
    assert.deepEqual(frames[2], { event: 'Posted', data: '{"n":1}', channel: 'news' });
    ws.close();
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
