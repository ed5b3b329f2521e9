/**
 * A translated lesson (lessons/uk/) is the English one in another language, step for step and
 * session for session (lessons/uk/README.md): the same `## ` steps in the same order, so
 * `--step K` is the same step in both, and the same `console terminal=N` blocks, byte for byte,
 * since netlab answers in English whatever the lesson's language. The one exception is the
 * output of `netlab lessons` and `netlab lesson`, which shows the lessons themselves in the
 * reader's language; a session that runs one of them must still run the same commands.
 *
 * lessons.test.ts runs the translations too, so what is checked here against the English is
 * also checked against the CLI.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../src/lessons/catalogue.js';
import { parseLesson } from '../../src/lessons/lesson-format.js';
import { REPO_ROOT } from './lesson-runner.js';

/** The translations, and the lessons each must have: all of them. */
const LANGUAGES = ['uk'];

const lessonsIn = (dir: string) =>
  readdirSync(path.join(REPO_ROOT, dir))
    .filter((name) => name.endsWith('.md') && name !== 'README.md')
    .sort();

/** A command whose output is in the lesson's language. */
const SPEAKS_THE_LESSON_LANGUAGE = /^netlab lessons?(\s|$)/;

/** One `console` block as written: its info string and its lines, or only its commands. */
function sessionsOf(source: string): string[] {
  const lines = source.split(/\r?\n/);
  return parseLesson(source).sessions.map((session) => {
    const block = lines.slice(session.line - 1, session.endLine);
    const translated = session.actions.some((action) => action.kind === 'run' && SPEAKS_THE_LESSON_LANGUAGE.test(action.command));
    return (translated ? block.filter((line) => line.startsWith('$ ') || line.startsWith('```')) : block).join('\n');
  });
}

function stepCount(source: string): number {
  return parseLesson(source).steps.length;
}

describe.each(LANGUAGES)('lessons/%s/', (lang) => {
  it('has every lesson of the course, under the English file names, and nothing else', () => {
    expect(lessonsIn(`lessons/${lang}`)).toEqual(CATALOGUE.map((entry) => `${entry.file}.md`));
  });

  const files = existsSync(path.join(REPO_ROOT, 'lessons', lang)) ? lessonsIn(`lessons/${lang}`) : [];
  describe.each(files)('%s', (file) => {
    const english = readFileSync(path.join(REPO_ROOT, 'lessons', file), 'utf8');
    const translation = readFileSync(path.join(REPO_ROOT, 'lessons', lang, file), 'utf8');

    it('is numbered as the English lesson is', () => {
      expect(parseLesson(translation).title.split(' · ')[0]).toBe(parseLesson(english).title.split(' · ')[0]);
    });

    it('has the same steps as the English lesson', () => {
      expect(stepCount(translation)).toBe(stepCount(english));
    });

    it('runs the very terminal sessions of the English lesson, in the same order', () => {
      const mine = sessionsOf(translation);
      const theirs = sessionsOf(english);
      // Block by block, so a failure shows the first block that differs rather than all of them.
      for (let i = 0; i < Math.max(mine.length, theirs.length); i++) {
        expect(mine[i], `session ${i + 1} of ${theirs.length} (lessons/${lang}/${file} has ${mine.length})`).toBe(theirs[i]);
      }
    });
  });
});
