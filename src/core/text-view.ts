/**
 * How bytes are shown on a terminal. A student's terminal must never receive raw control bytes
 * from a peer (ROBUSTNESS.md: ANSI escapes could rewrite the screen), and a log line about a
 * chunk must show exactly what was in it, newline included: that is how a student sees that
 * one read may hold several lines, or half of one.
 */

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\', '"': '\\"' };

// C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Text with control characters made visible: ESC → \x1b, NUL → \x00. Printable text is unchanged. */
export function visible(text: string): string {
  return text.replace(CONTROL, (c) => ESCAPES[c] ?? escapeCode(c.charCodeAt(0)));
}

/** `\x1b` for a byte-sized code, `\u2028` for a larger one (never the ambiguous `\x2028`). */
function escapeCode(code: number): string {
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** How much of a chunk a log line shows: the line then fits 80 columns on a projector. */
export const PREVIEW_CHARS = 30;

/**
 * A chunk as a quoted, escaped preview: `"hello\n"`. Bytes that are not valid UTF-8 show as
 * U+FFFD; a long chunk is cut at `maxChars` and ends with an ellipsis.
 *
 * A server may log every read, so this is on its hot path: it decodes only what it can show
 * and tests character codes instead of running a regular expression per character.
 */
export function preview(chunk: Buffer, maxChars = PREVIEW_CHARS): string {
  const text = chunk.toString('utf8', 0, Math.min(chunk.length, maxChars * 4));
  let shown = '';
  let cut = chunk.length > maxChars * 4; // then only part of it was decoded
  for (const c of text) {
    const code = c.charCodeAt(0);
    const piece = needsEscape(code) ? (ESCAPES[c] ?? escapeCode(code)) : c;
    if (shown.length + piece.length > maxChars) {
      cut = true;
      break;
    }
    shown += piece;
  }
  // The log line already gives the chunk's size, so a cut preview needs only the ellipsis.
  return cut ? `"${shown}"…` : `"${shown}"`;
}

/** The characters `visible()` escapes, plus the quote and backslash of a quoted preview. */
function needsEscape(code: number): boolean {
  return code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
}

/** `1 byte`, `6 bytes`, `1,048,576 bytes`. */
export function bytes(n: number): string {
  return count(n, 'byte');
}

/** A number and its noun: `1 message`, `3 messages`, `1,000 deliveries`. */
export function count(n: number, singular: string, plural = singular.endsWith('y') ? `${singular.slice(0, -1)}ies` : `${singular}s`): string {
  return `${thousands(n)} ${n === 1 ? singular : plural}`;
}

/** A number with thousands separators: `65,536`. */
export function thousands(n: number): string {
  // Below 1,000 there is no separator to write, and a log line per datagram is a hot path.
  return Number.isInteger(n) && n >= 0 && n < 1000 ? String(n) : THOUSANDS.format(n);
}

// One formatter for every call: toLocaleString() builds a new one each time.
const THOUSANDS = new Intl.NumberFormat('en-US');

/** How many bytes of binary data a log line shows as hex. */
export const HEX_PREVIEW_BYTES = 16;

/** Bytes as hex pairs, `01 02 ff`, cut at `maxBytes` with an ellipsis. */
export function hex(data: Uint8Array, maxBytes = HEX_PREVIEW_BYTES): string {
  const shown = Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, maxBytes)).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return data.length > maxBytes ? `${shown} …` : shown;
}

/** Bytes per line of a hex dump: sixteen, as `hexdump -C` and Wireshark show them. */
export const DUMP_LINE_BYTES = 16;

/**
 * The first `maxBytes` of `data` as `hexdump -C` lines: an offset, sixteen bytes in hex (two
 * groups of eight) and the same bytes as text, with `.` for anything that is not printable
 * ASCII (so a control byte from a peer can never reach the terminal). When more bytes were
 * there, a last line says how many were left out. A full line is 74 columns wide.
 *
 *   0000  68 65 6c 6c 6f 0a                                 |hello.|
 */
export function hexDump(data: Uint8Array, maxBytes: number): string[] {
  const shown = Math.min(data.length, maxBytes);
  const lines: string[] = [];
  for (let offset = 0; offset < shown; offset += DUMP_LINE_BYTES) {
    let hexPart = '';
    let textPart = '';
    for (let i = 0; i < DUMP_LINE_BYTES; i++) {
      if (i === DUMP_LINE_BYTES / 2) hexPart += ' ';
      const at = offset + i;
      if (at >= shown) {
        hexPart += '   ';
        continue;
      }
      const byte = data[at]!;
      hexPart += `${byte < 16 ? '0' : ''}${byte.toString(16)} `;
      textPart += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.';
    }
    lines.push(`${offset.toString(16).padStart(4, '0')}  ${hexPart} |${textPart}|`);
  }
  if (data.length > shown) lines.push(`… ${count(data.length - shown, 'more byte')}`);
  return lines;
}

/**
 * Words of `text` in lines of at most `width` characters. A word longer than a whole line (a
 * quoted payload, a key) is cut into pieces of `width`, so no line is ever longer.
 */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ').filter((w) => w !== '')) {
    const chars = [...word];
    if (chars.length > width) {
      if (line !== '') lines.push(line);
      for (let i = 0; i < chars.length; i += width) lines.push(chars.slice(i, i + width).join(''));
      line = lines.pop()!;
    } else if (line !== '' && [...line].length + 1 + chars.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
