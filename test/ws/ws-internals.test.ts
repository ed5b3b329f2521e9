/**
 * What src/ws/ws-internals.ts assumes about the ws library, checked against the installed ws:
 * its release, Sender.frame()'s bytes (against frames built by hand from RFC 6455, section
 * 5.2), and that ws writes a send() to its socket before send() returns, so that a frame
 * written to that socket directly lands between ws's frames, never inside or ahead of one.
 * When ws changes under netlab, these fail first, and say which assumption broke.
 */
import { createRequire } from 'node:module';
import type net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { WS_RELEASE, WS_RELEASE_INSTALLED, canWriteFrames, textFrame, writeFrame } from '../../src/ws/ws-internals.js';

/** A ws server on 127.0.0.1, port 0, and one client; resolves with the server's side of the connection. */
async function connection(perMessageDeflate: boolean): Promise<{ ws: WebSocket; socket: net.Socket; received: Array<{ text: string; isBinary: boolean }> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate });
  onTestFinished(() => new Promise<void>((resolve) => wss.close(() => resolve())));
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const accepted = new Promise<{ ws: WebSocket; socket: net.Socket }>((resolve) =>
    wss.once('connection', (ws, req) => resolve({ ws, socket: req.socket as net.Socket })),
  );
  const { port } = wss.address() as net.AddressInfo;
  const client = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate });
  onTestFinished(() => client.terminate());
  const received: Array<{ text: string; isBinary: boolean }> = [];
  client.on('message', (data: Buffer, isBinary) => received.push({ text: data.toString('utf8'), isBinary }));
  await new Promise((resolve) => client.once('open', resolve));
  return { ...(await accepted), received };
}

/** Resolves once `received` holds `count` messages (the vitest timeout is the hang guard). */
async function arrived(received: unknown[], count: number): Promise<void> {
  while (received.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('the ws release', () => {
  it('is the one ws-internals.ts was written for', () => {
    const { version } = createRequire(import.meta.url)('ws/package.json') as { version: string };
    expect(version.startsWith(`${WS_RELEASE}.`), `ws ${version} is installed; ws-internals.ts knows ${WS_RELEASE}.x: check it against the new lib/sender.js and lib/websocket.js, then update WS_RELEASE`).toBe(true);
    expect(WS_RELEASE_INSTALLED).toBe(true);
  });
});

describe('textFrame()', () => {
  it('frames "Hello" as RFC 6455 does: "0x81 0x05 0x48 0x65 0x6c 0x6c 0x6f"', () => {
    // Section 5.7: "A single-frame unmasked text message ... (contains "Hello")".
    expect(textFrame(Buffer.from('Hello')).toString('hex')).toBe('810548656c6c6f');
  });

  it('writes the length in 7 bits up to 125 bytes, in 16 bits up to 65,535, in 64 bits beyond', () => {
    // Section 5.2, "Payload length": "If 126, the following 2 bytes interpreted as a 16-bit
    // unsigned integer are the payload length. If 127, the following 8 bytes ...".
    const cases: Array<[number, string]> = [
      [0, '8100'],
      [1, '8101'],
      [125, '817d'],
      [126, '817e007e'],
      [65_535, '817effff'],
      [65_536, '817f0000000000010000'],
    ];
    for (const [length, header] of cases) {
      const payload = Buffer.alloc(length, 'a');
      const expected = Buffer.concat([Buffer.from(header, 'hex'), payload]);
      expect(textFrame(payload).equals(expected), `a payload of ${length} bytes`).toBe(true);
    }
  });

  it('leaves the payload as it was: the same Buffer goes to every recipient', () => {
    const payload = Buffer.from('{"type":"message","text":"hi"}');
    const copy = Buffer.from(payload);
    textFrame(payload);
    expect(payload.equals(copy)).toBe(true);
  });
});

describe('writing frames to the socket of a ws connection', () => {
  it('with permessage-deflate off, ws writes each send() to the socket before send() returns', async () => {
    const { ws, socket, received } = await connection(false);
    expect(canWriteFrames(ws)).toBe(true);
    socket.cork(); // nothing leaves: what each call queued shows in writableLength
    const before = socket.writableLength;
    ws.send('one');
    expect(socket.writableLength, 'ws wrote its frame (2 + 3 bytes) to the socket at once').toBe(before + 5);
    expect(ws.bufferedAmount, "ws's bufferedAmount is the socket's writableLength").toBe(socket.writableLength);
    expect(writeFrame(ws, socket, textFrame(Buffer.from('two')))).toBe(true);
    expect(ws.bufferedAmount, 'a frame written directly counts toward bufferedAmount').toBe(before + 10);
    ws.send('three');
    socket.uncork();
    await arrived(received, 3);
    expect(received).toEqual([
      { text: 'one', isBinary: false },
      { text: 'two', isBinary: false },
      { text: 'three', isBinary: false },
    ]);
  });

  it('writes nothing while ws holds a frame of its own back (a Blob it is still reading)', async () => {
    const { ws, socket, received } = await connection(false);
    ws.send(new Blob(['blob']));
    expect(ws.bufferedAmount, 'the Blob waits in ws, not in the socket').toBeGreaterThan(socket.writableLength);
    expect(writeFrame(ws, socket, textFrame(Buffer.from('direct')))).toBe(false);
    ws.send('behind it'); // what the caller does instead
    await arrived(received, 2);
    expect(received).toEqual([
      { text: 'blob', isBinary: true },
      { text: 'behind it', isBinary: false },
    ]);
  });

  it('is refused for a connection with permessage-deflate, where ws compresses later and a direct frame would overtake', async () => {
    const { ws, socket } = await connection(true);
    expect(ws.extensions).toBe('permessage-deflate');
    expect(canWriteFrames(ws)).toBe(false);
    const before = socket.writableLength;
    ws.send('x'.repeat(2000)); // over ws's threshold of 1,024 bytes: compressed, asynchronously
    expect(socket.writableLength, 'nothing written yet').toBe(before);
  });
});
