#!/usr/bin/env node
// A real laravel-echo client for the PHP suites: connects to URL with socket.io-client (4 by
// default, `--v2` for 2.x), subscribes to the given public channels, prints "ready" once the
// server has joined them (after a line "socket <id>"), then one JSON line per event received:
// {"channel","event","data"}.
// Exits after --count events, or after --idle ms without one.
//
//   node listen.mjs http://127.0.0.1:6001 news orders --event App\\Events\\Ping --count 100
import { createRequire } from 'node:module';
import Echo from 'laravel-echo';
import { option, flag } from '../lib/argv.mjs';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const opt = (name, dflt) => option(args, name, dflt);
const event = opt('event', 'E');
const count = Number(opt('count', '0'));
const idle = Number(opt('idle', '10000'));
const v2 = flag(args, 'v2');
const key = opt('key', 'secret');
const app = opt('app', 'app');
const [url, ...channels] = args;

const echo = new Echo({
  broadcaster: 'socket.io',
  host: url,
  client: require(v2 ? 'sio2' : 'socket.io-client'),
  transports: ['websocket'],
  reconnection: false,
});
let received = 0;
let timer;
const bump = () => {
  clearTimeout(timer);
  timer = setTimeout(() => finish(), idle);
};
const finish = () => {
  echo.disconnect();
  process.exit(0);
};
for (const channel of channels) {
  echo.channel(channel).listen(`.${event}`, (data) => {
    process.stdout.write(JSON.stringify({ channel, event, data }) + '\n');
    received += 1;
    if (count && received >= count) finish();
    bump();
  });
}
echo.connector.socket.on('connect', async () => {
  // Subscriptions are emitted on connect; wait until the server lists them before "ready".
  for (let i = 0; i < 500; i++) {
    const res = await fetch(`${url}/apps/${app}/channels?auth_key=${key}`).then((r) => r.json()).catch(() => null);
    if (res && channels.every((c) => res.channels?.[c])) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  process.stdout.write(`socket ${echo.socketId()}\nready\n`);
  bump();
});
echo.connector.socket.on('connect_error', (e) => {
  process.stderr.write(`connect_error ${e.message}\n`);
  process.exit(2);
});
