/**
 * `netlab check` as a command (src/check/check-command.ts): the list, its usage errors, and
 * the checklist's layout. What each lab's checks find is tested in test/check/.
 */
import { describe, expect, it } from 'vitest';
import { STACK_FRAME, freePort, lines, runCli } from './run-cli.js';

describe('netlab check', () => {
  it('without a lab lists the five checklists, with what each checks', async () => {
    const { code, stdout } = await runCli(['check']);
    expect(code).toBe(0);
    const printed = lines(stdout);
    expect(printed[0]).toBe('Checks (run one with `netlab check <lab> [--host H] [--port P]`):');
    expect(printed.slice(1).map((line) => line.trim().split(' ')[0])).toEqual(['tcp-echo', 'tcp-chat', 'udp-echo', 'ws-echo', 'ws-chat']);
    for (const line of printed) expect(line.length).toBeLessThanOrEqual(80);
  });

  it.each([
    [['check', 'tcp-echo', '--port', '0'], '--port must be a whole number from 1 to 65535, not "0".'],
    [['check', 'tcp-echo', '--wait', '50'], '--wait must be a whole number from 100 to 60000, not "50".'],
    [['check', 'ws-echo', '--path', 'ws'], '--path must start with "/" and hold no spaces, such as /ws, not "ws".'],
  ])('refuses %j with exit 2, naming the range', async (args, message) => {
    const { code, stdout, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr).not.toMatch(STACK_FRAME);
  });

  it('refuses a lab it has no checklist for, listing the ones it has', async () => {
    const { code, stderr } = await runCli(['check', 'push-pull']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Allowed choices are tcp-echo, tcp-chat, udp-echo, ws-echo, ws-chat/);
  });

  it('with nothing listening, fails the first check with a hint, runs no other, and exits 1', async () => {
    const port = await freePort();
    const { code, stdout, stderr } = await runCli(['check', 'tcp-echo', '--port', String(port), '--wait', '500']);
    expect(code, stderr).toBe(1);
    const printed = lines(stdout);
    const header = new RegExp(`^checking the tcp-echo server at 127\\.0\\.0\\.1:${port}: (\\d+) checks, waiting up to 500 ms for each answer$`).exec(printed[0]!);
    expect(header, printed[0]).not.toBeNull();
    const checks = Number(header![1]);
    expect(printed[1]).toMatch(/^✗ /);
    expect(printed[2]).toBe(`    nothing is listening on 127.0.0.1:${port} (connection refused).`);
    const hintEnd = printed.findIndex((line) => line.startsWith('- '));
    expect(printed.slice(3, hintEnd).map((line) => line.trim()).join(' ')).toMatch(/^hint: is your server running, and listening on 127\.0\.0\.1:\d+\? .* start netlab's own: +`netlab tcp-echo serve`\.$/);
    const notRun = printed.slice(hintEnd, -1);
    expect(notRun).toHaveLength(checks - 1);
    for (const line of notRun) expect(line).toMatch(/^- .* \(not run\)$/);
    expect(printed.at(-1)).toBe(`0 of ${checks} checks passed; 1 failed, ${checks - 1} not run`);
    for (const line of printed.slice(1)) expect(line.length).toBeLessThanOrEqual(80);
    expect(stderr).toBe('');
  });
});
