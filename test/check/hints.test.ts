/**
 * A hint that names a lesson section must name one that exists: the checks and the lessons are
 * edited separately, and a renamed heading would otherwise leave hints pointing nowhere.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHECK_DIR = path.join(ROOT, 'src', 'check');
const LESSON_FILES = readdirSync(path.join(ROOT, 'lessons')).filter((name) => /^\d\d-.*\.md$/.test(name));

/** The `## ` headings of lesson NN. */
function headings(number: string): string[] {
  const file = LESSON_FILES.find((name) => name.startsWith(`${number}-`));
  if (!file) return [];
  return readFileSync(path.join(ROOT, 'lessons', file), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('## '))
    .map((line) => line.slice(3).trim());
}

/** Every `lesson NN, "Heading"` in the checks' source, quotes unescaped, comments included. */
function references(): Array<{ file: string; number: string; heading: string }> {
  const found: Array<{ file: string; number: string; heading: string }> = [];
  for (const file of readdirSync(CHECK_DIR).filter((name) => name.endsWith('.ts'))) {
    // A comment may break a heading across lines: join them first.
    const text = readFileSync(path.join(CHECK_DIR, file), 'utf8').replace(/\n\s*\*\s*/g, ' ');
    for (const match of text.matchAll(/lesson (\d\d), \\?"((?:[^"\\]|\\')+)\\?"/g)) {
      found.push({ file, number: match[1]!, heading: match[2]!.replace(/\\'/g, "'") });
    }
  }
  return found;
}

describe("the checks' hints", () => {
  const all = references();

  it('name lesson sections, in every checklist', () => {
    const files = new Set(all.map((r) => r.file));
    for (const file of ['tcp-echo-check.ts', 'tcp-chat-check.ts', 'udp-echo-check.ts', 'ws-echo-check.ts', 'ws-chat-check.ts']) expect(files).toContain(file);
  });

  it.each(all.map((r) => [`${r.file}: lesson ${r.number}, "${r.heading}"`, r] as const))('%s is a heading of that lesson', (_, r) => {
    expect(headings(r.number)).toContain(r.heading);
  });
});
