/**
 * The limits of the raw WebSocket client (src/check/ws-probe.ts), against a server that answers
 * every message with far more than came (test/check/fixtures/ws-echo-oversized.mjs): past a
 * limit, the probe stops reading and the check fails saying which limit, instead of holding
 * what the server sends or going quiet.
 */
import { describe, expect, it } from 'vitest';
import { runChecklist, type CheckResult } from '../../src/check/checklist.js';
import { wsEchoChecklist } from '../../src/check/ws-echo-check.js';
import { WsProbe } from '../../src/check/ws-probe.js';
import { OPCODES } from '../../src/ws/frame.js';
import { checkPort, resultFor, startFixture } from './fixture-server.js';

const HANDSHAKE_CHECKS = 5;

function failure(results: readonly CheckResult[], title: string): { problem: string; hint: string } {
  const result = resultFor(results, title);
  if (result.status !== 'fail') throw new Error(`"${title}" did not fail: ${JSON.stringify(result)}`);
  return result;
}

describe('the ws-echo probe, past its limits', () => {
  it('fails an echo with the length of a frame over 1 MiB, without keeping its payload', async () => {
    const fixture = await startFixture('ws-echo-oversized.mjs', ['big-frame']);
    const results = await checkPort(wsEchoChecklist, fixture.port);
    expect(results.slice(0, HANDSHAKE_CHECKS).map((r) => r.status)).toEqual(Array(HANDSHAKE_CHECKS).fill('pass'));
    expect(results.slice(HANDSHAKE_CHECKS).map((r) => r.status)).toEqual(Array(results.length - HANDSHAKE_CHECKS).fill('fail'));
    const { problem, hint } = failure(results, 'echoes a text message as text, unchanged');
    expect(problem).toBe('the server sent a text frame of 2,097,152 bytes, more than the 1 MiB netlab check reads of a frame, and far more than it sent.');
    expect(hint).toContain('lesson 04, "Frames on the wire"');
  });

  it('stops reading a connection after 16 MiB, and says so, when a frame never ends', async () => {
    // Before the limit was a failure, the probe silently stopped seeing bytes at 16 MiB and
    // every check waited out its wait for an echo that could no longer be seen.
    const fixture = await startFixture('ws-echo-oversized.mjs', ['endless-frame']);
    const results = await checkPort(wsEchoChecklist, fixture.port);
    const { problem } = failure(results, 'echoes a text message as text, unchanged');
    expect(problem).toBe('the server sent more than 16 MiB on one connection, far more than the check sent; netlab check stopped reading there.');
  });

  it('hands over the frames queued before it passed 1,000 unread, then fails the check instead of queueing more', async () => {
    const fixture = await startFixture('ws-echo-oversized.mjs', ['repeat']);
    const read: string[] = [];
    const [result] = await runChecklist(
      [
        {
          title: 'reads every frame',
          async run(ctx) {
            const ws = await WsProbe.open(ctx, 'netlab ws-echo serve');
            await ws.send(OPCODES.text, 'once');
            // Not reading for a while, as a check busy elsewhere: the 2,000 answers pile up.
            await ws.tcpClosed(ctx.waitMs / 2);
            for (;;) {
              const event = await ws.nextFrame(ctx.waitMs);
              if (event.kind !== 'frame') return event.kind;
              read.push(event.frame.payload.toString());
            }
          },
        },
      ],
      { target: { host: '127.0.0.1', port: fixture.port, path: '/ws' }, waitMs: 1000 },
    );
    expect(result).toMatchObject({ status: 'fail', problem: 'the server sent more than 1,000 frames the check had not read yet, for the few it sent; netlab check stopped reading there.' });
    expect(read).toHaveLength(1001);
    expect(new Set(read)).toEqual(new Set(['again']));
  });
});
