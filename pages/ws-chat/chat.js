// The chat page's script (lesson 05, "The browser page"; lessons/05-ws-chat.md). echo.js
// (lesson 04) showed the browser's WebSocket; this page speaks the chat's JSON protocol
// (src/ws/chat-protocol.ts) over one, and lives through what networks do: when the
// connection drops it reconnects by itself, joins again as the same user in the same room,
// and then sends what was typed in the meantime.
//
// Every text from the network (names, messages, notices, errors) goes into the page with
// textContent, never as HTML: a message such as <img src=x onerror=alert(1)> shows as those
// characters. The Content-Security-Policy the page is served with forbids inline scripts and
// styles, so there is no onclick="" or style="" either: listeners are added here, and the
// looks are in style.css.
//
// Leaves out: resending a message that was sent but not confirmed when the connection
// dropped. The server might have received it, and it cannot tell a resend from a repeat, so
// the page marks it "not confirmed" and lets the person decide.
'use strict';

const path = document.querySelector('meta[name="netlab-ws-path"]').content;
// The server that served this page: ws:// for http://, wss:// for https://.
const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;

/** Messages typed while disconnected that are kept, to be sent after rejoining. */
const MAX_QUEUED_MESSAGES = 100;
/** The first reconnect waits a random 0 to 1 s; each later one about twice as long, up to 30 s. */
const FIRST_RECONNECT_MS = 1000;
const MAX_RECONNECT_MS = 30_000;
/**
 * A server that accepts the TCP connection but never answers the handshake would leave the
 * page "connecting" for as long as the browser cares to wait; after this long it tries again.
 */
const CONNECT_TIMEOUT_MS = 10_000;
/** How many shown messages are remembered, so the history sent after a rejoin adds only new ones. */
const MAX_REMEMBERED_LINES = 200;

// sessionStorage belongs to one tab and survives its reload: the name and room to rejoin.
// localStorage is shared by every tab of this origin: a second tab finds the token the first
// one was given, and joins as the same user.
const SESSION_KEY = 'netlab.ws-chat.session';
const tokenKey = (name) => `netlab.ws-chat.token.${nameKey(name)}`;

const statusLine = document.getElementById('status');
const connectNow = document.getElementById('connect-now');
const joinForm = document.getElementById('join-form');
const nameInput = document.getElementById('name');
const roomInput = document.getElementById('room');
const joinButton = document.getElementById('join');
const leaveButton = document.getElementById('leave');
const identity = document.getElementById('identity');
const messages = document.getElementById('messages');
const usersTitle = document.getElementById('users-title');
const usersList = document.getElementById('users');
const sendForm = document.getElementById('send-form');
const input = document.getElementById('message');
const sendButton = document.getElementById('send');
const queueNote = document.getElementById('queue-note');
document.getElementById('url').textContent = url;

let socket = null; // the WebSocket of this attempt; null between attempts
let attempt = 0; // reconnect attempts since the last successful join
let reconnectTimer;
let connectTimer;
let leaving = false; // the person pressed Leave: that close is not a drop
let session = null; // { name, room }: who we are in the chat, kept while reconnecting
let joining = null; // { name, room }: a join sent (or to send once open), not yet answered
let joined = false; // the server said "joined" on this connection
let users = [];
let nextId = 1;
const queue = []; // { message, item, preview }: typed while not joined, sent after joining
const unconfirmed = new Map(); // id → { item, preview }: sent; the server's copy has not come back
const shownLines = new Set();

/**
 * How long to wait before reconnect attempt `n` (1, 2, 3…), in whole ms: the schedule of the
 * CLI client (src/ws/backoff.ts). The first waits a random 0 to 1 s; attempt n a random half
 * to all of its ceiling, 1 s × 2^(n-1) capped at 30 s (1–2 s, 2–4 s, 4–8 s…). When a server
 * restarts, every page in the class lost it at the same moment: without the randomness they
 * would all knock at once, and again at each retry.
 */
function reconnectDelayMs(n, random = Math.random) {
  if (n <= 1) return Math.floor(random() * FIRST_RECONNECT_MS);
  const ceilingMs = Math.min(MAX_RECONNECT_MS, FIRST_RECONNECT_MS * 2 ** Math.min(n - 1, 40));
  return Math.floor(ceilingMs / 2 + (random() * ceilingMs) / 2);
}

// ---- The connection ----

