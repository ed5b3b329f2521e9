/**
 * `netlab demo tcp-echo`: lesson 01 in one terminal, for a projector. A server on a free port
 * and a scripted client run in this process; every line is tagged with the side that printed
 * it, so the class sees both ends of the same connection.
 *
 * The script shows three things: a line echoed; two lines sent in one write arriving as one
 * read (TCP is a byte stream: a read is not a message); and the close handshake (FIN each way).
 * With --slow it waits before the connect, before each write and before the FIN (demo-pace.ts).
 */
import type { Output } from '../core/output.js';
import { bytes, visible } from '../core/text-view.js';
import type { DemoPace } from '../lessons/demo-pace.js';
import { logEchoServer } from './echo-log.js';
import { startEchoServer } from './echo-server.js';
import { connectTcp } from './tcp-client.js';

const SERVER = 'server';
const CLIENT = 'client';

/** What the client sends; each entry is one write(). */
const WRITES = ['hello\n', 'TCP is a byte stream\n', 'two lines\nin one write\n'];

export async function runTcpEchoDemo(output: Output, pace: DemoPace): Promise<void> {
  const server = await startEchoServer({ host: '127.0.0.1', port: 0 });
  try {
    output.event(`tcp-echo server listening on 127.0.0.1:${server.port}`, SERVER);
    logEchoServer(server, output, { tag: SERVER });
    const serverSawClose = new Promise<void>((resolve) => server.once('close', () => resolve()));

    await pace.step();
    const client = await connectTcp({ host: '127.0.0.1', port: server.port });
    output.event(`connected to ${client.remote} from ${client.local}`, CLIENT);
    let received = Buffer.alloc(0);
    let waiting: (() => void) | undefined;
    client.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      waiting?.();
    });

    for (const text of WRITES) {
      await pace.step();
      for (const line of text.split('\n').slice(0, -1)) output.sent(visible(line), CLIENT);
      const expected = received.length + Buffer.byteLength(text);
      const echoed = new Promise<void>((resolve) => (waiting = () => received.length >= expected && resolve()));
      await client.send(text);
      await echoed;
      const reply = received.subarray(expected - Buffer.byteLength(text)).toString('utf8');
      for (const line of reply.split('\n').slice(0, -1)) output.received(visible(line), CLIENT);
    }

    await pace.step();
    output.event('done: sending FIN (socket.end())', CLIENT);
    client.end();
    await Promise.all([client.whenClosed(), serverSawClose]);
    output.event(`disconnected · sent ${bytes(client.bytesSent)}, received ${bytes(client.bytesReceived)}`, CLIENT);
  } finally {
    await server.close();
  }
  output.event(`tcp-echo server stopped · 1 connection, ${bytes(server.totals.bytesEchoed)} echoed`, SERVER);
  output.note('try it in two terminals: `netlab tcp-echo serve`, then `netlab tcp-echo connect` (lesson 01)');
}
