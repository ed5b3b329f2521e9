// The comparison page's script (lesson 06, "Push vs pull"). The server that served this page
// (src/push-pull/push-pull-server.ts) publishes one event feed four ways; this page takes it
// all four ways at once and shows, side by side, what each costs:
//
//   short polling   fetch('/poll?after=ID') every N ms: answered at once, often with nothing
//   long polling    fetch('/long-poll?after=ID'), sent again as soon as it is answered: the
//                   server holds it until there is an event (or about 25 s have passed)
//   SSE             new EventSource('/events'): one response that never ends; the browser
//                   reconnects by itself and says where it was (the Last-Event-ID header)
//   WebSocket       new WebSocket('/ws?after=ID'): one message per event; this page
//                   reconnects 1 s after it closes, asking for what came after its last id
//
// Every event is {"id", "time", "source", "text"}. Each panel keeps the id of the last event it
// got, which is how a pull asks "what is new?" and how a push catches up after a reconnect.
//
// The text of an event is typed by an instructor, so it is put in the page with textContent,
// never as HTML: <img src=x onerror=alert(1)> must show as those characters.
//
// Leaves out: what a page cannot see. Request and response headers, SSE field names and
// WebSocket frame headers cost bytes too; the developer tools' Network tab shows them.
'use strict';

/** The newest events each panel shows; older ones leave the page (the server keeps more). */
const MAX_SHOWN_EVENTS = 50;
/** Short polling interval: ?poll=N in this page's address, within these bounds. */
const DEFAULT_POLL_MS = 1000;
const MIN_POLL_MS = 100;
const MAX_POLL_MS = 60_000;
/** After a long poll that failed (no server, or a 503), wait this long before the next. */
const LONG_POLL_RETRY_MS = 1000;
/** A closed WebSocket is opened again after this long. */
const WS_RECONNECT_MS = 1000;
/**
 * EventSource reconnects by itself after a dropped stream, but gives up for good on an answer
 * that is not a 200 text/event-stream (a 503 from a full or stopping server). The page then
 * makes a new EventSource after this long.
 */
const SSE_RENEW_MS = 5000;

const pollMs = pollIntervalMs(new URLSearchParams(location.search).get('poll'));
const wsPath = document.querySelector('meta[name="netlab-ws-path"]').content;
// The server that served this page: ws:// for http://, wss:// for https://.
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${wsPath}`;
document.getElementById('poll-ms').textContent = String(pollMs);
document.getElementById('ws-path').textContent = wsPath;

const encoder = new TextEncoder();
/** Bytes of `text` in UTF-8, as it travelled: "é" is 2 bytes, "☕" 3. */
const utf8Bytes = (text) => encoder.encode(text).length;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** ?poll=N: a whole number of ms, clamped to MIN_POLL_MS…MAX_POLL_MS; the default if absent or not a number. */
function pollIntervalMs(value) {
  const ms = Number.parseInt(value ?? '', 10);
  if (!Number.isFinite(ms)) return DEFAULT_POLL_MS;
  return Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, ms));
}

// ---- A panel: what every transport shows ----

/** The panel #panel-<name>: its counters, its list, and the id of the last event it got. */
function panel(name) {
  const root = document.getElementById(`panel-${name}`);
  return {
    root,
    state: root.querySelector('.state'),
    list: root.querySelector('.events'),
    counter: (key) => root.querySelector(`[data-counter="${key}"]`),
    counts: { requests: 0, bytes: 0, events: 0 },
    lastId: 0,
  };
}

const panels = { poll: panel('poll'), longPoll: panel('long-poll'), sse: panel('sse'), ws: panel('ws') };

/** `name` (connecting, open, error, closed) for tests and colours; `text` for people. */
function setState(p, name, text) {
  p.root.dataset.state = name;
  p.state.textContent = text;
}

function count(p, key, amount) {
  p.counts[key] += amount;
  p.counter(key).textContent = String(p.counts[key]);
}

/** One event, newest first. A text that is not an event (a newer server?) is noted, not shown. */
function receive(p, event) {
  const valid =
    typeof event === 'object' && event !== null && Number.isSafeInteger(event.id) &&
    typeof event.time === 'number' && typeof event.source === 'string' && typeof event.text === 'string';
  if (!valid) return notice(p, 'ignored something that is not an event');
  // Ids only grow within a run of the server. A smaller one: the server was started again with
  // a new feed, whose ids start again at 1 (it sends what it keeps to a client "from the future").
  if (event.id <= p.lastId) notice(p, `ids start again at ${event.id}: the server was restarted`);
  p.lastId = event.id;
  count(p, 'events', 1);
  // The server's clock when it published, against this page's clock now.
  const delayMs = Date.now() - event.time;
  p.counter('delay').textContent = String(delayMs);

  const item = document.createElement('li');
  item.dataset.id = String(event.id);
  item.dataset.source = event.source;
  item.title = `published ${new Date(event.time).toLocaleTimeString()}, arrived ${delayMs} ms later`;
  item.append(part('id', `#${event.id}`), ' ', part('source', event.source), ' ', part('text', event.text), ' ', part('delay', `+${delayMs} ms`));
  show(p, item);
}

/** The server no longer keeps `missed` events this panel has not seen: they are lost to it. */
function missed(p, missedCount) {
  if (Number.isSafeInteger(missedCount) && missedCount > 0) notice(p, `missed ${missedCount} events: older than the server keeps`);
}

function notice(p, text) {
  const item = document.createElement('li');
  item.className = 'notice';
  item.textContent = text;
  show(p, item);
}

