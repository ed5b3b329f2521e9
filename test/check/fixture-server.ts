/**
 * Starts a server kept as a test fixture (test/check/fixtures/): netlab's checks are run
 * against deliberately broken servers, written the way students write them, in Node or Python.
 *
 * Every fixture takes its port as its first argument (0: any free port) and prints exactly
 * `listening on PORT` on stdout once it listens. It is killed when the test finishes.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, onTestFinished } from 'vitest';
import { runChecklist, type CheckResult, type LabChecklist } from '../../src/check/checklist.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** How long a fixture may take to print its listening line: a hang guard. */
const START_TIMEOUT_MS = 10_000;

export interface Fixture {
  port: number;
  /** Everything the fixture printed, for failure messages. */
  output(): string;
}

/** Runs `fixtures/NAME` (.mjs with node, .py with python3) and resolves with its port. */
export async function startFixture(name: string, extraArgs: readonly string[] = []): Promise<Fixture> {
  const file = path.join(FIXTURES, name);
  const [command, args] = name.endsWith('.py') ? ['python3', ['-u', file]] : [process.execPath, [file]];
  const child = spawn(command, [...args, '0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  let printed = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (printed += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (printed += text));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fixture ${name} printed no listening line in time:\n${printed}`)), START_TIMEOUT_MS);
    const look = () => {
      const match = /^listening on (\d+)$/m.exec(printed);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', look);
    once(child, 'exit').then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`fixture ${name} exited (${String(code)}) before listening:\n${printed}`));
    }, reject);
  });
  return { port, output: () => printed };
}

/** Runs a checklist against 127.0.0.1:port; waits are short, as on loopback they can be. */
export function checkPort(checklist: LabChecklist, port: number, waitMs = 1000): Promise<CheckResult[]> {
  return runChecklist(checklist.checks, { target: { host: '127.0.0.1', port, path: '/ws' }, waitMs });
}

/** `title → status` for assertions that read like the checklist. */
export function statuses(results: readonly CheckResult[]): Record<string, CheckResult['status']> {
  return Object.fromEntries(results.map((r) => [r.title, r.status]));
}

/** The result of the check whose title contains `text`; throws when there is none. */
export function resultFor(results: readonly CheckResult[], text: string): CheckResult {
  const found = results.find((r) => r.title.includes(text));
  if (!found) throw new Error(`no check titled like "${text}" in: ${results.map((r) => r.title).join(' | ')}`);
  return found;
}

/**
 * An assertion for one checklist: every check among `titles` passes except the ones named,
 * which fail (the whole result list is shown when it does not hold).
 */
export function onlyFailing(titles: Record<string, string>): (results: readonly CheckResult[], failing: readonly string[]) => void {
  return (results, failing) => {
    const expected = Object.fromEntries(Object.values(titles).map((title) => [title, failing.includes(title) ? 'fail' : 'pass']));
    expect(statuses(results), JSON.stringify(results, null, 2)).toEqual(expected);
  };
}

/** The failure of the check titled like `title`; throws when it did not fail. */
export function failure(results: readonly CheckResult[], title: string): { problem: string; hint: string } {
  const result = resultFor(results, title);
  if (result.status !== 'fail') throw new Error(`"${title}" did not fail: ${JSON.stringify(result)}`);
  return result;
}
