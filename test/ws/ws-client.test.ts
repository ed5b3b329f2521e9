/**
 * The WebSocket client (src/ws/ws-client.ts) against servers that are not netlab's: raw TCP
 * servers that answer the handshake by hand and then do what a real server might: greet in
 * the same packet as the 101, send a broken frame, refuse with a body that never ends, or
 * never answer a close frame.
 */
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NetlabError } from '../../src/core/errors.js';
import { OPCODES, encodeFrame } from '../../src/ws/frame.js';
import { responseLines } from '../../src/ws/handshake.js';
import { CLOSE_TIMEOUT_MS, openWsClient } from '../../src/ws/ws-client.js';
import { echoServer } from './ws-support.js';

/** A raw server: `answer` gets the socket and the client's key once the request head is in. */
async function rawServer(answer: (socket: net.Socket, key: string) => void): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    let head = '';
    socket.on('data', function onData(chunk: Buffer) {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      answer(socket, /sec-websocket-key: (\S+)/i.exec(head)?.[1] ?? '');
    });
  });
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => sockets.add(socket));
  onTestFinished(() => sockets.forEach((socket) => socket.destroy()));
  return (server.address() as net.AddressInfo).port;
}

const accepted = (key: string) => `${responseLines(key).join('\r\n')}\r\n\r\n`;

describe('openWsClient', () => {
  it('keeps a greeting the server sends in the same packet as its 101, until resume()', async () => {
    const port = await rawServer((socket, key) => {
      socket.write(Buffer.concat([Buffer.from(accepted(key)), encodeFrame({ fin: true, opcode: OPCODES.text, payload: Buffer.from('welcome') })]));
    });
    const client = await openWsClient({ url: `ws://127.0.0.1:${port}/` });
    onTestFinished(() => client.terminate());
    await new Promise((resolve) => setImmediate(resolve)); // whatever ws would deliver early
    const greeting = new Promise<string>((resolve) => client.once('message', (data) => resolve(data.toString())));
    client.resume();
    expect(await greeting).toBe('welcome');
  });

  it('does not crash when a broken frame comes with the 101 and nobody listens for errors yet', async () => {
    const port = await rawServer((socket, key) => {
      socket.write(Buffer.concat([Buffer.from(accepted(key)), encodeFrame({ fin: true, opcode: OPCODES.text, payload: Buffer.from([0xc3, 0x28]) })]));
    });
    const client = await openWsClient({ url: `ws://127.0.0.1:${port}/` });
    onTestFinished(() => client.terminate());
    const closed = client.whenClosed();
    client.resume();
    expect((await closed).code).toBe(1006); // we closed 1007; the raw server never answered
  }, CLOSE_TIMEOUT_MS + 5000);

  it('gives up on a refusal whose body never ends, with its status and first line', async () => {
    const port = await rawServer((socket) => {
      socket.write('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nno entry here\n');
      setInterval(() => socket.write('more\n'), 50).unref(); // and it goes on and on
    });
    const refused = await openWsClient({ url: `ws://127.0.0.1:${port}/`, handshakeTimeoutMs: 2000 }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(NetlabError);
    expect((refused as NetlabError).message).toBe('403 Forbidden instead of 101: no entry here.');
  });

  it('ends a close the server never answers after CLOSE_TIMEOUT_MS, with 1006', async () => {
    const port = await rawServer((socket, key) => socket.write(accepted(key))); // then silence
    const client = await openWsClient({ url: `ws://127.0.0.1:${port}/` });
    onTestFinished(() => client.terminate());
    client.resume();
    expect((await client.close(1000)).code).toBe(1006);
  }, CLOSE_TIMEOUT_MS + 5000);

  it('refuses, at once, a close code or reason no close frame may carry', async () => {
    const server = await echoServer();
    const client = await openWsClient({ url: server.url });
    onTestFinished(() => client.terminate());
    expect(() => client.close(1006)).toThrow(/1006 is only for reporting a close/);
    expect(() => client.close(1000, 'x'.repeat(124))).toThrow(/at most 123 bytes/);
    expect((await client.close(4000, 'fine')).code).toBe(4000);
  });
});
