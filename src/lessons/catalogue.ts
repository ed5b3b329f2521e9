/**
 * The course's lessons in order, for `netlab lessons` and `netlab lesson N`
 * (src/lessons/lesson-command.ts): which file each one is, the lab it uses, and about how long
 * it takes. Titles are not kept here: they are each lesson's `# ` line, so the list can never
 * disagree with the lesson, and a translation brings its own.
 *
 * Languages: an entry names a file (`01-tcp-echo`), not a path. English lessons are in
 * lessons/; a translation is a folder of files with the same names (lessons/uk/01-tcp-echo.md),
 * so the same entries, labs and minutes serve it. language.ts picks the folder.
 *
 * Minutes are for reading the lesson and running its sessions, not for the Try it exercises,
 * and come from its length: prose at 150 words a minute, terminal blocks at 300, plus a minute
 * for each command typed and half a minute for each session to compare with the screen,
 * rounded to 5. test/lessons/catalogue.test.ts recomputes them, so a lesson that grows says so.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.js';

/** One lesson of the course, in every language. */
export interface CatalogueEntry {
  /** Its file name without `.md`, the same in every language: `01-tcp-echo`. */
  file: string;
  /** The lab it runs (DESIGN.md, the course table); undefined for a lesson with none. */
  lab: string | undefined;
  /** About how long it takes, in minutes, sessions included, exercises not. */
  minutes: number;
}

/** Every lesson, in course order. */
export const CATALOGUE: readonly CatalogueEntry[] = [
  { file: '00-overview', lab: undefined, minutes: 20 },
  { file: '01-tcp-echo', lab: 'tcp-echo', minutes: 60 },
  { file: '02-tcp-chat', lab: 'tcp-chat', minutes: 65 },
  { file: '03-udp', lab: 'udp', minutes: 50 },
  { file: '04-ws-echo', lab: 'ws-echo', minutes: 90 },
  { file: '05-ws-chat', lab: 'ws-chat', minutes: 80 },
  { file: '06-push-pull', lab: 'push-pull', minutes: 35 },
  { file: '07-scaling', lab: 'ws-chat', minutes: 80 },
];

/**
 * The English lessons, shipped with the package (package.json "files"): from
 * dist/lessons/catalogue.js (or src/lessons/ under vitest) two folders up, then lessons/.
 */
export const LESSONS_DIR = new URL('../../lessons/', import.meta.url);

/** `01` of `01-tcp-echo`: how a lesson is numbered in the list and on the command line. */
export function lessonNumber(entry: CatalogueEntry): string {
  return entry.file.slice(0, entry.file.indexOf('-'));
}

/** `tcp-echo` of `01-tcp-echo`. */
export function lessonSlug(entry: CatalogueEntry): string {
  return entry.file.slice(entry.file.indexOf('-') + 1);
}

/**
 * The lesson a student means: `1`, `01`, `tcp-echo` or `01-tcp-echo` (any case). Throws a
 * UsageError listing the lessons for anything else.
 */
export function findLesson(query: string): CatalogueEntry {
  const wanted = query.trim().toLowerCase();
  const entry = CATALOGUE.find((candidate) =>
    /^[0-9]+$/.test(wanted)
      ? Number(wanted) === Number(lessonNumber(candidate))
      : wanted === candidate.file || wanted === lessonSlug(candidate),
  );
  if (entry) return entry;
  const first = lessonNumber(CATALOGUE[0]!);
  const last = lessonNumber(CATALOGUE[CATALOGUE.length - 1]!);
  throw new UsageError(
    `there is no lesson "${query}": give a number from ${first} to ${last} or a name (${CATALOGUE.map(lessonSlug).join(', ')}).`,
  );
}

/** The next lesson in course order, or undefined after the last. */
export function nextLesson(entry: CatalogueEntry): CatalogueEntry | undefined {
  return CATALOGUE[CATALOGUE.indexOf(entry) + 1];
}

/** Where a lesson's Markdown is in `dir` (LESSONS_DIR, or a translation's folder). */
export function lessonUrl(entry: CatalogueEntry, dir: URL = LESSONS_DIR): URL {
  return new URL(`${entry.file}.md`, dir);
}

/** Resolves to a lesson's Markdown; rejects with the file system's error if it is missing. */
export function readLesson(entry: CatalogueEntry, dir: URL = LESSONS_DIR): Promise<string> {
  return readFile(lessonUrl(entry, dir), 'utf8');
}

/** A lesson's `# ` title without its number: `TCP echo: a server, …` of `01 · TCP echo: …`. */
export function displayTitle(title: string): string {
  return title.replace(/^[0-9]+\s*·\s*/, '');
}
