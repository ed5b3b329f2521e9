/**
 * `netlab lessons` and `netlab lesson N [--step K]` (src/lessons/lesson-command.ts), run as a
 * student runs them: the built binary, stdout piped, so the output is plain and 80 columns.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLesson } from '../../src/lessons/lesson-format.js';
import { displayWidth } from '../../src/lessons/render-table.js';
import { NETLAB_BIN, REPO_ROOT, STACK_FRAME, lines, runCli } from './run-cli.js';

const LESSON_01 = readFileSync(path.join(REPO_ROOT, 'lessons', '01-tcp-echo.md'), 'utf8');
const STEPS_01 = parseLesson(LESSON_01).steps;
const TITLE_01 = '01 · TCP echo: a server, a client, and the bytes between them';

/** Runs netlab with an environment of the test's choosing (runCli always sets NO_COLOR). */
function runWithEnv(args: string[], env: NodeJS.ProcessEnv): { status: number | null; stdout: string } {
  const base = { ...process.env };
  delete base.NO_COLOR;
  delete base.FORCE_COLOR;
  const result = spawnSync(process.execPath, [NETLAB_BIN, ...args], { cwd: REPO_ROOT, env: { ...base, ...env }, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout };
}

describe('netlab lessons', () => {
  it('lists every lesson with its number, title, lab and minutes, within 80 columns', async () => {
    const { code, stdout, stderr } = await runCli(['lessons']);
    expect(code, stderr).toBe(0);
    const printed = lines(stdout);
    expect(printed[0]).toBe('Lessons (read one with `netlab lesson N`):');
    expect(stdout).toMatch(/^ {2}00 {2}Overview: sockets, transports, and the real-time protocol map\n {6}no lab: the map of the course · about \d+ min$/m);
    expect(stdout).toMatch(/^ {2}01 {2}TCP echo: .*\n {6}lab tcp-echo · about \d+ min$/m);
    expect(stdout).toMatch(/^ {2}06 {2}Push vs pull: one feed, four transports, measured\n {6}lab push-pull · about \d+ min$/m);
    expect(printed.filter((line) => displayWidth(line) > 80)).toEqual([]);
  });

  it('ends its help with examples', async () => {
    const { code, stdout } = await runCli(['lessons', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Examples:\n(?: {2}netlab .*\n)+$/);
  });
});

describe('netlab lesson', () => {
  it('prints the whole lesson: its title, every step, every command', async () => {
    const { code, stdout, stderr } = await runCli(['lesson', '1']);
    expect(code, stderr).toBe(0);
    const printed = lines(stdout);
    expect(printed.slice(0, 2)).toEqual([TITLE_01, '═'.repeat(TITLE_01.length)]);
    for (const step of STEPS_01) expect(printed).toContain(step.title);
    const shown = new Set(printed.map((line) => line.trim()));
    for (const command of LESSON_01.split('\n').filter((line) => line.startsWith('$ '))) expect(shown.has(command), command).toBe(true);
  });

  it('finds the same lesson from 01, tcp-echo and 01-tcp-echo', async () => {
    const [one, ...others] = await Promise.all(['1', '01', 'tcp-echo', '01-tcp-echo'].map((name) => runCli(['lesson', name])));
    for (const other of others) expect(other.stdout).toBe(one!.stdout);
  });

  it('--step 3 shows that step only, under a line naming it, and the command for the next', async () => {
    const { code, stdout, stderr } = await runCli(['lesson', '1', '--step', '3']);
    expect(code, stderr).toBe(0);
    const printed = lines(stdout);
    expect(printed[0]).toBe(`lesson 01 · step 3 of ${STEPS_01.length} · ${STEPS_01[2]!.title}`);
    expect(printed[2]).toBe(STEPS_01[2]!.title);
    expect(printed.at(-1)).toBe(`next: netlab lesson 01 --step 4 (${STEPS_01[3]!.title})`);
    expect(printed).not.toContain(STEPS_01[1]!.title);
    expect(printed).not.toContain(STEPS_01[3]!.title);
  });

  it('--step 1 starts with the lesson title and its introduction', async () => {
    const { stdout } = await runCli(['lesson', 'tcp-echo', '--step', '1']);
    expect(lines(stdout).slice(0, 4)).toEqual([
      `lesson 01 · step 1 of ${STEPS_01.length} · ${STEPS_01[0]!.title}`,
      '',
      TITLE_01,
      '═'.repeat(TITLE_01.length),
    ]);
  });

  it('on the last step points to the next lesson, and on the last lesson says so', async () => {
    const last = await runCli(['lesson', '1', '--step', String(STEPS_01.length)]);
    expect(lines(last.stdout).at(-1)).toBe('last step; next lesson: netlab lesson 02');
    const steps07 = parseLesson(readFileSync(path.join(REPO_ROOT, 'lessons', '07-scaling.md'), 'utf8')).steps.length;
    const end = await runCli(['lesson', '7', '--step', String(steps07)]);
    expect(lines(end.stdout).at(-1)).toBe('last step of the course');
  });

  it('refuses an unknown lesson with exit 2, listing the lessons', async () => {
    const { code, stdout, stderr } = await runCli(['lesson', '42']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: there is no lesson "42": give a number from 00 to 07 or a name \(overview, tcp-echo, .*scaling\)\.$/m);
    expect(stderr).not.toMatch(STACK_FRAME);
  });

  it.each(['0', '99', 'three'])('refuses --step %s with exit 2, naming the range', async (value) => {
    const { code, stdout, stderr } = await runCli(['lesson', '1', '--step', value]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`error: --step must be a step of lesson 01, 1..${STEPS_01.length}, not "${value}".`);
  });

  it('ends its help with examples', async () => {
    const { code, stdout } = await runCli(['lesson', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Examples:\n(?: {2}netlab .*\n)+$/);
  });
});

describe('colour', () => {
  it('is on when forced, so the checks below can see escape codes', () => {
    expect(runWithEnv(['lesson', '1', '--step', '3'], { FORCE_COLOR: '1' }).stdout).toMatch(/\x1b\[/);
  });

  it.each([
    ['piped', [], {}],
    ['with NO_COLOR', [], { FORCE_COLOR: '1', NO_COLOR: '1' }],
    ['with --no-color', ['--no-color'], { FORCE_COLOR: '1' }],
  ] as const)('is off %s: no escape code at all', (_how, flags, env) => {
    for (const args of [['lessons'], ['lesson', '1'], ['lesson', '0', '--step', '7']]) {
      const { status, stdout } = runWithEnv([...flags, ...args], env);
      expect(status).toBe(0);
      expect(stdout).not.toMatch(/\x1b/);
    }
  });
});
