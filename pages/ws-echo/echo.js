// The echo page's script (lesson 04, "The page in a browser"). The browser does the handshake and the
// framing; a page sees only four events (open, message, close, error) and two methods
// (send, close). Every received text is put in the page as text (textContent), never as
// HTML: a message such as <img src=x onerror=alert(1)> must show as those characters.
'use strict';

const path = document.querySelector('meta[name="netlab-ws-path"]').content;
// The server that served this page: ws:// for http://, wss:// for https://.
const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;

const state = document.getElementById('state');
const form = document.getElementById('send-form');
const input = document.getElementById('message');
const sendButton = document.getElementById('send');
const reconnect = document.getElementById('reconnect');
const log = document.getElementById('log');
document.getElementById('url').textContent = url;

let socket;

function connect() {
  setState('connecting', 'connecting…');
  socket = new WebSocket(url);
  // Binary messages arrive as ArrayBuffer, so they can be shown as hex.
  socket.binaryType = 'arraybuffer';

  socket.addEventListener('open', () => setState('open', 'open'));

  socket.addEventListener('message', (event) => {
    if (typeof event.data === 'string') {
      append('received', `< ${event.data || '(empty message)'}`);
    } else {
      const bytes = [...new Uint8Array(event.data)].map((b) => b.toString(16).padStart(2, '0'));
      append('received', `< binary, ${bytes.length} bytes: ${bytes.join(' ')}`);
    }
  });

  // A close always follows an error, with the code that says what happened.
  socket.addEventListener('close', (event) => {
    const reason = event.reason ? ` "${event.reason}"` : '';
    setState('closed', `closed: ${event.code}${reason}`);
  });
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (socket.readyState !== WebSocket.OPEN) return;
  socket.send(input.value);
  append('sent', `> ${input.value || '(empty message)'}`);
  input.value = '';
  input.focus();
});

reconnect.addEventListener('click', connect);

function setState(name, text) {
  state.dataset.state = name;
  state.textContent = text;
  const open = name === 'open';
  input.disabled = !open;
  sendButton.disabled = !open;
  reconnect.hidden = name !== 'closed';
  if (open) input.focus();
}

function append(kind, text) {
  const item = document.createElement('li');
  item.className = kind;
  item.textContent = text;
  log.append(item);
  item.scrollIntoView({ block: 'nearest' });
}

connect();
