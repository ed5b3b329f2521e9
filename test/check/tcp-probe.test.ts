/**
 * The scripted TCP client (src/check/tcp-probe.ts) against loopback servers that write what a
 * test chooses: lines cut at every byte, and a flood of lines before the one a check waits for.
 */
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runChecklist, type CheckContext } from '../../src/check/checklist.js';
import { MAX_KEPT_BYTES, TcpProbe } from '../../src/check/tcp-probe.js';

/** A server that writes `pieces` to each client, each once the one before is in the kernel. */
async function writer(pieces: readonly Buffer[]): Promise<number> {
  const server = net.createServer(async (socket) => {
    socket.on('error', () => {});
    socket.setNoDelay(true);
    for (const piece of pieces) await new Promise((resolve) => socket.write(piece, resolve));
  });
  onTestFinished(() => {
    server.close();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** Runs `body` as a check against 127.0.0.1:port, and resolves with what it returned. */
async function withProbe<T>(port: number, body: (probe: TcpProbe, ctx: CheckContext) => Promise<T>): Promise<T> {
  let value: T | undefined;
  const [result] = await runChecklist(
    [
      {
        title: 'probe',
        async run(ctx) {
          value = await body(await TcpProbe.connect(ctx, 'netlab tcp-echo serve'), ctx);
        },
      },
    ],
    { target: { host: '127.0.0.1', port, path: '/' }, waitMs: 2000 },
  );
  expect(result).toMatchObject({ status: 'pass' });
  return value!;
}

describe('TcpProbe', () => {
  const text = Buffer.from('héllo\r\nwörld\n\nlast');

  it.each(Array.from({ length: text.length - 1 }, (_, i) => i + 1))('indexes the lines of a stream cut after byte %i, CR LF and UTF-8 included', async (cut) => {
    const port = await writer([text.subarray(0, cut), text.subarray(cut)]);
    const seen = await withProbe(port, async (probe, ctx) => {
      await probe.waitForBytes(text.length, ctx.waitMs);
      return { lines: probe.lines(), count: probe.lineCount, has: probe.hasLine('wörld'), partial: probe.hasLine('last'), bytes: Buffer.from(probe.bytes()) };
    });
    expect(seen).toEqual({ lines: ['héllo', 'wörld', ''], count: 3, has: true, partial: false, bytes: text });
  });

  it('finds a line at the end of an 8 MiB flood of other lines', async () => {
    const flood = Buffer.alloc(8 * 1024 * 1024, 'garbage\n');
    const port = await writer([flood, Buffer.from('the one line\n')]);
    const found = await withProbe(port, (probe, ctx) => probe.waitForLine('the one line', ctx.waitMs));
    expect(found).toBe(true);
  });

  it('keeps MAX_KEPT_BYTES and counts the rest, however the reads fall', async () => {
    const port = await writer([Buffer.alloc(MAX_KEPT_BYTES + 1000, 'x')]);
    const seen = await withProbe(port, async (probe, ctx) => {
      await probe.waitForBytes(MAX_KEPT_BYTES + 1000, ctx.waitMs);
      return { kept: probe.bytes().length, received: probe.bytesReceived };
    });
    expect(seen).toEqual({ kept: MAX_KEPT_BYTES, received: MAX_KEPT_BYTES + 1000 });
  });
});
