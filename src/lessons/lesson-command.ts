/**
 * `netlab lessons` lists the course; `netlab lesson N [--step K]` shows a lesson in the
 * terminal, whole or one step at a time, so a student can read it beside the terminals it
 * asks for (lessons/README.md) without a browser.
 *
 * The lessons are found next to the package (catalogue.ts) and rendered by the pure
 * render-lesson.ts; this file builds the one thing that needs chalk, the Painter, and only when
 * colour is on: piped, with NO_COLOR or with --no-color the lines are plain text. No pager:
 * a terminal scrolls, and `netlab lesson 1 | less` works as well as anything would.
 *
 * `--lang uk`, or a locale starting with `uk`, shows the Ukrainian lessons (language.ts); a
 * lesson not translated yet is shown in English, with a note on stderr.
 */
import { Chalk } from 'chalk';
import { Command, Option } from 'commander';
import { argParser, outputFor } from '../core/commands.js';
import { UsageError } from '../core/errors.js';
import { CATALOGUE, displayTitle, findLesson, lessonNumber, nextLesson, type CatalogueEntry } from './catalogue.js';
import { LANGUAGES, chooseLanguage, fallbackNote, langFlag, lessonsPath, parseLanguage, readLessonIn } from './language.js';
import { parseLesson } from './lesson-format.js';
import { lessonSteps, renderMarkdown, type Painter } from './render-lesson.js';
import { displayWidth, layoutTable, type Span } from './render-table.js';

/** Prose is easiest to read at this width or less, on a screen and on a projector. */
const MAX_WIDTH = 80;
/** Below this a terminal is too narrow to lay anything out; lines then overflow instead. */
const MIN_WIDTH = 20;

/** --lang, the same on both commands. */
function langOption(): Option {
  return new Option('--lang <code>', `the lessons' language: ${LANGUAGES.join(' or ')} (default: uk if LC_ALL or LANG starts with uk)`).argParser(
    argParser(parseLanguage),
  );
}

/** `netlab lessons`: number, title, lab and minutes of every lesson. */
export function lessonsCommand(): Command {
  return new Command('lessons')
    .description('list the course: every lesson, its lab, and about how long it takes')
    .addOption(langOption())
    .addHelpText(
      'after',
      `
Examples:
  netlab lessons                     the course, in order
  netlab lesson 1                    then read lesson 01 in the terminal
  netlab lessons --lang uk           the course in Ukrainian`,
    )
    .action(async (opts: { lang?: string }, command: Command) => {
      const choice = chooseLanguage(opts.lang);
      const output = outputFor(command);
      const painter = output.color ? chalkPainter() : undefined;
      output.data(`Lessons (read one with \`netlab lesson N${langFlag(choice)}\`):`);
      // Two lines a lesson: its number and title, then what it needs; a title too long for the
      // terminal goes on under itself, so the numbers still line up.
      for (const entry of CATALOGUE) {
        const lesson = await readLessonIn(entry, choice.lang);
        const title = displayTitle(parseLesson(lesson.source).title);
        const row: Span[][] = [[{ text: lessonNumber(entry), style: 'bold' }], [{ text: title }]];
        for (const line of layoutTable([row], { width: screenWidth() - 2, align: ['left', 'left'], rowGap: 'never', painter })) {
          output.data(`  ${line}`);
        }
        const english = lesson.lang !== choice.lang ? ' · in English' : '';
        output.data(`      ${entry.lab ? `lab ${entry.lab}` : 'no lab: the map of the course'} · about ${entry.minutes} min${english}`);
      }
    });
}

/** `netlab lesson N|slug [--step K]`: the lesson, or one step of it, rendered to the terminal. */
export function lessonCommand(): Command {
  return new Command('lesson')
    .description('show a lesson in the terminal, whole or one step at a time')
    .argument('<lesson>', 'its number (1 or 01) or its name (tcp-echo or 01-tcp-echo); `netlab lessons` lists them')
    .addOption(new Option('--step <k>', 'show only step K: the ## sections, numbered from 1'))
    .addOption(langOption())
    .addHelpText(
      'after',
      `
Examples:
  netlab lesson 1                    lesson 01, whole
  netlab lesson tcp-echo --step 3    its third step, and the command for the next
  netlab lesson 0 | less             piped: plain text, no colours
  netlab lesson 1 --lang uk          lesson 01 in Ukrainian`,
    )
    .action(async (query: string, opts: { step?: string; lang?: string }, command: Command) => {
      const entry = findLesson(query);
      const choice = chooseLanguage(opts.lang);
      const output = outputFor(command);
      const painter = output.color ? chalkPainter() : undefined;
      const width = screenWidth();
      const { source, lang } = await readLessonIn(entry, choice.lang);
      if (lang !== choice.lang) output.note(fallbackNote(entry, choice.lang));
      const linkBase = lessonsPath(lang);
      if (opts.step === undefined) {
        for (const line of renderMarkdown(source, { width, painter, linkBase })) output.data(line);
        return;
      }
      const steps = lessonSteps(source);
      const k = stepNumber(opts.step, entry, steps.length);
      const step = steps[k - 1]!;
      const number = lessonNumber(entry);
      const header = fit(`lesson ${number} · step ${k} of ${steps.length} · ${step.title}`, width);
      output.data(painter ? painter.bold(header) : header);
      output.data('');
      for (const line of renderMarkdown(step.markdown, { width, painter, linkBase })) output.data(line);
      output.data('');
      const footer = fit(whatNext(entry, k, steps.map((s) => s.title), langFlag(choice)), width);
      output.data(painter ? painter.dim(footer) : footer);
    });
}

/** --step's value as a step of this lesson: a whole number from 1 to the number of steps. */
function stepNumber(value: string, entry: CatalogueEntry, count: number): number {
  const k = /^[0-9]+$/.test(value.trim()) ? Number(value) : NaN;
  if (!(k >= 1 && k <= count)) {
    throw new UsageError(`--step must be a step of lesson ${lessonNumber(entry)}, 1..${count}, not "${value}".`);
  }
  return k;
}

/**
 * The line under a step: the command for the next step, or for the next lesson after the last,
 * with `flag` (` --lang uk`, or nothing) so that it shows them in the same language.
 */
function whatNext(entry: CatalogueEntry, k: number, titles: string[], flag: string): string {
  if (k < titles.length) return `next: netlab lesson ${lessonNumber(entry)} --step ${k + 1}${flag} (${titles[k]})`;
  const next = nextLesson(entry);
  return next ? `last step; next lesson: netlab lesson ${lessonNumber(next)}${flag}` : 'last step of the course';
}

/** A one-line text cut with … to the width. */
function fit(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let cut = '';
  for (const char of text) {
    if (displayWidth(cut + char) > width - 1) break;
    cut += char;
  }
  return `${cut.trimEnd()}…`;
}

/** The terminal's columns up to MAX_WIDTH; MAX_WIDTH when stdout is not a terminal. */
function screenWidth(): number {
  const columns = process.stdout.isTTY ? process.stdout.columns : undefined;
  return columns ? Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, columns)) : MAX_WIDTH;
}

/** The styles of a lesson on a colour terminal; 16 colours, as Output uses. */
function chalkPainter(): Painter {
  const chalk = new Chalk({ level: 1 });
  return {
    heading: (text, level) => (level <= 2 ? chalk.bold.underline(text) : chalk.bold(text)),
    code: (text) => chalk.cyan(text),
    command: (text) => chalk.bold(text),
    bold: (text) => chalk.bold(text),
    emphasis: (text) => chalk.italic(text),
    dim: (text) => chalk.dim(text),
  };
}
