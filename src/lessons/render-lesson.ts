/**
 * A lesson's Markdown as terminal lines, for `netlab lesson` (src/lessons/lesson-command.ts):
 * what a student reads beside the terminals the lesson asks for, on a screen or a projector.
 *
 * Pure: a string in, lines out, for a width and an optional Painter (render-table.ts). With a
 * painter, colour is on: headings, inline code and commands are styled and Markdown's markers
 * (backticks, `**`) are dropped. Without one, the lines are plain text that still reads when
 * piped: markers stay, headings get a rule under them, and nothing is an escape code.
 *
 * Prose (paragraphs, list items, blockquotes, table cells) is re-wrapped to the width. Code is
 * never re-wrapped: a command cut in two could not be copied. A ```console terminal=N block
 * (lessons/README.md) gets a label naming its terminal. The Markdown understood is the part
 * of CommonMark and GitHub's tables that lessons use; left out: HTML other than comments
 * (shown as text), reference-style links, footnotes, task lists, tab stops.
 */
import { parseLesson } from './lesson-format.js';
import { parseInline } from './render-inline.js';
import { layoutTable, paintSpans, spansWidth, wrapSpans, type Align, type Painter } from './render-table.js';

export type { Painter } from './render-table.js';

export interface RenderOptions {
  /** The widest a prose line may be; code lines keep their length. */
  width: number;
  /** Colour is on exactly when a painter is given. */
  painter?: Painter;
  /**
   * Where relative links point from, as a path the student can open: `[lesson 01](01-tcp-echo.md)`
   * becomes `lesson 01 (lessons/01-tcp-echo.md)`. Default `lessons/`.
   */
  linkBase?: string;
}

/** How far code blocks are indented, when the width leaves room. */
const CODE_INDENT = 4;

/** Markdown as lines of at most `options.width` columns, except code lines that are longer. */
export function renderMarkdown(source: string, options: RenderOptions): string[] {
  const context: Context = { painter: options.painter, linkBase: options.linkBase ?? 'lessons/' };
  return renderBlocks(source.split(/\r?\n/), Math.max(1, options.width), context);
}

/** One step of a lesson: its `## ` title and its Markdown. */
export interface LessonStep {
  title: string;
  markdown: string;
}

/**
 * A lesson's steps, the `## ` sections (parseLesson), in order. The title and the text before
 * the first `## ` come with step 1; a lesson without `## ` is one step named by its title.
 * Throws LessonFormatError for a lesson that breaks the format.
 */
export function lessonSteps(source: string): LessonStep[] {
  const lines = source.split(/\r?\n/);
  const lesson = parseLesson(source);
  if (lesson.steps.length === 0) return [{ title: lesson.title, markdown: source }];
  return lesson.steps.map((step, i) => ({
    title: step.title,
    markdown: lines.slice(i === 0 ? 0 : step.line - 1, step.endLine).join('\n'),
  }));
}

/** What rendering needs besides the text: the painter (colour on) and where links point from. */
export interface Context {
  painter: Painter | undefined;
  linkBase: string;
}

const FENCE = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const THEMATIC_BREAK = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const BLOCKQUOTE = /^ {0,3}> ?/;
const LIST_ITEM = /^( {0,3})([-+*]|[0-9]{1,9}[.)])(?:( +)(.*))?$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
const TABLE_DELIMITER = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;
const INDENTED_CODE = /^( {4}|\t)/;

