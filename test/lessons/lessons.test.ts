/**
 * Every lesson in lessons/ runs here, one test per file, against the built CLI (dist/): its
 * commands, typed input and expected output must be exactly what netlab does today. So does
 * the complete example in lessons/README.md, the one lesson authors copy from, and so does
 * every translation (lessons/uk/), in the locale of its readers.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../src/lessons/render-lesson.js';
import { displayWidth } from '../../src/lessons/render-table.js';
import { REPO_ROOT, runLesson } from './lesson-runner.js';

const LESSONS_DIR = path.join(REPO_ROOT, 'lessons');

/** Each translation's folder in lessons/, and the locale its readers' terminals have. */
const TRANSLATIONS: Record<string, string> = { uk: 'uk_UA.UTF-8' };

const lessonsIn = (dir: string) =>
  readdirSync(path.join(LESSONS_DIR, dir))
    .filter((name) => name.endsWith('.md') && name !== 'README.md')
    .sort();

/** Every lesson as a path under lessons/: `01-tcp-echo.md`, then `uk/01-tcp-echo.md`… */
const LESSON_FILES = [
  ...lessonsIn('.'),
  ...Object.keys(TRANSLATIONS).flatMap((lang) =>
    existsSync(path.join(LESSONS_DIR, lang)) ? lessonsIn(lang).map((name) => `${lang}/${name}`) : [],
  ),
];

/** A lesson's hang guards add up: 10 s per step at worst, and a failure should say which step. */
const LESSON_TIMEOUT_MS = 120_000;

/**
 * Lessons with a step that waits longer than STEP_TIMEOUT_MS on purpose, and the hang guard
 * each step of theirs gets instead. Lesson 07 waits for a crashed chat server to time out:
 * 10 s by default (`--redis-timeout`), noticed by the other server within 12.5 s.
 */
const SLOW_LESSONS: Record<string, number> = { '07-scaling.md': 20_000 };

/**
 * The first ````markdown block of lessons/README.md: a whole lesson, shown as source. Blank
 * lines stand in for the README's lines above it, so errors give the README's line numbers.
 */
function readmeExample(): string {
  const lines = readFileSync(path.join(LESSONS_DIR, 'README.md'), 'utf8').split('\n');
  const start = lines.indexOf('````markdown');
  const end = lines.indexOf('````', start + 1);
  if (start === -1 || end === -1) throw new Error('lessons/README.md has no ````markdown block with an example lesson');
  return [...lines.slice(0, start + 1).map(() => ''), ...lines.slice(start + 1, end)].join('\n');
}

describe('lessons', () => {
  beforeAll(() => {
    if (!existsSync(path.join(REPO_ROOT, 'dist', 'cli.js'))) {
      throw new Error('the lessons run the built CLI: run `npm run build` first');
    }
  });

  it('include at least one lesson', () => {
    expect(LESSON_FILES.length).toBeGreaterThan(0);
  });

  it.each(LESSON_FILES)(
    'lessons/%s shows only commands and output that netlab really produces',
    async (file) => {
      const source = readFileSync(path.join(LESSONS_DIR, file), 'utf8');
      const lang = path.dirname(file);
      await runLesson(source, {
        name: `lessons/${file}`,
        timeoutMs: SLOW_LESSONS[path.basename(file)],
        locale: TRANSLATIONS[lang],
      });
    },
    LESSON_TIMEOUT_MS,
  );

  // Lessons point to the code they explain (STYLE.md habit 7); a rename must not leave them behind.
  it.each(LESSON_FILES)('lessons/%s names only source files that exist', (file) => {
    const source = readFileSync(path.join(LESSONS_DIR, file), 'utf8');
    const named = [...source.matchAll(/`((?:src|test|bench)\/[\w./-]+)`/g)].map((match) => match[1]!);
    expect(named.filter((name) => !existsSync(path.join(REPO_ROOT, name)))).toEqual([]);
  });

  // lessons/README.md: "Keep lines within 80 columns, sessions included" (a terminal, a projector).
  it.each(LESSON_FILES)('lessons/%s keeps every line within 80 columns', (file) => {
    const lines = readFileSync(path.join(LESSONS_DIR, file), 'utf8').split('\n');
    const long = lines.flatMap((line, i) => ([...line].length > 80 ? [`${i + 1}: ${line}`] : []));
    expect(long).toEqual([]);
  });

  // What `netlab lesson N` prints on an 80-column terminal (or piped) must fit it too: code
  // blocks are indented, and a wrapped line must not overflow.
  it.each(LESSON_FILES)('lessons/%s fits 80 columns as `netlab lesson` prints it', (file) => {
    const printed = renderMarkdown(readFileSync(path.join(LESSONS_DIR, file), 'utf8'), { width: 80 });
    expect(printed.filter((line) => displayWidth(line) > 80)).toEqual([]);
  });

  it(
    'the example lesson in lessons/README.md runs too',
    async () => {
      await runLesson(readmeExample(), { name: 'lessons/README.md' });
    },
    LESSON_TIMEOUT_MS,
  );
});