function part(className, text) {
  const span = document.createElement('span');
  span.className = className;
  span.textContent = text;
  return span;
}

function show(p, item) {
  p.list.prepend(item);
  while (p.list.children.length > MAX_SHOWN_EVENTS) p.list.lastElementChild.remove();
}

/** JSON text to a value; undefined (and a notice) if it is not JSON. */
function parse(p, text) {
  try {
    return JSON.parse(text);
  } catch {
    notice(p, 'ignored an answer that is not JSON');
    return undefined;
  }
}

// ---- Pull: short polling and long polling ----

/**
 * One poll: GET path?after=<last id>, then the events of the answer, oldest first. Resolves
 * true when it was answered with 200, false otherwise (no server, or a refusal such as 503);
 * never rejects. Both polls answer {"latest": N, "missed": M, "events": [...]}.
 */
async function pollOnce(p, path) {
  count(p, 'requests', 1);
  let response;
  let body;
  try {
    response = await fetch(`${path}?after=${p.lastId}`, { cache: 'no-store' });
    body = await response.text();
  } catch (err) {
    setState(p, 'error', `no answer: ${err.message}`);
    return false;
  }
  count(p, 'bytes', utf8Bytes(body));
  if (!response.ok) {
    setState(p, 'error', `${response.status}: ${body.trim()}`);
    return false;
  }
  const answer = parse(p, body);
  if (answer === undefined) return false;
  missed(p, answer.missed);
  for (const event of Array.isArray(answer.events) ? answer.events : []) receive(p, event);
  return true;
}

/** Asks every pollMs, whether or not anything happened: most answers are empty. */
async function shortPoll() {
  const p = panels.poll;
  for (;;) {
    // The next poll goes out pollMs after this one went out, or when it is answered if that
    // takes longer: never two at once.
    const interval = sleep(pollMs);
    if (await pollOnce(p, '/poll')) setState(p, 'open', 'last poll answered');
    await interval;
  }
}

/** Asks again as soon as each answer comes: the server answers only when there is news. */
async function longPoll() {
  const p = panels.longPoll;
  for (;;) {
    // The page cannot tell a request the server holds from one still on its way: it is "open"
    // from the moment it is sent until it fails.
    setState(p, 'open', 'request out, held until an event');
    if (!(await pollOnce(p, '/long-poll'))) {
      p.state.textContent += `; again in ${LONG_POLL_RETRY_MS / 1000} s`;
      await sleep(LONG_POLL_RETRY_MS);
    }
  }
}

// ---- Push: Server-Sent Events and WebSocket ----

const READY_STATES = ['connecting', 'open', 'closed'];

/**
 * An EventSource on /events. Its readyState is shown as it is: 0 CONNECTING (also while it
 * reconnects by itself), 1 OPEN, 2 CLOSED (it gave up). The browser makes every request
 * itself; the page counts one when it creates the EventSource and one per error that the
 * browser answers by trying again ("reestablish the connection", HTML standard, section 9.2).
 */
function openSse() {
  const p = panels.sse;
  count(p, 'requests', 1);
  // A new EventSource knows no Last-Event-ID: ?after= tells the server where this page was.
  const source = new EventSource(p.lastId > 0 ? `/events?after=${p.lastId}` : '/events');
  const showReadyState = (extra = '') => {
    const name = READY_STATES[source.readyState];
    setState(p, name, `readyState ${source.readyState} (${name.toUpperCase()})${extra}`);
  };
  showReadyState();
  source.addEventListener('open', () => showReadyState());
  // The server names each event by its source (`event: tick`): a named event goes only to
  // listeners of that name, never to 'message'.
  const onEvent = (message) => {
    count(p, 'bytes', utf8Bytes(message.data));
    const event = parse(p, message.data);
    if (event !== undefined) receive(p, event);
  };
  source.addEventListener('tick', onEvent);
  source.addEventListener('instructor', onEvent);
  source.addEventListener('missed', (message) => {
    count(p, 'bytes', utf8Bytes(message.data));
    missed(p, parse(p, message.data)?.missed);
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CONNECTING) {
      count(p, 'requests', 1); // the browser tries again after the server's `retry:` time
      showReadyState(': reconnecting');
    } else {
      source.close();
      showReadyState(`: it gave up; a new one in ${SSE_RENEW_MS / 1000} s`);
      setTimeout(openSse, SSE_RENEW_MS);
    }
  });
}

/** A WebSocket to this page's server, opened again WS_RECONNECT_MS after every close. */
function openWs() {
  const p = panels.ws;
  count(p, 'requests', 1); // the HTTP request that asks to upgrade
  setState(p, 'connecting', 'connecting…');
  const socket = new WebSocket(`${wsUrl}?after=${p.lastId}`);
  socket.addEventListener('open', () => setState(p, 'open', 'open'));
  socket.addEventListener('message', (message) => {
    // The server sends text messages only: one JSON event each, or {"missed": M} first.
    if (typeof message.data !== 'string') return notice(p, 'ignored a binary message');
    count(p, 'bytes', utf8Bytes(message.data));
    const value = parse(p, message.data);
    if (value === undefined) return;
    if (value !== null && value.id === undefined && value.missed !== undefined) missed(p, value.missed);
    else receive(p, value);
  });
  // A close always follows an error, with the code that says what happened.
  socket.addEventListener('close', (event) => {
    const reason = event.reason ? ` "${event.reason}"` : '';
    setState(p, 'closed', `closed: ${event.code}${reason}; again in ${WS_RECONNECT_MS / 1000} s`);
    setTimeout(openWs, WS_RECONNECT_MS);
  });
}

shortPoll();
longPoll();
openSse();
openWs();