function connect() {
  clearTimeout(reconnectTimer);
  leaving = false;
  setStatus('connecting', attempt > 0 ? `connecting… (attempt ${attempt})` : 'connecting…');
  const ws = new WebSocket(url);
  socket = ws;
  let opened = false;
  // close() on a socket that is still connecting fails it: the close listener then retries.
  connectTimer = setTimeout(() => ws.close(), CONNECT_TIMEOUT_MS);

  ws.addEventListener('open', () => {
    clearTimeout(connectTimer);
    opened = true;
    setStatus('connected', 'connected');
    const next = joining ?? session;
    if (next) sendJoin(next.name, next.room);
    else attempt = 0; // nothing to rejoin: being connected is the success
    updateControls();
  });

  ws.addEventListener('message', (event) => {
    // The chat speaks JSON in text messages; it never sends binary ones.
    if (typeof event.data !== 'string') return append('error', 'error: the server sent a binary message');
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return append('error', `error: the server sent something that is not JSON: ${event.data}`);
    }
    if (typeof message === 'object' && message !== null) receive(message);
  });

  // A close always follows an error, with the code that says what happened.
  ws.addEventListener('close', (event) => {
    clearTimeout(connectTimer);
    socket = null;
    joined = false;
    if (opened) append('notice', `connection closed: ${event.code}${event.reason ? ` "${event.reason}"` : ''}`);
    for (const [id, { item, preview }] of unconfirmed) {
      setLine(item, 'failed', `${preview} (not confirmed: the connection dropped)`);
      unconfirmed.delete(id);
    }
    usersList.classList.add('stale');
    if (leaving) {
      setStatus('disconnected', 'disconnected');
      if (joining) connect(); // Join was pressed while the old connection was closing
    } else {
      scheduleReconnect();
    }
    updateControls();
  });
}

function scheduleReconnect() {
  attempt++;
  const delayMs = reconnectDelayMs(attempt);
  setStatus('reconnecting', `reconnecting in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt})`);
  reconnectTimer = setTimeout(connect, delayMs);
}

/** Sends one message if the socket is open; send() on a socket still connecting would throw. */
function sendNow(message) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(message));
  return true;
}

function sendJoin(name, room) {
  joining = { name, room };
  // No name: the server gives a guest name, and a token for it like any other.
  const token = name ? readStored('localStorage', tokenKey(name)) : undefined;
  sendNow({ type: 'join', room, ...(name ? { name } : {}), ...(token ? { token } : {}) });
}

// ---- What the server sends ----

function receive(message) {
  switch (message.type) {
    case 'joined':
      return onJoined(message);
    case 'history':
      return onHistory(message);
    case 'users':
      users = Array.isArray(message.users) ? message.users : [];
      return renderUsers();
    case 'message':
      return showLine(message, 'message');
    case 'private':
      return showLine(message, 'private');
    case 'notice':
      append('notice', message.text);
      if (message.presence) onPresence(message.presence);
      return;
    case 'error':
      return onError(message);
    // Any other type is from a newer server: ignored, as the server ignores fields it does not know.
  }
}

function onJoined({ name, room, token }) {
  const sameRoom = session !== null && roomKey(session.room) === roomKey(room);
  if (!sameRoom) shownLines.clear();
  append('notice', sameRoom ? `rejoined ${room} as ${name}` : `you are ${name} in ${room}`);
  writeStored('localStorage', tokenKey(name), token);
  session = { name, room };
  writeStored('sessionStorage', SESSION_KEY, JSON.stringify(session));
  joining = null;
  joined = true;
  attempt = 0;
  updateControls();
  for (const { message, item, preview } of queue.splice(0)) send(message, preview, item);
  showQueue();
}

function onHistory({ room, messages: lines }) {
  const fresh = lines.filter((line) => !shownLines.has(lineKey(line)));
  if (fresh.length === 0) return;
  append('notice', `earlier in ${room}:`);
  for (const line of fresh) showLine(line, 'history');
}

/** A chat message or a private one; the sender's own copy carries the id it was sent with. */
function showLine(line, kind) {
  const own = line.id !== undefined ? unconfirmed.get(line.id) : undefined;
  if (own) unconfirmed.delete(line.id);
  let text;
  if (line.type === 'private') text = `(private) ${line.from} → ${line.to}: ${line.text}`;
  else if (line.action) text = `* ${line.from} ${line.text}`;
  else text = `${line.from}: ${line.text}`;
  if (line.type === 'message') remember(lineKey(line));
  const item = own ? setLine(own.item, kind, text) : append(kind, text);
  if (line.type === 'private') item.classList.add('private');
  item.title = new Date(line.time).toLocaleString();
}

