import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { fail, runChecklist, type Check } from '../../src/check/checklist.js';

const TARGET = { host: '127.0.0.1', port: 1, path: '/ws' };

describe('runChecklist', () => {
  it('runs checks in order, and skips the rest after an essential one fails', async () => {
    const checks: Check[] = [
      { title: 'first', run: async () => 'fine' },
      { title: 'second', essential: true, run: async () => fail('saw nothing', 'start it') },
      { title: 'third', run: async () => {} },
    ];
    const seen: string[] = [];
    const results = await runChecklist(checks, { target: TARGET, waitMs: 100, onResult: (r) => seen.push(r.title) });
    expect(results).toEqual([
      { title: 'first', status: 'pass', detail: 'fine' },
      { title: 'second', status: 'fail', problem: 'saw nothing', hint: 'start it' },
      { title: 'third', status: 'skipped', reason: 'skipped: "second" failed' },
    ]);
    expect(seen).toEqual(['first', 'second', 'third']);
  });

  it('fails a check that throws something other than a CheckFailure, as a bug of the check', async () => {
    const [result] = await runChecklist([{ title: 'x', run: async () => JSON.parse('{') as never }], { target: TARGET, waitMs: 100 });
    expect(result).toMatchObject({ status: 'fail', problem: expect.stringMatching(/^the check itself failed: /) });
  });

  it('closes what a check opens after its deadline, at once (it caught a socket left open)', async () => {
    const server = net.createServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    let late: net.Socket | undefined;
    let endedWhenLate: boolean | undefined;
    const lateOpened = new Promise<void>((resolve) => {
      const check: Check = {
        title: 'slow',
        run: (ctx) =>
          new Promise(() => {
            setTimeout(() => {
              endedWhenLate = ctx.ended;
              late = net.connect({ host: '127.0.0.1', port });
              late.on('error', () => {});
              ctx.defer(() => void late!.destroy());
              resolve();
            }, 150);
          }),
      };
      void runChecklist([check], { target: TARGET, waitMs: 100, deadlineMs: 50 }).then(([result]) => {
        expect(result).toMatchObject({ status: 'fail', problem: 'the check did not finish within 50 ms.' });
      });
    });
    await lateOpened;
    expect(endedWhenLate).toBe(true);
    expect(late!.destroyed).toBe(true);
    await new Promise((resolve) => server.close(resolve));
  });
});
