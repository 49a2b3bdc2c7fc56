#!/usr/bin/env node
// A real laravel-echo client (socket.io-client 4) for the Laravel 11 suite: joins public,
// private and presence channels with a user header that the app's /broadcasting/auth reads,
// prints "socket <id>" and "ready" once every channel is joined or refused, then one JSON line
// per thing it sees:
//   {"channel","event","data"}                       an event named --event
//   {"channel","presence":"here|joining|leaving","data"}   presence membership
//   {"channel","error":<HTTP status>}                a refused subscription
// Exits after --idle ms without a line.
//
//   node echo-client.mjs http://127.0.0.1:6001 news private:orders.1 presence:chat --user 1 --event ping
import { createRequire } from 'node:module';
import Echo from 'laravel-echo';
import { option } from '../lib/argv.mjs';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const opt = (name, dflt) => option(args, name, dflt);
const event = opt('event', 'E');
const user = opt('user', '');
const idle = Number(opt('idle', '60000'));
const key = opt('key', 'secret');
const app = opt('app', 'app');
const [url, ...specs] = args;

const echo = new Echo({
  broadcaster: 'socket.io',
  host: url,
  client: require('socket.io-client'),
  transports: ['websocket'],
  reconnection: false,
  auth: { headers: user ? { 'X-Test-User': user } : {} },
});
let timer;
const print = (line) => {
  process.stdout.write(JSON.stringify(line) + '\n');
  clearTimeout(timer);
  timer = setTimeout(() => {
    echo.disconnect();
    process.exit(0);
  }, idle);
};

const names = [];
const refused = new Set();
for (const spec of specs) {
  const [kind, name] = spec.includes(':') ? spec.split(':', 2) : ['public', spec];
  const full = kind === 'public' ? name : `${kind}-${name}`;
  names.push(full);
  let channel;
  if (kind === 'presence') {
    channel = echo
      .join(name)
      .here((users) => print({ channel: full, presence: 'here', data: users }))
      .joining((u) => print({ channel: full, presence: 'joining', data: u }))
      .leaving((u) => print({ channel: full, presence: 'leaving', data: u }));
  } else {
    channel = kind === 'private' ? echo.private(name) : echo.channel(name);
  }
  channel.listen(`.${event}`, (data) => print({ channel: full, event, data }));
}
echo.connector.socket.on('subscription_error', (channel, status) => {
  refused.add(channel);
  print({ channel, error: status });
});
echo.connector.socket.on('connect', async () => {
  // Wait until the server lists every channel that was not refused.
  for (let i = 0; i < 1000; i++) {
    const res = await fetch(`${url}/apps/${app}/channels?auth_key=${key}`).then((r) => r.json()).catch(() => null);
    if (res && names.every((c) => refused.has(c) || res.channels?.[c])) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  process.stdout.write(`socket ${echo.socketId()}\nready\n`);
});
echo.connector.socket.on('connect_error', (e) => {
  process.stderr.write(`connect_error ${e.message}\n`);
  process.exit(2);
});