function onPresence({ event, name, old }) {
  if (event === 'join') users = [...users.filter((u) => nameKey(u) !== nameKey(name)), name];
  if (event === 'leave') users = users.filter((u) => nameKey(u) !== nameKey(name));
  if (event === 'rename') {
    users = users.map((u) => (nameKey(u) === nameKey(old) ? name : u));
    if (session && nameKey(session.name) === nameKey(old)) {
      // We were renamed (here, or in another tab): the token now goes with the new name.
      const token = readStored('localStorage', tokenKey(old));
      if (token) {
        writeStored('localStorage', tokenKey(old), undefined);
        writeStored('localStorage', tokenKey(name), token);
      }
      session = { ...session, name };
      writeStored('sessionStorage', SESSION_KEY, JSON.stringify(session));
      updateControls();
    }
  }
  users.sort((a, b) => a.localeCompare(b));
  renderUsers();
}

function onError(error) {
  const refused = error.id !== undefined ? unconfirmed.get(error.id) : undefined;
  if (refused) {
    unconfirmed.delete(error.id);
    setLine(refused.item, 'failed', `${refused.preview} (not sent)`);
  }
  append('error', `error: ${error.text}`).dataset.code = error.code;
  // A join is answered by "joined" or by an error about its name, room or token.
  const aboutJoin = error.code === 'too-many-rooms' || ['name', 'room', 'token'].includes(error.field);
  if (joining && error.id === undefined && aboutJoin) {
    joining = null;
    if (joined) roomInput.value = session.room; // a refused room switch: still where we were
    else {
      // Refused a first join, or a rejoin after reconnecting: we are in no room at all.
      session = null;
      writeStored('sessionStorage', SESSION_KEY, undefined);
      dropQueue('not sent: the join was refused');
    }
    updateControls();
  }
}

// ---- What the person does ----

joinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const room = roomInput.value.trim() || 'lobby';
  if (session) return switchRoom(room); // the name is fixed while in the chat: /nick changes it
  joining = { name: nameInput.value.trim(), room };
  if (!socket) connect(); // after Leave, or between attempts: the open listener sends the join
  else if (socket.readyState === WebSocket.OPEN) sendJoin(joining.name, joining.room);
  updateControls();
});

leaveButton.addEventListener('click', () => {
  // There is no "leave" message in the protocol: leaving the chat is closing the connection.
  leaving = true;
  session = null;
  joining = null;
  writeStored('sessionStorage', SESSION_KEY, undefined);
  dropQueue('not sent: you left');
  clearTimeout(reconnectTimer);
  if (socket) socket.close(1000, 'left');
  else setStatus('disconnected', 'disconnected');
  users = [];
  renderUsers();
  updateControls();
});

connectNow.addEventListener('click', connect);

sendForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value;
  if (text.trim() === '' || !session) return;
  if (runInput(text)) input.value = '';
  input.focus();
});

/** One line typed in the message box: a chat message or a /command. True when it was used. */
function runInput(text) {
  const me = session.name;
  if (!text.startsWith('/')) return send({ type: 'message', text }, `${me}: ${text}`);
  const [, command, rest] = /^\/(\S*)\s*([\s\S]*)$/.exec(text);
  switch (command) {
    case 'me':
      return send({ type: 'message', text: rest, action: true }, `* ${me} ${rest}`);
    case 'msg': {
      const parts = /^(\S+)\s+([\s\S]+)$/.exec(rest);
      if (!parts) return usage('/msg NAME text');
      return send({ type: 'private', to: parts[1], text: parts[2] }, `(private) ${me} → ${parts[1]}: ${parts[2]}`);
    }
    case 'join':
      return rest ? switchRoom(rest.trim()) : usage('/join ROOM');
    case 'nick':
      if (!rest) return usage('/nick NAME');
      if (!joined) return usage('/nick NAME, once connected again (a rename is not queued)');
      return sendNow({ type: 'rename', name: rest.trim() });
    default:
      append('error', `error: unknown command /${command}; the commands are /me, /msg, /join, /nick`);
      return false;
  }
}

function usage(how) {
  append('error', `usage: ${how}`);
  return false;
}

/**
 * Sends a chat or private message with an id, shown as "sending…" until the server's copy
 * with that id comes back. While not joined it waits in the queue instead.
 */
