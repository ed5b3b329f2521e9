/**
 * Server-Sent Events on the wire (lesson 06): the text/event-stream format of the WHATWG HTML
 * standard, section 9.2, "Server-sent events", both ways. The server writes events with
 * formatEvent(); the compare command's client, and the tests, read them back with SseReader.
 *
 *   id: 42                  the event's id: a reconnecting client sends it as Last-Event-ID
 *   event: tick             its type (a browser's addEventListener('tick', …)); "message" if none
 *   data: {"id":42,…}       its data; text with newlines takes one data line per line
 *   (a blank line)          the end of the event: only now is it dispatched
 *
 *   retry: 2000             how long a client waits before reconnecting, in milliseconds
 *   : keep-alive            a comment: ignored, but it keeps proxies from closing an idle stream
 *
 * Pure: strings in, strings out.
 */

/** One event as it is dispatched to a client. */
export interface SseEvent {
  /** The `event:` field, "message" when the event had none. */
  type: string;
  /** The `data:` lines, joined with "\n". */
  data: string;
  /** The last event id the stream set, as a client keeps it (it carries over to later events). */
  lastEventId: string;
}

/** One event as text/event-stream: `id:`, `event:`, one `data:` line per line of data, a blank line. */
export function formatEvent(event: { id?: number | string; type?: string; data: string }): string {
  let text = '';
  if (event.id !== undefined) text += `id: ${oneLine('id', String(event.id))}\n`;
  if (event.type !== undefined) text += `event: ${oneLine('event', event.type)}\n`;
  // "data: a\ndata: b" is dispatched as "a\nb": a line break in the data needs its own line.
  for (const line of event.data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
  return `${text}\n`;
}

/** The reconnection time a client should use, in milliseconds. */
export function formatRetry(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`retry must be a whole number of milliseconds, not ${ms}`);
  return `retry: ${ms}\n\n`;
}

/** A comment line: ignored by every client, and enough to keep an idle stream open. */
export function formatComment(text: string): string {
  return `: ${oneLine('comment', text)}\n\n`;
}

/**
 * The id a reconnecting client asks to resume after: its Last-Event-ID header, when that is a
 * whole number netlab could have sent; 0 (from the start of what is kept) otherwise.
 */
export function parseLastEventId(value: string | readonly string[] | undefined): number {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string' || !/^\d{1,15}$/.test(text.trim())) return 0;
  return Number(text.trim());
}

/** A field value may not hold a line break (or NUL, in an id): it would end the field early. */
function oneLine(field: string, value: string): string {
  if (/[\r\n]/.test(value) || (field === 'id' && value.includes('\0'))) {
    throw new RangeError(`an SSE ${field} cannot contain a line break${field === 'id' ? ' or NUL' : ''}: ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Reads a text/event-stream as it arrives, in chunks split anywhere (even inside a CR LF, or
 * inside a UTF-8 character), following the standard's "interpret the stream" steps: lines end
 * with CR LF, LF or CR; a leading BOM is dropped; `field: value` (one space after the colon is
 * removed); lines starting with a colon are comments; a blank line dispatches the event, unless
 * it has no data. The `retry` field is reported through `retryMs`.
 *
 * Bounded: a line longer than maxLineChars (a stream that never sends a newline) is an error.
 */
export class SseReader {
  /** The last valid `retry:` the stream gave, in milliseconds; undefined until one comes. */
  retryMs: number | undefined;
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';
  /** A chunk ended with CR: if the next one starts with LF, that LF belongs to the same line end. */
  private afterCR = false;
  private started = false;
  private type = '';
  private data: string[] = [];
  private lastEventId = '';

  constructor(private readonly maxLineChars = 64 * 1024) {}

  /** Every event the chunk completed, in order. Throws a RangeError for an over-long line. */
  push(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.startsWith('\ufeff')) text = text.slice(1);
    }
    if (this.afterCR && text.startsWith('\n')) text = text.slice(1);
    this.afterCR = false;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x0a && c !== 0x0d) continue;
      this.line(this.pending + text.slice(start, i), events);
      this.pending = '';
      if (c === 0x0d) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 0x0a) i++;
        } else {
          this.afterCR = true;
        }
      }
      start = i + 1;
    }
    this.pending += text.slice(start);
    if (this.pending.length > this.maxLineChars) throw new RangeError(`an SSE line longer than ${this.maxLineChars} characters`);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') return this.dispatch(events);
    if (line.startsWith(':')) return; // a comment
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.type = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(events: SseEvent[]): void {
    const { type, data } = this;
    this.type = '';
    this.data = [];
    if (data.length === 0) return; // "If the data buffer is an empty string, … return"
    events.push({ type: type === '' ? 'message' : type, data: data.join('\n'), lastEventId: this.lastEventId });
  }
}
