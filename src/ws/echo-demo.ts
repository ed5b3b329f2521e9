/**
 * `netlab demo ws-echo`: lesson 04 in one terminal, for a projector. A WebSocket echo server on
 * a free port and a client in this process; every line is tagged with the side that printed it.
 *
 * The script: the handshake's accept value checked by hand, a text message, one in another
 * alphabet, a binary message (shown as hex), an empty one, a message over the server's size
 * limit (close 1009, and the client connects again), and a clean close handshake. With
 * --slow it waits before each connect, each message and the close (demo-pace.ts).
 */
import type { Output } from '../core/output.js';
import { visible } from '../core/text-view.js';
import type { DemoPace } from '../lessons/demo-pace.js';
import { describeCloseCode } from './close-codes.js';
import { showMessage } from './connect-session.js';
import { logWsEchoServer } from './echo-log.js';
import { startWsEchoServer } from './echo-server.js';
import { acceptFor } from './handshake.js';
import { openWsClient, type WsClient } from './ws-client.js';

const SERVER = 'server';
const CLIENT = 'client';

/** Small, so that the demo can go over it. */
const DEMO_MAX_MESSAGE_BYTES = 1024;

const MESSAGES: Array<string | Buffer> = ['hello', 'привіт, WebSocket', Buffer.from([0x00, 0x01, 0xfe, 0xff]), ''];

export async function runWsEchoDemo(output: Output, pace: DemoPace): Promise<void> {
  const server = await startWsEchoServer({ host: '127.0.0.1', port: 0, path: '/ws', maxMessageBytes: DEMO_MAX_MESSAGE_BYTES });
  try {
    output.event(`ws-echo server listening on 127.0.0.1:${server.port} · ${server.url} · ${server.pageUrl}`, SERVER);
    logWsEchoServer(server, output, { tag: SERVER });

    await pace.step();
    let client = await connect(server.url, output);
    for (const message of MESSAGES) {
      await pace.step();
      output.sent(typeof message === 'string' ? visible(message) || '(empty message)' : showMessage(message, true), CLIENT);
      const reply = nextMessage(client);
      await client.send(message);
      const { data, isBinary } = await reply;
      output.received(showMessage(data, isBinary), CLIENT);
    }

    await pace.step();
    output.sent(`${DEMO_MAX_MESSAGE_BYTES + 1} bytes, one more than the server's --max-message`, CLIENT);
    const closed = client.whenClosed();
    await client.send('x'.repeat(DEMO_MAX_MESSAGE_BYTES + 1)).catch(() => {});
    const { code } = await closed;
    output.event(`closed by the server: ${describeCloseCode(code)}; connecting again`, CLIENT);

    await pace.step();
    client = await connect(server.url, output);
    await pace.step();
    output.event('done: sending a close frame (ws.close(1000))', CLIENT);
    const { code: last } = await client.close(1000);
    output.event(`closed · ${describeCloseCode(last)}`, CLIENT);
  } finally {
    await server.close();
  }
  output.event(`ws-echo server stopped · ${server.totals.connections} connections, ${server.totals.messages} messages echoed`, SERVER);
  output.note('try it in two terminals: `netlab ws-echo serve`, then `netlab ws-echo connect`, or open the page (lesson 04)');
}

async function connect(url: string, output: Output): Promise<WsClient> {
  const client = await openWsClient({ url });
  client.resume(); // the demo reads each reply with nextMessage()
  const accept = client.response.headers['sec-websocket-accept'];
  output.event(`connected to ${url}: 101 Switching Protocols`, CLIENT);
  const verdict = acceptFor(client.key) === accept ? 'it answers the key' : 'it does NOT answer the key';
  output.event(`Sec-WebSocket-Key ${client.key} → Accept ${accept} (${verdict})`, CLIENT);
  return client;
}

function nextMessage(client: WsClient): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => client.once('message', (data, isBinary) => resolve({ data, isBinary })));
}
