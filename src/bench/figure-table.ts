/**
 * The table of one benchmark figure, laid out for a terminal: a label column (the metric),
 * then short columns of numbers, ratios and targets. render-table.ts's layoutTable shrinks the
 * widest column first, which here squeezes the labels while the number columns keep the width
 * of their headers' server names; this layout does the opposite, since numbers cannot wrap:
 *
 *   - every other column takes the width of its widest value, its header wrapping at spaces
 *     (`netlab` over `--quiet`);
 *   - the label column takes what is left, and a label that does not fit goes on under itself,
 *     indented, so each row still starts where its label does;
 *   - when that leaves too little for a label (many servers, a narrow terminal), each label
 *     gets a line of its own above its numbers;
 *   - when even the numbers do not fit, render-table.ts's layoutTable cuts what it must.
 *
 * Pure: strings in, lines out; bold and dim from the caller's Painter. Widths are measured
 * before painting, so escape codes never count.
 */
import { COLUMN_GAP, displayWidth, layoutTable, wrapSpans, type Align, type Painter, type Span } from '../lessons/render-table.js';

/** Below this, a label column is too narrow to read: labels then go on lines of their own. */
export const MIN_LABEL_WIDTH = 16;

/** Continuation lines of a label are indented by this much. */
const HANGING_INDENT = 2;

export interface FigureTable {
  /** The column headers: the first is the figure's name. */
  header: readonly string[];
  /** One row per metric: the label first, then one string per column. */
  rows: readonly (readonly string[])[];
  /** Alignment of the columns after the label (index 0 is the first of them). */
  align: readonly Align[];
}

/** The table's lines, none wider than `width` (unless a single word is). */
export function layoutFigureTable(table: FigureTable, width: number, painter?: Painter): string[] {
  const columns = table.header.length - 1;
  const rest = Array.from({ length: columns }, (_, i) => {
    const body = Math.max(0, ...table.rows.map((row) => displayWidth(row[i + 1] ?? '')));
    const headerWord = Math.max(0, ...(table.header[i + 1] ?? '').split(' ').map(displayWidth));
    return Math.max(1, body, headerWord);
  });
  const restWidth = rest.reduce((sum, w) => sum + w, 0) + COLUMN_GAP * columns;
  const labelNatural = Math.max(displayWidth(table.header[0] ?? ''), ...table.rows.map((row) => displayWidth(row[0] ?? '')));
  const labelRoom = width - restWidth;

  if (labelRoom >= Math.min(labelNatural, MIN_LABEL_WIDTH)) {
    return render(table, [Math.min(labelNatural, labelRoom), ...rest], false, painter);
  }
  if (HANGING_INDENT + restWidth <= width) return render(table, [HANGING_INDENT, ...rest], true, painter);
  const cells = [table.header, ...table.rows].map((row) => row.map((text): Span[] => [{ text }]));
  return layoutTable(cells, { width, align: ['left', ...table.align], header: true, painter });
}

/**
 * The lines for these column widths. With `labelsAbove`, column 0 is only an indent and each
 * label (the figure's name too) is printed on its own line first.
 */
function render(table: FigureTable, widths: readonly number[], labelsAbove: boolean, painter: Painter | undefined): string[] {
  const bold = (text: string) => (painter && text.trim() !== '' ? painter.bold(text) : text);
  const fullWidth = widths.reduce((sum, w) => sum + w, 0) + COLUMN_GAP * (widths.length - 1);
  const out: string[] = [];
  const row = (cells: readonly string[], isHeader: boolean) => {
    const label = cells[0] ?? '';
    if (labelsAbove) out.push(...hanging(label, fullWidth).map((line) => (isHeader ? bold(line) : line)));
    const wrapped = widths.map((w, c) => {
      if (c === 0) return labelsAbove ? [''] : hanging(label, w);
      return isHeader ? headerLines(cells[c] ?? '', w) : [cells[c] ?? ''];
    });
    const height = Math.max(...wrapped.map((lines) => lines.length));
    // A header's cells sit on its last line, as a spreadsheet's do; body cells on the first.
    const top = (lines: string[]) => (isHeader ? height - lines.length : 0);
    for (let k = 0; k < height; k++) {
      const line = wrapped.map((lines, c) => {
        const text = lines[k - top(lines)] ?? '';
        const padded = pad(text, widths[c]!, c === 0 ? 'left' : (table.align[c - 1] ?? 'left'));
        return isHeader ? bold(padded) : padded;
      });
      out.push(line.join(' '.repeat(COLUMN_GAP)).trimEnd());
    }
  };
  row(table.header, true);
  const rule = widths.map((w, c) => (c === 0 && labelsAbove ? ' '.repeat(w) : '─'.repeat(w))).join(' '.repeat(COLUMN_GAP));
  out.push(painter ? painter.dim(rule) : rule);
  for (const cells of table.rows) row(cells, false);
  return out;
}

/** `text` wrapped to `width`, its later lines indented by HANGING_INDENT. */
export function hanging(text: string, width: number): string[] {
  const [first = [], ...more] = wrapSpans([{ text }], width, { breakWords: true });
  if (more.length === 0) return [plain(first)];
  const rest = wrapSpans([{ text: more.map(plain).join(' ') }], Math.max(1, width - HANGING_INDENT), { breakWords: true });
  return [plain(first), ...rest.map((spans) => ' '.repeat(HANGING_INDENT) + plain(spans))];
}

/**
 * A header cell's lines: words joined while they fit in `width`. Only ASCII spaces break, so a
 * caller keeps two words together with a no-break space (`÷\u00a0floor`).
 */
function headerLines(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ').filter((w) => w !== '')) {
    const last = lines[lines.length - 1];
    if (last !== undefined && displayWidth(last) + 1 + displayWidth(word) <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines.length === 0 ? [''] : lines;
}

function plain(spans: readonly Span[]): string {
  return spans.map((span) => span.text).join('');
}

function pad(text: string, width: number, align: Align): string {
  const room = Math.max(0, width - displayWidth(text));
  const left = align === 'right' ? room : align === 'center' ? Math.floor(room / 2) : 0;
  return ' '.repeat(left) + text + ' '.repeat(room - left);
}