function send(message, preview, item) {
  const withId = message.id ? message : { ...message, id: String(nextId++) };
  if (joined && sendNow(withId)) {
    unconfirmed.set(withId.id, { item: setLine(item ?? append('pending', ''), 'pending', `${preview} (sending…)`), preview });
    return true;
  }
  if (queue.length >= MAX_QUEUED_MESSAGES) {
    append('error', `error: ${MAX_QUEUED_MESSAGES} messages are waiting already; this one was not kept`);
    return false;
  }
  const text = `${preview} (queued: sent after reconnecting)`;
  queue.push({ message: withId, preview, item: item ? setLine(item, 'queued', text) : append('queued', text) });
  showQueue();
  return true;
}

function switchRoom(room) {
  roomInput.value = room;
  if (joined) sendJoin(session.name, room);
  else {
    // Disconnected: the rejoin will go to the new room.
    session = { ...session, room };
    writeStored('sessionStorage', SESSION_KEY, JSON.stringify(session));
    append('notice', `you will join ${room} once connected again`);
  }
  updateControls();
  return true;
}

function dropQueue(why) {
  for (const { item, preview } of queue.splice(0)) setLine(item, 'failed', `${preview} (${why})`);
  showQueue();
}

// ---- The page ----

function setStatus(state, text) {
  statusLine.dataset.state = state;
  statusLine.textContent = text;
  connectNow.hidden = state !== 'reconnecting';
}

/** Enables what can be used now. The message box stays usable while reconnecting: it queues. */
function updateControls() {
  const inChat = session !== null;
  input.disabled = !inChat;
  sendButton.disabled = !inChat;
  nameInput.readOnly = inChat;
  leaveButton.hidden = !inChat;
  joinButton.textContent = inChat ? 'Change room' : 'Join';
  if (joined) identity.textContent = `you are ${session.name} in ${session.room}`;
  else if (session) identity.textContent = `rejoining ${session.room} as ${session.name}…`;
  else identity.textContent = joining ? 'joining…' : 'not joined';
  identity.dataset.joined = joined ? 'yes' : 'no';
  if (joined) usersList.classList.remove('stale');
}

function renderUsers() {
  usersTitle.textContent = session ? `In ${session.room} (${users.length})` : 'In the room';
  usersList.replaceChildren(
    ...users.map((name) => {
      const item = document.createElement('li');
      item.dataset.name = name;
      const button = document.createElement('button');
      button.type = 'button';
      if (session && nameKey(name) === nameKey(session.name)) {
        button.textContent = `${name} (you)`;
        button.disabled = true;
      } else {
        // A click starts a private message; the person types the rest.
        button.textContent = name;
        button.addEventListener('click', () => {
          input.value = `/msg ${name} `;
          input.focus();
        });
      }
      item.append(button);
      return item;
    }),
  );
}

function showQueue() {
  queueNote.hidden = queue.length === 0;
  queueNote.textContent = `${queue.length} ${queue.length === 1 ? 'message' : 'messages'} queued: sent after reconnecting`;
}

function append(kind, text) {
  const item = document.createElement('li');
  messages.append(item);
  return setLine(item, kind, text);
}

function setLine(item, kind, text) {
  item.className = kind;
  item.textContent = text;
  item.scrollIntoView({ block: 'nearest' });
  return item;
}

/** A message the same after a rejoin: same time, sender and text. */
function lineKey(line) {
  return JSON.stringify([line.time, line.from, line.text]);
}

function remember(key) {
  shownLines.add(key);
  // A Set keeps insertion order: the first key is the oldest.
  if (shownLines.size > MAX_REMEMBERED_LINES) shownLines.delete(shownLines.values().next().value);
}

/** As the server compares names and rooms: "Alice" and "alice" are the same. */
function nameKey(name) {
  return name.toLocaleLowerCase('en-US');
}
const roomKey = nameKey;

// Storage can be switched off, or full: then the page still works, it only forgets.
function readStored(area, key) {
  try {
    return window[area].getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

function writeStored(area, key, value) {
  try {
    if (value === undefined) window[area].removeItem(key);
    else window[area].setItem(key, value);
  } catch {
    // Nothing to do: see readStored.
  }
}

// A reload of this tab rejoins where it was; a new tab starts at the form.
const saved = (() => {
  try {
    const value = JSON.parse(readStored('sessionStorage', SESSION_KEY) ?? 'null');
    return typeof value?.name === 'string' && typeof value?.room === 'string' ? value : null;
  } catch {
    return null;
  }
})();
if (saved) {
  nameInput.value = saved.name;
  roomInput.value = saved.room;
  joining = saved;
}
updateControls();
connect();
