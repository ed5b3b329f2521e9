/**
 * `netlab lessons` and `netlab lesson N [--step K] [--lang uk]` (src/lessons/lesson-command.ts),
 * run as a student runs them: the built binary, stdout piped, so the output is plain and 80
 * columns. runCli sets LANG=C.UTF-8, so a test that wants Ukrainian asks for it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, displayTitle } from '../../src/lessons/catalogue.js';
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

describe('in Ukrainian', () => {
  const UK = (file: string) => readFileSync(path.join(REPO_ROOT, 'lessons', 'uk', `${file}.md`), 'utf8');
  const UK_01 = UK('01-tcp-echo');
  const UK_TITLE_01 = parseLesson(UK_01).title;
  const UK_STEPS_01 = parseLesson(UK_01).steps;
  const UKRAINIAN = { LANG: 'uk_UA.UTF-8' };

  it('--lang uk prints lesson 01 from lessons/uk/, every step and command, within 80 columns', async () => {
    const { code, stdout, stderr } = await runCli(['lesson', '1', '--lang', 'uk']);
    expect(code, stderr).toBe(0);
    expect(stderr).toBe('');
    const printed = lines(stdout);
    expect(printed.slice(0, 2)).toEqual([UK_TITLE_01, '═'.repeat(displayWidth(UK_TITLE_01))]);
    for (const step of UK_STEPS_01) expect(printed).toContain(step.title);
    const shown = new Set(printed.map((line) => line.trim()));
    for (const command of UK_01.split('\n').filter((line) => line.startsWith('$ '))) expect(shown.has(command), command).toBe(true);
    expect(printed.filter((line) => displayWidth(line) > 80)).toEqual([]);
  });

  it('follows LANG and LC_ALL when they start with uk, and --lang en wins over them', async () => {
    const asked = await runCli(['lesson', '1', '--lang', 'uk']);
    const [fromLang, fromLcAll, english, c] = await Promise.all([
      runCli(['lesson', '1'], { env: UKRAINIAN }),
      runCli(['lesson', '1'], { env: { LANG: 'en_GB.UTF-8', LC_ALL: 'uk_UA.UTF-8' } }),
      runCli(['lesson', '1', '--lang', 'en'], { env: UKRAINIAN }),
      runCli(['lesson', '1'], { env: { ...UKRAINIAN, LC_ALL: 'C' } }),
    ]);
    expect(fromLang.stdout).toBe(asked.stdout);
    expect(fromLcAll.stdout).toBe(asked.stdout);
    expect(lines(english.stdout)[0]).toBe(TITLE_01);
    expect(lines(c.stdout)[0]).toBe(TITLE_01);
  });

  it('--step keeps --lang uk in the command for the next step and the next lesson', async () => {
    const { code, stdout, stderr } = await runCli(['lesson', '1', '--step', '3', '--lang', 'uk']);
    expect(code, stderr).toBe(0);
    const printed = lines(stdout);
    expect(printed[0]!.startsWith(`lesson 01 · step 3 of ${UK_STEPS_01.length} · `)).toBe(true);
    expect(printed[2]).toBe(UK_STEPS_01[2]!.title);
    expect(printed.at(-1)!.startsWith(`next: netlab lesson 01 --step 4 --lang uk (${UK_STEPS_01[3]!.title.slice(0, 10)}`)).toBe(true);
    const last = await runCli(['lesson', '1', '--step', String(UK_STEPS_01.length), '--lang', 'uk']);
    expect(lines(last.stdout).at(-1)).toBe('last step; next lesson: netlab lesson 02 --lang uk');
    const fromLocale = await runCli(['lesson', '1', '--step', '3'], { env: UKRAINIAN });
    expect(lines(fromLocale.stdout).at(-1)!.startsWith('next: netlab lesson 01 --step 4 (')).toBe(true);
  });

  it('lessons --lang uk lists the Ukrainian titles, and its hint keeps --lang uk', async () => {
    const { code, stdout, stderr } = await runCli(['lessons', '--lang', 'uk']);
    expect(code, stderr).toBe(0);
    const printed = lines(stdout);
    expect(printed[0]).toBe('Lessons (read one with `netlab lesson N --lang uk`):');
    const flowing = stdout.replace(/\s+/g, ' ');
    for (const entry of CATALOGUE) expect(flowing).toContain(displayTitle(parseLesson(UK(entry.file)).title));
    expect(stdout).not.toContain('in English');
    expect(printed.filter((line) => displayWidth(line) > 80)).toEqual([]);
    const fromLocale = await runCli(['lessons'], { env: UKRAINIAN });
    expect(fromLocale.stdout).toBe(stdout.replace(' --lang uk`', '`'));
  });
});
