/**
 * src/lessons/catalogue.ts: the course's list of lessons matches lessons/, file for file, and
 * its minutes still match the lessons' length.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import {
  CATALOGUE,
  LESSONS_DIR,
  displayTitle,
  findLesson,
  lessonNumber,
  lessonSlug,
  lessonUrl,
  nextLesson,
  readLesson,
} from '../../src/lessons/catalogue.js';
import { parseLesson } from '../../src/lessons/lesson-format.js';
import { REPO_ROOT } from '../cli/run-cli.js';

const LESSON_FILES = readdirSync(path.join(REPO_ROOT, 'lessons'))
  .filter((name) => name.endsWith('.md') && name !== 'README.md')
  .map((name) => name.slice(0, -'.md'.length))
  .sort();

/**
 * The estimate catalogue.ts describes: prose at 150 words a minute, terminal blocks at 300,
 * a minute per command and half a minute per session.
 */
function estimatedMinutes(source: string): number {
  const lesson = parseLesson(source);
  const lines = source.split('\n');
  let proseWords = 0;
  let codeWords = 0;
  let inCode = false;
  for (const line of lines) {
    if (/^\s*(```|~~~)/.test(line)) {
      inCode = !inCode;
      continue;
    }
    const words = line.split(/\s+/).filter(Boolean).length;
    if (inCode) codeWords += words;
    else proseWords += words;
  }
  const commands = lesson.sessions.flatMap((session) => session.actions.filter((action) => action.kind === 'run')).length;
  return proseWords / 150 + codeWords / 300 + commands + lesson.sessions.length / 2;
}

describe('the catalogue', () => {
  it('has an entry for every lesson in lessons/ and a lesson for every entry', () => {
    expect(CATALOGUE.map((entry) => entry.file).sort()).toEqual(LESSON_FILES);
  });

  it('is in course order, numbered 00, 01, … without gaps', () => {
    expect(CATALOGUE.map(lessonNumber)).toEqual(CATALOGUE.map((_, i) => String(i).padStart(2, '0')));
  });

  it('finds lessons next to the package: lessons/ at the root, which package.json ships', () => {
    expect(fileURLToPath(LESSONS_DIR)).toBe(path.join(REPO_ROOT, 'lessons') + path.sep);
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('lessons');
    expect(fileURLToPath(lessonUrl(CATALOGUE[1]!))).toBe(path.join(REPO_ROOT, 'lessons', '01-tcp-echo.md'));
  });

  it('reads a lesson from another folder, as a translation would be', () => {
    expect(lessonUrl(CATALOGUE[1]!, new URL('uk/', LESSONS_DIR)).pathname).toMatch(/\/lessons\/uk\/01-tcp-echo\.md$/);
  });

  it.each(CATALOGUE.map((entry) => [entry.file, entry] as const))('%s: its title is numbered as its file is', async (_file, entry) => {
    const title = parseLesson(await readLesson(entry)).title;
    expect(title.startsWith(`${lessonNumber(entry)} · `)).toBe(true);
    expect(displayTitle(title)).toBe(title.slice(`${lessonNumber(entry)} · `.length));
  });

  it.each(CATALOGUE.map((entry) => [entry.file, entry] as const))(
    '%s: its minutes are a multiple of 5 within a quarter of the estimate from its length',
    async (_file, entry) => {
      const estimate = estimatedMinutes(await readLesson(entry));
      expect(entry.minutes % 5).toBe(0);
      expect(entry.minutes, `estimate ${estimate.toFixed(1)} min`).toBeGreaterThanOrEqual(estimate * 0.75);
      expect(entry.minutes, `estimate ${estimate.toFixed(1)} min`).toBeLessThanOrEqual(estimate * 1.25);
    },
  );

  it('names only labs of the course, and lesson 00 none', () => {
    expect(CATALOGUE.map((entry) => entry.lab)).toEqual([undefined, 'tcp-echo', 'tcp-chat', 'udp', 'ws-echo', 'ws-chat', 'push-pull', 'ws-chat']);
  });
});

describe('findLesson', () => {
  it.each(['1', '01', '001', 'tcp-echo', '01-tcp-echo', ' TCP-Echo '])('finds lesson 01 from "%s"', (query) => {
    expect(findLesson(query).file).toBe('01-tcp-echo');
  });

  it.each(['7', '07', 'scaling'])('finds lesson 07, the second lesson of the ws-chat lab, from "%s"', (query) => {
    expect(findLesson(query).file).toBe('07-scaling');
  });

  it('finds lesson 00 from 0', () => {
    expect(lessonSlug(findLesson('0'))).toBe('overview');
  });

  it.each(['8', '1-tcp-echo', 'echo', '', '-1', '1.5'])('refuses "%s" with a usage error listing the lessons', (query) => {
    expect(() => findLesson(query)).toThrow(UsageError);
    expect(() => findLesson(query)).toThrow(`there is no lesson "${query}": give a number from 00 to 07 or a name (overview, tcp-echo,`);
  });
});

describe('nextLesson', () => {
  it('is the following entry, and undefined after the last', () => {
    expect(nextLesson(CATALOGUE[0]!)).toBe(CATALOGUE[1]);
    expect(nextLesson(CATALOGUE[CATALOGUE.length - 1]!)).toBeUndefined();
  });
});