/** Renders a run of blocks, separated by one blank line (none in a tight list's item). */
function renderBlocks(lines: string[], width: number, context: Context, gap = true): string[] {
  const blocks: string[][] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '') {
      i++;
    } else if (/^ {0,3}<!--/.test(line)) {
      // A comment is a note for authors: hidden, up to the line that closes it.
      while (i < lines.length && !lines[i]!.includes('-->')) i++;
      i++;
    } else if (isFence(line)) {
      const [, indent = '', marker = '', info = ''] = FENCE.exec(line)!;
      const end = closingFence(lines, i + 1, marker);
      const body = lines.slice(i + 1, end).map((text) => text.slice(Math.min(indent.length, text.length - text.trimStart().length)));
      blocks.push(renderCode(body, info.trim(), width, context));
      i = end + 1;
    } else if (ATX_HEADING.test(line)) {
      const [, marks = '', text = ''] = ATX_HEADING.exec(line)!;
      blocks.push(renderHeading(text, marks.length, width, context));
      i++;
    } else if (THEMATIC_BREAK.test(line)) {
      blocks.push([dim('─'.repeat(width), context)]);
      i++;
    } else if (BLOCKQUOTE.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && (BLOCKQUOTE.test(lines[i]!) || isLazyContinuation(lines[i]!, quoted))) {
        quoted.push(lines[i]!.replace(BLOCKQUOTE, ''));
        i++;
      }
      const bar = dim('│', context);
      blocks.push(renderBlocks(quoted, width - 2, context).map((inner) => (inner === '' ? bar : `${bar} ${inner}`)));
    } else if (LIST_ITEM.exec(line)) {
      const list = collectList(lines, i);
      blocks.push(renderList(list, width, context));
      i = list.end;
    } else if (isTableStart(lines, i)) {
      const delimiter = lines[i + 1]!;
      const body: string[] = [];
      i += 2;
      while (i < lines.length && lines[i]!.trim() !== '' && !startsBlock(lines[i]!)) body.push(lines[i++]!);
      blocks.push(renderTable(line, delimiter, body, width, context));
    } else if (INDENTED_CODE.test(line)) {
      const body: string[] = [];
      while (i < lines.length && (INDENTED_CODE.test(lines[i]!) || lines[i]!.trim() === '')) body.push(lines[i++]!.replace(INDENTED_CODE, ''));
      while (body.length > 0 && body[body.length - 1]!.trim() === '') body.pop();
      blocks.push(renderCode(body, '', width, context));
    } else {
      const paragraph: string[] = [line];
      i++;
      while (i < lines.length && lines[i]!.trim() !== '' && !interruptsParagraph(lines[i]!)) paragraph.push(lines[i++]!);
      const underline = i < lines.length ? SETEXT_UNDERLINE.exec(lines[i]!) : null;
      if (underline) {
        blocks.push(renderHeading(paragraph.map((text) => text.trim()).join(' '), underline[1]!.startsWith('=') ? 1 : 2, width, context));
        i++;
      } else {
        blocks.push(renderProse(paragraph, width, context));
      }
    }
  }
  return blocks.flatMap((block, k) => (k === 0 || !gap ? block : ['', ...block]));
}

function isFence(line: string): boolean {
  const fence = FENCE.exec(line);
  // CommonMark: a backtick fence's info string may not contain a backtick (it is inline code).
  return fence !== null && !(fence[2]!.startsWith('`') && fence[3]!.includes('`'));
}

/** The line that closes a fence opened with `marker`, or the end: an open fence runs to it. */
function closingFence(lines: string[], from: number, marker: string): number {
  for (let i = from; i < lines.length; i++) {
    const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(lines[i]!);
    if (close && close[1]![0] === marker[0] && close[1]!.length >= marker.length) return i;
  }
  return lines.length;
}

/** A line that ends a paragraph without a blank line before it (CommonMark's interruptions). */
function interruptsParagraph(line: string): boolean {
  if (SETEXT_UNDERLINE.test(line)) return true;
  const item = LIST_ITEM.exec(line);
  // An ordered item interrupts a paragraph only if it starts at 1: "in\n60. seconds" is one paragraph.
  if (item) return item[4] !== undefined && item[4].trim() !== '' && (/^[-+*]$/.test(item[2]!) || /^1[.)]$/.test(item[2]!));
  return startsBlock(line);
}

/** Headings, fences, quotes, rules and comments: blocks that start on any line. */
function startsBlock(line: string): boolean {
  return isFence(line) || ATX_HEADING.test(line) || THEMATIC_BREAK.test(line) || BLOCKQUOTE.test(line) || /^ {0,3}<!--/.test(line) || LIST_ITEM.test(line);
}

