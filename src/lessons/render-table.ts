/**
 * Text in columns, for `netlab lesson` and `netlab lessons` (src/lessons/lesson-command.ts):
 * styled spans, their width on a terminal, word wrapping, and tables laid out to a width.
 *
 * Pure: spans in, strings out. Styles are painted by a Painter the caller passes (the command
 * builds one from chalk when colour is on); without one every line is plain text. Widths are
 * measured on the text before it is painted, so escape codes never count.
 *
 * Left out: bidirectional text, and the full Unicode width tables: wide characters are the
 * common CJK and emoji blocks, combining marks are zero-width, everything else is one column.
 */

/** How a span is shown when colour is on. */
export type SpanStyle = 'code' | 'bold' | 'emphasis' | 'dim';

/** A run of text in one style; `break` is a forced line break (a Markdown hard break). */
export interface Span {
  text: string;
  style?: SpanStyle | 'break';
}

/** String → string functions that add colour or weight; see render-lesson.ts for who calls which. */
export interface Painter {
  /** A heading's line; level 1 is the lesson's title, 2 a step. */
  heading(text: string, level: number): string;
  /** Inline code (its backticks already dropped). */
  code(text: string): string;
  /** A `$ command` line of a terminal session. */
  command(text: string): string;
  bold(text: string): string;
  emphasis(text: string): string;
  /** Rules, labels and link targets: what frames the text. */
  dim(text: string): string;
}

/** Two spaces between columns, as the lessons' own text tables have. */
export const COLUMN_GAP = 2;

/**
 * Columns a string takes on a terminal: 2 for a wide character (CJK, most emoji), 0 for a
 * combining mark or a zero-width character, 1 for the rest.
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char.codePointAt(0)!);
  return width;
}

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200b-\u200f\u2060\ufe00-\ufe0f]$/u;

function charWidth(code: number): number {
  if (ZERO_WIDTH.test(String.fromCodePoint(code))) return 0;
  const wide =
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf && code !== 0x303f) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x20000 && code <= 0x3fffd);
  return wide ? 2 : 1;
}

/** The width of a line of spans. */
export function spansWidth(spans: readonly Span[]): number {
  return spans.reduce((sum, span) => sum + displayWidth(span.text), 0);
}

/** A line of spans as a string, each span painted in its style (or plain without a painter). */
export function paintSpans(spans: readonly Span[], painter: Painter | undefined): string {
  if (!painter) return spans.map((span) => span.text).join('');
  // Neighbours in one style are painted as one run: fewer escape codes for the terminal.
  const runs: Span[] = [];
  for (const span of spans) {
    const last = runs[runs.length - 1];
    if (last && last.style === span.style) last.text += span.text;
    else runs.push({ ...span });
  }
  return runs.map(({ text, style }) => (style && style !== 'break' ? painter[style](text) : text)).join('');
}

export interface WrapOptions {
  /** Cut a word that is wider than the line (a table cell); otherwise it overflows. */
  breakWords?: boolean;
}

/**
 * Fills lines of at most `width` columns, breaking at spaces. Runs of whitespace become one
 * space. A code span is kept whole, so `netlab tcp-echo serve` is never split, unless it is
 * wider than a line by itself; a word wider than a line overflows unless `breakWords`.
 */
export function wrapSpans(spans: readonly Span[], width: number, options: WrapOptions = {}): Span[][] {
  const lines: Span[][] = [];
  let line: Span[] = [];
  let lineWidth = 0;
  const endLine = () => {
    lines.push(line);
    line = [];
    lineWidth = 0;
  };
  for (const word of words(spans, width)) {
    if (word === 'break') {
      endLine();
      continue;
    }
    const pieces = options.breakWords ? cutWord(word, width) : [word];
    for (const piece of pieces) {
      const pieceWidth = spansWidth(piece);
      if (lineWidth > 0 && lineWidth + 1 + pieceWidth > width) endLine();
      if (lineWidth > 0) {
        // Between two bold words the space is bold too, so the run is painted once.
        const before = line[line.length - 1]?.style;
        line.push(before !== undefined && before !== 'code' && before === piece[0]?.style ? { text: ' ', style: before } : { text: ' ' });
        lineWidth++;
      }
      line.push(...piece);
      lineWidth += pieceWidth;
    }
  }
  if (line.length > 0 || lines.length === 0) lines.push(line);
  return lines;
}

/** The words of a run of spans: what lies between break opportunities, or a forced break. */
function words(spans: readonly Span[], width: number): (Span[] | 'break')[] {
  const result: (Span[] | 'break')[] = [];
  let word: Span[] = [];
  const endWord = () => {
    if (word.length > 0) result.push(word);
    word = [];
  };
  for (const span of spans) {
    if (span.style === 'break') {
      endWord();
      result.push('break');
    } else if (span.style === 'code' && displayWidth(span.text) <= width) {
      word.push(span);
    } else {
      span.text.split(/(\s+)/).forEach((part, i) => {
        if (i % 2 === 1) endWord();
        else if (part !== '') word.push({ ...span, text: part });
      });
    }
  }
  endWord();
  return result;
}

