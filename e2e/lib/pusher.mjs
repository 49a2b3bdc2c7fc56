// laravel-echo with the `reverb` and `pusher` broadcasters (pusher-js) against rust-echo: the
// Pusher app the suites configure, channel authorizations signed as Laravel's Pusher and Reverb
// broadcasters sign them, and pusher-js clients connected to the server's /app/{key}.
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import Echo from 'laravel-echo';
import { within } from './harness.mjs';

const require = createRequire(import.meta.url);
export const Pusher = require('pusher-js');

export const app = { id: 'e2e-app', key: 'e2e-key', secret: 'e2e-secret' };

/** A shared secret for `private-encrypted-` channels (32 bytes, base64). */
export const sharedSecret = Buffer.alloc(32, 7).toString('base64');

/** What Laravel's `/broadcasting/auth` answers for `user` (none: private channels only). */
export function authorize(socketId, channel, user) {
  const sign = (text) => `${app.key}:${createHmac('sha256', app.secret).update(text).digest('hex')}`;
  if (channel.startsWith('presence-')) {
    const channelData = JSON.stringify({ user_id: user, user_info: { id: user, name: `User ${user}` } });
    return { auth: sign(`${socketId}:${channel}:${channelData}`), channel_data: channelData };
  }
  const answer = { auth: sign(`${socketId}:${channel}`) };
  if (channel.startsWith('private-encrypted-')) answer.shared_secret = sharedSecret;
  return answer;
}

/** A laravel-echo client on `broadcaster` (`reverb` or `pusher`), connected, signed in as `user`. */
export async function connectPusherEcho(server, broadcaster, { user = 1, key = app.key } = {}) {
  const echo = new Echo({
    broadcaster,
    key,
    Pusher,
    cluster: 'mt1',
    wsHost: '127.0.0.1',
    wsPort: server.port,
    wssPort: server.port,
    forceTLS: false,
    enabledTransports: ['ws'],
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => callback(null, authorize(socketId, channelName, user)),
    },
  });
  const connection = echo.connector.pusher.connection;
  await within(5000, `${broadcaster} connect`, (done) => {
    if (connection.state === 'connected') done();
    connection.bind('connected', done);
  });
  return echo;
}

/** Resolve once `channel` of `echo` is subscribed. */
export function subscribed(echo, channel) {
  return within(5000, `subscribed to ${channel}`, (done) => {
    echo.connector.pusher.channel(channel)?.subscribed ? done() : echo.connector.pusher.channel(channel).bind('pusher:subscription_succeeded', done);
  });
}