/** A line that continues the paragraph above it although it lacks the indentation or `>`. */
function isLazyContinuation(line: string, above: string[]): boolean {
  const last = above[above.length - 1];
  return last !== undefined && last.trim() !== '' && !isFence(last.trim()) && line.trim() !== '' && !startsBlock(line) && !SETEXT_UNDERLINE.test(line);
}

function renderHeading(text: string, level: number, width: number, context: Context): string[] {
  const painter = context.painter;
  const lines = wrapSpans(parseInline(text, context), width);
  if (painter) return lines.map((spans) => painter.heading(paintSpans(spans, painter), level));
  // Plain: a rule under the text, so a heading stands out in a pipe or a file too.
  const ruleWidth = Math.max(1, ...lines.map(spansWidth));
  return [...lines.map((spans) => paintSpans(spans, undefined)), (level === 1 ? '═' : '─').repeat(ruleWidth)];
}

/** Paragraph lines re-wrapped; a line ending in two spaces or a backslash keeps its break. */
function renderProse(lines: string[], width: number, context: Context): string[] {
  let text = '';
  lines.forEach((line, k) => {
    const hardBreak = k < lines.length - 1 && /( {2,}|\\)$/.test(line);
    const content = line.trim().replace(/\\$/, hardBreak ? '' : '\\');
    text += content + (k === lines.length - 1 ? '' : hardBreak ? '\n' : ' ');
  });
  return wrapSpans(parseInline(text, context), width).map((spans) => paintSpans(spans, context.painter));
}

/**
 * A code block, never re-wrapped: indented by CODE_INDENT, or less when that would push its
 * longest line past the width (one indent for the whole block, so its columns stay aligned).
 */
function renderCode(body: string[], info: string, width: number, context: Context): string[] {
  const lines = body.map((line) => line.trimEnd());
  const widest = Math.max(0, ...lines.map((line) => spansWidth([{ text: line }])));
  const indent = ' '.repeat(Math.max(0, Math.min(CODE_INDENT, width - widest)));
  const words = info.split(/\s+/);
  const terminal = words[0] === 'console' ? /^terminal=([0-9]+)$/.exec(words[1] ?? '')?.[1] : undefined;
  const painter = context.painter;
  const shown = lines.map((line) => {
    if (line === '') return '';
    // In a session, what the student types after `$` is what matters most.
    const isCommand = terminal !== undefined && (line === '$' || line.startsWith('$ '));
    return indent + (painter && isCommand ? painter.command(line) : line);
  });
  return terminal === undefined ? shown : [indent + dim(`── terminal ${terminal} ──`, context), ...shown];
}

interface ListItem {
  lines: string[];
}

interface List {
  ordered: boolean;
  start: number;
  delimiter: string;
  items: ListItem[];
  /**
   * A blank line between items, or between the blocks of one, makes a list loose (CommonMark
   * 5.3): its items and their blocks are separated by blank lines on screen too.
   */
  loose: boolean;
  /** The index of the first line after the list. */
  end: number;
}

