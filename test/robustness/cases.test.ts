/**
 * Holds test/robustness/ to ROBUSTNESS.md: every bullet of the list is a case in cases.ts, word
 * for word, and every case is named by a test in its section's file (a section whose file does
 * not exist yet shows as a todo). The list lives in ../shared beside the repository, where CI
 * always has it; without it, only the second half runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ON_CI, REPO_ROOT } from '../cli/run-cli.js';
import { SECTIONS, type RobustnessCase } from './cases.js';

const LIST = path.join(REPO_ROOT, '..', 'shared', 'ROBUSTNESS.md');

/** The list's bullets by section heading, each bullet's wrapped lines joined with one space. */
function bulletsOf(markdown: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let bullets: string[] | undefined;
  let open = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('## ')) {
      bullets = [];
      sections.set(line.slice(3).trim(), bullets);
      open = false;
    } else if (line.startsWith('- ') && bullets) {
      bullets.push(line.slice(2).trim());
      open = true;
    } else if (open && line.startsWith('  ') && bullets) {
      bullets[bullets.length - 1] += ` ${line.trim()}`;
    } else {
      open = false;
    }
  }
  return sections;
}

function bulletOf(c: RobustnessCase): string {
  return c.then === '' ? c.when : `${c.when} → ${c.then}`;
}

describe('ROBUSTNESS.md and test/robustness/', () => {
  it.skipIf(!existsSync(LIST) && !ON_CI)('has every bullet of the list as a case, word for word', () => {
    const sections = bulletsOf(readFileSync(LIST, 'utf8'));
    expect([...sections.keys()]).toEqual(Object.keys(SECTIONS));
    for (const [heading, bullets] of sections) {
      const { cases } = SECTIONS[heading as keyof typeof SECTIONS];
      expect(Object.values(cases).map(bulletOf), heading).toEqual(bullets);
    }
  });

  // A section's file is held to its cases once it exists; until then the section shows as a
  // todo, so a run says plainly which sections of the list have no tests yet.
  for (const [heading, { file, name, cases }] of Object.entries(SECTIONS)) {
    const source = path.join(REPO_ROOT, 'test', 'robustness', file);
    if (!existsSync(source)) {
      it.todo(`covers every case of "${heading}" in ${file}`);
      continue;
    }
    it(`covers every case of "${heading}" in ${file}`, () => {
      const text = readFileSync(source, 'utf8');
      const missing = Object.keys(cases).filter((key) => !new RegExp(`\\b${name}\\.${key}\\b`).test(text));
      expect(missing, `cases of ${heading} that ${file} never names`).toEqual([]);
    });
  }
});
