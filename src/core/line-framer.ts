/**
 * Lines out of a byte stream. TCP delivers bytes, not messages: one read may hold half a line,
 * three lines, or a line and a half (lesson 01, "TCP is a byte stream"; lesson 02, framing).
 * LineFramer keeps what has arrived, hands back every complete line, and keeps the rest for
 * the next read.
 *
 * - "\n" ends a line; a "\r" just before it is dropped, so telnet's "\r\n" works too.
 * - UTF-8 is decoded with a StringDecoder, so a character split across two reads is put back
 *   together instead of turning into U+FFFD.
 * - `maxLineBytes` bounds memory: a line that grows past it is reported as too long (once) and
 *   its bytes are discarded up to the next newline, after which lines work again.
 *
 * Pure: no sockets, no timers. Leaves out other framings (length prefixes come with WebSocket).
 */
import { StringDecoder } from 'node:string_decoder';

export type FramedItem = { kind: 'line'; text: string } | { kind: 'too-long'; bytes: number };

export class LineFramer {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  /** Bytes of the current over-long line seen so far; -1 while not discarding. */
  private discarding = -1;

  constructor(private readonly maxLineBytes = Infinity) {}

  /** Feeds one chunk as it came off the socket; returns the items it completed, in order. */
  push(chunk: Buffer): FramedItem[] {
    const items: FramedItem[] = [];
    let text = this.decoder.write(chunk);
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      const piece = text.slice(0, newline);
      text = text.slice(newline + 1);
      if (this.discarding >= 0) {
        this.discarding = -1; // the over-long line ends here; it was reported when it overflowed
      } else {
        const raw = this.partial + piece;
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        this.partial = '';
        if (Buffer.byteLength(line) > this.maxLineBytes) items.push({ kind: 'too-long', bytes: Buffer.byteLength(line) });
        else items.push({ kind: 'line', text: line });
      }
      newline = text.indexOf('\n');
    }
    if (this.discarding >= 0) {
      this.discarding += Buffer.byteLength(text);
    } else {
      this.partial += text;
      const bytes = Buffer.byteLength(this.partial);
      // A trailing "\r" may be the start of a "\r\n" and does not count against the limit.
      if (bytes > this.maxLineBytes + (this.partial.endsWith('\r') ? 1 : 0)) {
        items.push({ kind: 'too-long', bytes });
        this.partial = '';
        this.discarding = bytes;
      }
    }
    return items;
  }

  /** Text received after the last newline (not yet a line). */
  get pending(): string {
    return this.partial;
  }

  /** Takes the text after the last newline, e.g. when the stream ends without one. */
  flush(): string {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    return rest;
  }
}