/** The list that starts at `lines[from]`: its items' lines, without their markers and indentation. */
function collectList(lines: string[], from: number): List {
  const first = LIST_ITEM.exec(lines[from]!)!;
  const ordered = !/^[-+*]$/.test(first[2]!);
  const kind = ordered ? first[2]!.slice(-1) : first[2]!;
  const list: List = { ordered, start: ordered ? Number(first[2]!.slice(0, -1)) : 1, delimiter: kind, items: [], loose: false, end: from };
  let i = from;
  while (i < lines.length) {
    const marker = LIST_ITEM.exec(lines[i]!);
    if (!marker || THEMATIC_BREAK.test(lines[i]!)) break;
    const itemKind = /^[-+*]$/.test(marker[2]!) ? marker[2]! : marker[2]!.slice(-1);
    if (itemKind !== kind || /^[-+*]$/.test(marker[2]!) === ordered) break;
    const spaces = marker[3]?.length ?? 1;
    // More than four spaces after the marker: the content starts after one (CommonMark 5.2).
    const contentOffset = marker[1]!.length + marker[2]!.length + (spaces > 4 || marker[4] === '' ? 1 : spaces);
    const item: ListItem = { lines: [marker[4] ?? ''] };
    if (spaces > 4) item.lines[0] = ' '.repeat(spaces - 1) + (marker[4] ?? '');
    i++;
    let inFence = isFence(item.lines[0]!.trim());
    while (i < lines.length) {
      const line = lines[i]!;
      const indented = line.length - line.trimStart().length >= contentOffset;
      if (line.trim() === '') {
        // A blank line stays in the item only if the item goes on after it.
        let next = i;
        while (next < lines.length && lines[next]!.trim() === '') next++;
        const nextLine = lines[next];
        if (nextLine === undefined || nextLine.length - nextLine.trimStart().length < contentOffset) break;
        item.lines.push('');
      } else if (indented) {
        item.lines.push(line.slice(contentOffset));
        if (isFence(line.slice(contentOffset).trim())) inFence = !inFence;
      } else if (!inFence && isLazyContinuation(line, item.lines) && !LIST_ITEM.test(line)) {
        item.lines.push(line.trim());
      } else {
        break;
      }
      i++;
    }
    list.items.push(item);
    if (item.lines.some((line) => line.trim() === '')) list.loose = true;
    // Blank lines before the next item make the list loose.
    let next = i;
    while (next < lines.length && lines[next]!.trim() === '') next++;
    const following = next < lines.length ? LIST_ITEM.exec(lines[next]!) : null;
    if (!following || THEMATIC_BREAK.test(lines[next]!)) break;
    if (next > i) list.loose = true;
    i = next;
  }
  list.end = i;
  return list;
}

/** Items under their marker, every line after the first indented to the item's text. */
function renderList(list: List, width: number, context: Context): string[] {
  const markers = list.items.map((_, k) => (list.ordered ? `${list.start + k}${list.delimiter}` : '•'));
  const markerWidth = Math.max(...markers.map((marker) => marker.length)) + 1;
  const out: string[] = [];
  list.items.forEach((item, k) => {
    if (k > 0 && list.loose) out.push('');
    const inner = renderBlocks(item.lines, width - markerWidth, context, list.loose);
    if (inner.length === 0) inner.push('');
    inner.forEach((line, n) => {
      const prefix = n === 0 ? markers[k]!.padEnd(markerWidth) : ' '.repeat(markerWidth);
      out.push(line === '' && n > 0 ? '' : (prefix + line).trimEnd());
    });
  });
  return out;
}

/** A GitHub table: a header row, then a row of `---` (with `:` for alignment) right under it. */
function isTableStart(lines: string[], i: number): boolean {
  const header = lines[i]!;
  const delimiter = lines[i + 1];
  if (delimiter === undefined || !header.includes('|') || !TABLE_DELIMITER.test(delimiter)) return false;
  if (!delimiter.includes('|') && !header.trim().startsWith('|')) return false;
  return tableCells(header).length === tableCells(delimiter).length;
}

/** A table laid out to the width (render-table.ts), its header bold and ruled. */
function renderTable(header: string, delimiter: string, body: string[], width: number, context: Context): string[] {
  const align = tableCells(delimiter).map((cell): Align => {
    if (cell.startsWith(':') && cell.endsWith(':')) return 'center';
    return cell.endsWith(':') ? 'right' : 'left';
  });
  const rows = [header, ...body].map((row) => {
    const cells = tableCells(row);
    // GitHub: missing cells are empty, extra ones are ignored.
    return align.map((_, c) => parseInline(cells[c] ?? '', context));
  });
  return layoutTable(rows, { width, align, header: true, rowGap: 'auto', painter: context.painter });
}

/** A table row's cells: split at every `|` that is not escaped, outer pipes dropped. */
function tableCells(row: string): string[] {
  let text = row.trim();
  if (text.startsWith('|')) text = text.slice(1);
  if (text.endsWith('|') && !text.endsWith('\\|')) text = text.slice(0, -1);
  return text.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

function dim(text: string, context: Context): string {
  return context.painter ? context.painter.dim(text) : text;
}
