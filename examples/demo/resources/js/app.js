// The chat page: a live message feed (public channel `chat`), who is online (presence channel
// `chat`), a typing indicator (whispers) and private notifications (`App.Models.User.{id}`).
import Echo from 'laravel-echo';
import { io } from 'socket.io-client';

const { user, echoHost } = window.demo;
const $ = (id) => document.getElementById(id);
const add = (list, text, attrs = {}) => {
  const li = document.createElement('li');
  li.textContent = text;
  Object.assign(li.dataset, attrs);
  $(list).append(li);
  return li;
};

const echo = new Echo({ broadcaster: 'socket.io', host: echoHost, client: io, transports: ['websocket', 'polling'] });
window.Echo = echo;

const socket = echo.connector.socket;
socket.on('connect', () => {
  $('status').textContent = 'connected';
  $('status').className = 'on';
  document.body.dataset.connected = 'true';
});
socket.on('disconnect', () => {
  $('status').textContent = 'disconnected';
  $('status').className = 'off';
});
socket.on('subscription_error', (channel, status) => add('notifications', `could not join ${channel} (${status})`));

// Who is online.
const online = new Map();
const renderOnline = () => {
  $('online').replaceChildren();
  for (const u of online.values()) add('online', u.name, { user: u.id });
};
let typingTimer;
echo.join('chat')
  .here((users) => {
    online.clear();
    users.forEach((u) => online.set(u.id, u));
    renderOnline();
  })
  .joining((u) => {
    online.set(u.id, u);
    renderOnline();
    add('presence-log', `${u.name} joined`);
  })
  .leaving((u) => {
    online.delete(u.id);
    renderOnline();
    add('presence-log', `${u.name} left`);
  })
  .listenForWhisper('typing', (e) => {
    $('typing').textContent = `${e.name} is typing…`;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => ($('typing').textContent = ''), 2000);
  });

// The message feed.
echo.channel('chat').listen('.MessagePosted', (e) => {
  add('messages', `${e.user}: ${e.text}`, { user: e.user });
  if (e.user !== user.id) $('typing').textContent = '';
});

// Private notifications.
echo.private(`App.Models.User.${user.id}`).listen('.Poked', (e) => add('notifications', `${e.from} poked you`));

let lastWhisper = 0;
$('text').addEventListener('input', () => {
  if (Date.now() - lastWhisper > 1000) {
    lastWhisper = Date.now();
    echo.join('chat').whisper('typing', { name: user.name });
  }
});
$('send').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = $('text').value.trim();
  if (!text) return;
  $('text').value = '';
  await fetch('/messages', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text }) });
});
$('poke').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  await fetch(`/poke/${encodeURIComponent($('poke-name').value.trim())}`, { method: 'POST' });
  $('poke-name').value = '';
});