/** A word cut into pieces of at most `width` columns (at least one character each). */
function cutWord(word: Span[], width: number): Span[][] {
  if (spansWidth(word) <= width) return [word];
  const pieces: Span[][] = [];
  let piece: Span[] = [];
  let pieceWidth = 0;
  for (const span of word) {
    for (const char of span.text) {
      const w = displayWidth(char);
      if (pieceWidth > 0 && pieceWidth + w > width) {
        pieces.push(piece);
        piece = [];
        pieceWidth = 0;
      }
      const last = piece[piece.length - 1];
      if (last && last.style === span.style) last.text += char;
      else piece.push({ ...span, text: char });
      pieceWidth += w;
    }
  }
  if (piece.length > 0) pieces.push(piece);
  return pieces;
}

export type Align = 'left' | 'right' | 'center';

export interface TableLayout {
  /** The widest a line may be, gaps included. */
  width: number;
  /** Per column; left when missing. */
  align?: readonly Align[];
  /** The first row is a header: bold, with a rule of `─` under each column. */
  header?: boolean;
  /**
   * A blank line between rows: 'auto' when some row takes several lines (so each row reads as
   * one), 'never' for a list whose first column starts every row anyway.
   */
  rowGap?: 'auto' | 'never';
  painter?: Painter;
}

/**
 * A table's lines: columns sized to their content and separated by two spaces. When the
 * table is wider than `layout.width`, the widest column gives up a column at a time, down to
 * its longest word, then further by cutting words; cells wrap within their column.
 */
export function layoutTable(rows: readonly (readonly Span[][])[], layout: TableLayout): string[] {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const cell = (row: readonly Span[][], c: number): Span[] => row[c] ?? [];
  const natural = range(columns).map((c) => Math.max(1, ...rows.map((row) => spansWidth(cell(row, c)))));
  const longestWord = range(columns).map((c) =>
    Math.max(1, ...rows.flatMap((row) => words(cell(row, c), Infinity).map((w) => (w === 'break' ? 0 : spansWidth(w))))),
  );
  const widths = fitColumns(natural, longestWord, layout.width - COLUMN_GAP * (columns - 1));

  const painter = layout.painter;
  const wrapped = rows.map((row, r) =>
    range(columns).map((c) => {
      const spans = layout.header && r === 0 ? cell(row, c).map((s) => (s.style ? s : { ...s, style: 'bold' as const })) : cell(row, c);
      return wrapSpans(spans, widths[c]!, { breakWords: true });
    }),
  );
  const gap = layout.rowGap !== 'never' && wrapped.some((row, r) => !(layout.header && r === 0) && row.some((lines) => lines.length > 1));

  const out: string[] = [];
  wrapped.forEach((row, r) => {
    if (gap && r > 0 && !(layout.header && r === 1)) out.push('');
    const height = Math.max(1, ...row.map((lines) => lines.length));
    for (let k = 0; k < height; k++) {
      const cells = row.map((lines, c) => pad(lines[k] ?? [], widths[c]!, layout.align?.[c] ?? 'left', painter));
      out.push(cells.join(' '.repeat(COLUMN_GAP)).trimEnd());
    }
    if (layout.header && r === 0) {
      const rule = widths.map((w) => '─'.repeat(w)).join(' '.repeat(COLUMN_GAP));
      out.push(painter ? painter.dim(rule) : rule);
    }
  });
  return out;
}

/** Column widths that fit `available`: the widest column shrinks first, words cut last. */
function fitColumns(natural: number[], longestWord: number[], available: number): number[] {
  const widths = [...natural];
  const total = () => widths.reduce((sum, w) => sum + w, 0);
  const shrink = (floor: (c: number) => number): void => {
    while (total() > available) {
      let widest = -1;
      widths.forEach((w, c) => {
        if (w > floor(c) && (widest === -1 || w > widths[widest]!)) widest = c;
      });
      if (widest === -1) return;
      widths[widest]!--;
    }
  };
  shrink((c) => longestWord[c]!);
  // Still too wide: cut words, but keep every column wide enough to read a short word.
  shrink((c) => Math.min(natural[c]!, 4));
  return widths;
}

function pad(spans: Span[], width: number, align: Align, painter: Painter | undefined): string {
  const room = Math.max(0, width - spansWidth(spans));
  const left = align === 'right' ? room : align === 'center' ? Math.floor(room / 2) : 0;
  return ' '.repeat(left) + paintSpans(spans, painter) + ' '.repeat(room - left);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
