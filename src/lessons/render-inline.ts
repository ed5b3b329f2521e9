/**
 * Inline Markdown for render-lesson.ts: a line of prose as styled spans (render-table.ts lays
 * them out). Code spans, **bold**, *emphasis*, links and autolinks, backslash escapes; inline
 * HTML comments are dropped. Pure, like the renderer.
 */
import path from 'node:path';
import type { Context } from './render-lesson.js';
import type { Span } from './render-table.js';

const ESCAPABLE = /[!-/:-@[-`{-~]/;
const AUTOLINK = /^<([a-z][a-z0-9+.-]{1,31}:[^\s<>]*)>/i;

/**
 * Inline Markdown as spans: code, bold, emphasis, links, backslash escapes; inline comments
 * are dropped. Without a painter the markers stay (`code`, **bold**), as a reader of plain
 * text expects; with one they are dropped and the span is styled instead.
 */
export function parseInline(text: string, context: Context, style?: 'bold' | 'emphasis'): Span[] {
  const spans: Span[] = [];
  const plain = context.painter === undefined;
  let buffer = '';
  const flush = () => {
    if (buffer !== '') spans.push(style ? { text: buffer, style } : { text: buffer });
    buffer = '';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length && ESCAPABLE.test(text[i + 1]!)) {
      buffer += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '\n') {
      flush();
      spans.push({ text: '', style: 'break' });
      i++;
      continue;
    }
    if (c === '`') {
      const ticks = /^`+/.exec(text.slice(i))![0];
      const close = closingTicks(text, i + ticks.length, ticks.length);
      if (close === -1) {
        buffer += ticks;
        i += ticks.length;
        continue;
      }
      const raw = text.slice(i + ticks.length, close);
      // CommonMark 6.1: one space on each side is stripped, so `` `x` `` shows `x`.
      const content = /^ .*[^ ].* $/.test(raw) ? raw.slice(1, -1) : raw;
      flush();
      spans.push({ text: plain ? ticks + raw + ticks : content, style: 'code' });
      i = close + ticks.length;
      continue;
    }
    if (text.startsWith('<!--', i) && text.includes('-->', i + 4)) {
      i = text.indexOf('-->', i + 4) + 3;
      continue;
    }
    const autolink = c === '<' ? AUTOLINK.exec(text.slice(i)) : null;
    if (autolink) {
      buffer += autolink[1];
      i += autolink[0].length;
      continue;
    }
    const link = c === '[' || (c === '!' && text[i + 1] === '[') ? parseLink(text, c === '!' ? i + 1 : i) : undefined;
    if (link) {
      flush();
      spans.push(...parseInline(link.label, context, style));
      const target = linkTarget(link.label, link.url, context.linkBase);
      if (target !== undefined) spans.push({ text: ' ' }, { text: `(${target})`, style: 'dim' });
      i = link.end;
      continue;
    }
    const delimited = c === '*' || c === '_' ? parseDelimited(text, i) : undefined;
    if (delimited) {
      flush();
      const inner = parseInline(delimited.inner, context, delimited.marker.length === 2 ? 'bold' : (style ?? 'emphasis'));
      if (plain) spans.push({ text: delimited.marker }, ...inner, { text: delimited.marker });
      else spans.push(...inner);
      i = delimited.end;
      continue;
    }
    buffer += c;
    i++;
  }
  flush();
  return spans;
}

/** Where a run of `count` backticks closes the code span opened at `from`, or -1. */
function closingTicks(text: string, from: number, count: number): number {
  const pattern = /`+/g;
  pattern.lastIndex = from;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    if (match[0].length === count) return match.index;
  }
  return -1;
}

/** `[label](url "title")` starting at `[`: its parts and the index after it, or undefined. */
function parseLink(text: string, open: number): { label: string; url: string; end: number } | undefined {
  let depth = 0;
  let close = -1;
  for (let k = open; k < text.length; k++) {
    if (text[k] === '\\') k++;
    else if (text[k] === '[') depth++;
    else if (text[k] === ']' && --depth === 0) {
      close = k;
      break;
    }
  }
  if (close === -1 || text[close + 1] !== '(') return undefined;
  const destination = /^\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+("[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/.exec(text.slice(close + 1));
  if (!destination) return undefined;
  const url = destination[1]!.replace(/^<(.*)>$/, '$1');
  return { label: text.slice(open + 1, close), url, end: close + 1 + destination[0].length };
}

/**
 * What follows a link's text: the URL of an external link, the path of a relative one from
 * the package's folder (so a student can open it), nothing for an anchor or a repeat.
 */
function linkTarget(label: string, url: string, linkBase: string): string | undefined {
  if (url === '' || url.startsWith('#')) return undefined;
  const target = /^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('/') ? url : path.posix.normalize(path.posix.join(linkBase, url));
  const shown = label.replace(/`/g, '');
  return shown === url || shown === target || `mailto:${shown}` === url ? undefined : target;
}

/**
 * `**bold**`, `__bold__`, `*emphasis*` or `_emphasis_` starting at `from`, or undefined. Like
 * CommonMark, the opening marker must be followed by text and the closing one preceded by it,
 * and `_` does not work inside a word, so `snake_case_name` stays as it is.
 */
function parseDelimited(text: string, from: number): { marker: string; inner: string; end: number } | undefined {
  const char = text[from]!;
  const marker = text[from + 1] === char ? char + char : char;
  const start = from + marker.length;
  if (start >= text.length || /\s/.test(text[start]!) || text[start] === char) return undefined;
  if (char === '_' && from > 0 && /[\p{L}\p{N}]/u.test(text[from - 1]!)) return undefined;
  for (let k = start + 1; k < text.length; k++) {
    if (text[k] === '`') {
      const ticks = /^`+/.exec(text.slice(k))![0];
      const close = closingTicks(text, k + ticks.length, ticks.length);
      if (close !== -1) k = close + ticks.length - 1;
      continue;
    }
    if (!text.startsWith(marker, k) || /\s/.test(text[k - 1]!)) continue;
    // A single marker must not be half of a double one: `*a **b** c*`.
    if (marker.length === 1 && (text[k + 1] === char || text[k - 1] === char)) continue;
    const after = text[k + marker.length];
    if (char === '_' && after !== undefined && /[\p{L}\p{N}]/u.test(after)) continue;
    return { marker, inner: text.slice(start, k), end: k + marker.length };
  }
  return undefined;
}
