/**
 * A traced frame (frame-reader.ts) as text lines, for `--trace` (lesson 04, "frames"): a summary
 * for the trace's header line, and the fields one by one in the order the header has them
 * (the drawing at the top of `src/ws/frame.ts`), then the payload as a hex dump, masked as it
 * went out and unmasked. For RFC 6455's masked "Hello" (section 5.7):
 *
 *   FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x1 (text)
 *   MASK 1 · payload length 5 (7-bit) · masking key 37 fa 21 3d
 *   payload as sent (masked):
 *   0000  7f 9f 4d 51 58                                    |..MQX|
 *   payload unmasked:
 *   0000  48 65 6c 6c 6f                                    |Hello|
 *
 * Pure: frames in, strings out. No line is wider than 76 columns, so the tracer's two spaces
 * of indentation still fit 80; the tracer prints them.
 */
import { describeCloseCode } from './close-codes.js';
import { OPCODES, readClosePayload } from './frame.js';
import type { LengthEncoding, TracedFrame } from './frame-reader.js';
import { bytes, count, hex, hexDump, preview, thousands } from '../core/text-view.js';

/** The widest line frameFields() returns. */
export const MAX_FIELD_LINE_COLUMNS = 76;

const OPCODE_NAMES = new Map<number, string>(Object.entries(OPCODES).map(([name, value]) => [value, name]));

const ENCODINGS: Record<LengthEncoding, string> = { '7-bit': '7-bit', '16-bit': '126, then 16 bits', '64-bit': '127, then 64 bits' };

/**
 * The end of the trace's header line for a frame: its size on the wire and its opcode, the
 * code of a close frame, and `FIN 0` for a frame that more will follow:
 * `frame, 11 bytes: text`, `frame, 4 bytes: close 1000`, `frame, 3 bytes: text, FIN 0`.
 */
export function frameSummary(frame: TracedFrame): string {
  let what = OPCODE_NAMES.get(frame.opcode) ?? `reserved 0x${frame.opcode.toString(16)}`;
  if (frame.opcode === OPCODES.close && frame.payload.length >= 2) what += ` ${frame.payload.readUInt16BE(0)}`;
  if (!frame.fin) what += ', FIN 0';
  return `frame, ${bytes(frame.size)}: ${what}`;
}

/**
 * The frame field by field, one string per line, none wider than 76 columns and none indented:
 * the header's fields, a close frame's code and reason, a `problem: …` line for each rule the
 * frame breaks, then the payload as `hexDump()` lines of at most `dumpBytes` bytes (as sent and
 * unmasked, if masked), ending with how many more bytes the frame had than were shown. Throws
 * a RangeError if `dumpBytes` is not a whole number of 0 or more (Infinity shows all that was kept).
 */
export function frameFields(frame: TracedFrame, dumpBytes: number): string[] {
  if (!(Number.isInteger(dumpBytes) || dumpBytes === Infinity) || dumpBytes < 0) {
    throw new RangeError(`dumpBytes must be a whole number of 0 or more, not ${dumpBytes}`);
  }
  const opcodeName = OPCODE_NAMES.get(frame.opcode) ?? 'reserved';
  const bit = (set: boolean) => (set ? 1 : 0);
  const lines = [
    ...packed([`FIN ${bit(frame.fin)}`, `RSV1 ${bit(frame.rsv1)}`, `RSV2 ${bit(frame.rsv2)}`, `RSV3 ${bit(frame.rsv3)}`, `opcode 0x${frame.opcode.toString(16)} (${opcodeName})`]),
    ...packed([
      `MASK ${bit(frame.masked)}`,
      `payload length ${thousands(frame.length)} (${ENCODINGS[frame.lengthEncoding]})`,
      ...(frame.maskKey ? [`masking key ${hex(frame.maskKey, 4)}`] : []),
    ]),
  ];
  if (frame.opcode === OPCODES.close) lines.push(...closeLines(frame));
  for (const problem of frame.problems) lines.push(`problem: ${problem}`);
  if (frame.length === 0) {
    lines.push('payload: empty');
  } else if (dumpBytes === 0) {
    lines.push(`payload: ${bytes(frame.length)} (not shown)`);
  } else if (frame.masked) {
    lines.push('payload as sent (masked):', ...dump(frame.payloadSent, frame.length, dumpBytes));
    lines.push('payload unmasked:', ...dump(frame.payload, frame.length, dumpBytes));
  } else {
    lines.push('payload:', ...dump(frame.payload, frame.length, dumpBytes));
  }
  return lines;
}

/**
 * A close frame's code and reason (section 5.5.1). The reason is escaped and quoted as a
 * preview, and cut with an ellipsis where it would pass the line's width (the hex dump below
 * shows its bytes).
 */
function closeLines(frame: TracedFrame): string[] {
  if (frame.length === 0) return ['no close code (the receiver reports 1005)'];
  if (frame.length === 1) return ['no close code: it takes 2 bytes, and this payload has 1'];
  if (frame.payload.length < 2) return []; // not kept: only a frame built by hand can lack it
  const { code } = readClosePayload(frame.payload);
  const reason = frame.payload.subarray(2);
  const codePart = `close code ${describeCloseCode(code)}`;
  if (reason.length === 0) return packed([codePart, 'no reason']);
  // Room for the reason on a line of its own: `reason `, the quotes, the ellipsis of a cut one.
  let quoted = preview(reason, MAX_FIELD_LINE_COLUMNS - 'reason ""…'.length);
  // A close payload over 125 bytes (a problem already) was kept only in part.
  if (frame.length > frame.payload.length && !quoted.endsWith('…')) quoted += '…';
  return packed([codePart, `reason ${quoted}`]);
}

/** Fields joined by ` · `, as many on a line as fit in 76 columns. */
function packed(parts: string[]): string[] {
  const lines: string[] = [];
  for (const part of parts) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + 3 + part.length <= MAX_FIELD_LINE_COLUMNS) lines[last] += ` · ${part}`;
    else lines.push(part);
  }
  return lines;
}

/**
 * The first `dumpBytes` of the kept bytes as hexDump() lines, then how many of the frame's
 * `length` bytes were not shown: the reader kept only the start of a long payload, so hexDump
 * alone would count from what was kept rather than from what was sent.
 */
function dump(kept: Buffer, length: number, dumpBytes: number): string[] {
  const shown = Math.min(kept.length, dumpBytes);
  const lines = hexDump(kept.subarray(0, shown), shown);
  if (length > shown) lines.push(`… ${count(length - shown, 'more byte')}`);
  return lines;
}
