/**
 * runPing (ping-session.ts) over loopback: a real echo server whose seeded impairment says in
 * advance which replies come twice and which are overtaken, so the ping's report is known
 * exactly. Timeouts here are hang guards: in these runs every datagram is answered, or none is.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { runPing, type PingOptions } from '../../src/udp/ping-session.js';
import { NO_IMPAIRMENT, type ImpairmentSettings } from '../../src/udp/impairment.js';
import { openUdpClient, type UdpClient } from '../../src/udp/udp-client.js';
import { collectingOutput, echoServer, expectedArrivals, fatesOf, freeUdpPort, peer } from './udp-support.js';

const OPTIONS: PingOptions = { count: 20, intervalMs: 1, timeoutMs: 5000, sizeBytes: 32, serveCommand: 'netlab udp-echo serve' };

/** A client for the server at 127.0.0.1:port; runPing closes it, and so does the cleanup if the test fails first. */
async function client(port: number): Promise<UdpClient> {
  const c = await openUdpClient({ host: '127.0.0.1', port });
  onTestFinished(() => c.close());
  return c;
}

/** The duplicates and out-of-order replies a ping counts when replies arrive in this order. */
function classify(arrivals: number[]): { duplicates: number; outOfOrder: number } {
  const seen = new Set<number>();
  let highest = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  for (const seq of arrivals) {
    if (seen.has(seq)) duplicates++;
    else if (seq < highest) outOfOrder++;
    seen.add(seq);
    highest = Math.max(highest, seq);
  }
  return { duplicates, outOfOrder };
}

describe('runPing', () => {
  it('prints a reply line per datagram and a summary without loss on a perfect network', async () => {
    const server = await echoServer();
    const pinger = await client(server.port);
    const { output, stdout, stderr } = collectingOutput();
    await runPing(pinger, output, { ...OPTIONS, count: 3, sizeBytes: 16 });

    const lines = stdout().split('\n');
    expect(lines[0]).toBe(`PING 127.0.0.1:${server.port} over UDP: 3 datagrams of 16 bytes, one every 1 ms`);
    for (const seq of [1, 2, 3]) {
      expect(lines[seq]).toMatch(new RegExp(`^16 bytes from 127\\.0\\.0\\.1:${server.port}: seq=${seq} time=\\d+(\\.\\d+)? ms$`));
    }
    expect(lines.slice(4)).toEqual([
      `--- 127.0.0.1:${server.port} udp ping ---`,
      '3 sent, 3 received, 0% loss',
      expect.stringMatching(/^rtt min\/avg\/max\/mdev = \d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3} ms$/),
      '',
    ]);
    expect(stderr()).toBe('');
    expect(server.totals.datagrams).toBe(3);
  });

  it('reports exactly the duplicates and reordering the seeded server causes', async () => {
    const settings: ImpairmentSettings = { ...NO_IMPAIRMENT, duplicateRate: 0.25, reorderRate: 0.25, seed: 7 };
    const fates = fatesOf(settings, OPTIONS.count);
    expect(fates.at(-1)!.reorder, 'the last reply is not held back (it would wait REORDER_MAX_HOLD_MS)').toBe(false);
    const { duplicates, outOfOrder } = classify(expectedArrivals(fates));
    expect(duplicates).toBeGreaterThan(0);
    expect(outOfOrder).toBeGreaterThan(0);

    const server = await echoServer(settings);
    const pinger = await client(server.port);
    const { output, stdout } = collectingOutput();
    await runPing(pinger, output, OPTIONS);

    const text = stdout();
    const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
    expect(text).toContain(`\n20 sent, 20 received, 0% loss, ${plural(duplicates, 'duplicate')}, ${outOfOrder} out of order\n`);
    expect(text.match(/ \(duplicate\)$/gm)).toHaveLength(duplicates);
    expect(text.match(/ \(out of order\)$/gm)).toHaveLength(outOfOrder);
    expect(text).not.toContain('no reply within');
  });

  it('fails with NETLAB_ERR_NO_REPLY and a 100% loss summary when nothing answers', async () => {
    const port = await freeUdpPort();
    const pinger = await client(port);
    const { output, stdout } = collectingOutput();
    // Nothing can answer, so however fast or slow the machine, every datagram times out.
    await expect(runPing(pinger, output, { ...OPTIONS, count: 2, timeoutMs: 20 })).rejects.toMatchObject({
      code: 'NETLAB_ERR_NO_REPLY',
      message: `nothing came back from 127.0.0.1:${port}: none of the 2 pings got a reply.`,
      hint: 'is the server running? Start it with `netlab udp-echo serve`.',
    });
    const text = stdout();
    expect(text).toContain('seq=1: no reply within 20 ms\n');
    expect(text).toContain('seq=2: no reply within 20 ms\n');
    expect(text.endsWith(`--- 127.0.0.1:${port} udp ping ---\n2 sent, 0 received, 100% loss\n`)).toBe(true);
  });

  it('tells replies that are not its pings, and datagrams from strangers, apart from answers', async () => {
    // A hand-made server: for ping 1 it has a stranger write to the client first, then answers
    // with something that is not a ping, then with the echo.
    const fake = await peer();
    const stranger = await peer();
    fake.socket.on('message', (data, from) => {
      void (async () => {
        await stranger.send('psst', from.port);
        await fake.send('garbage', from.port);
        await fake.send(data, from.port);
      })();
    });
    const pinger = await client(fake.port);
    const { output, stdout, stderr } = collectingOutput();
    await runPing(pinger, output, { ...OPTIONS, count: 1 });

    const text = stdout();
    expect(text.startsWith(`PING 127.0.0.1:${fake.port} over UDP: 1 datagram of 32 bytes, one every 1 ms\n`)).toBe(true);
    expect(text).toContain(`7 bytes from 127.0.0.1:${fake.port}: not one of our pings\n`);
    expect(text).toMatch(new RegExp(`^32 bytes from 127\\.0\\.0\\.1:${fake.port}: seq=1 time=`, 'm'));
    expect(text).toContain('\n1 sent, 1 received, 0% loss\n');
    expect(stderr()).toBe(`ignored 4 bytes from 127.0.0.1:${stranger.port}: not the server\n`);
  });
});
