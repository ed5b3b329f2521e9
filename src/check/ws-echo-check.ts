/**
 * `netlab check ws-echo`: grades a WebSocket echo server (lesson 04), whatever it is written in,
 * with a raw client (ws-probe.ts) that does the handshake by hand and reads every frame as it
 * crossed the wire. What a correct server does, in order:
 *
 *   the handshake    101 to a good request, a 4xx to a bad one (ws-handshake-check.ts)
 *   the echo         text as text and binary as binary, the same bytes: multi-byte UTF-8, all
 *                    256 byte values, empty, long (16- and 64-bit lengths), sent in fragments
 *   the frames       unmasked (a server never masks), a pong for a ping, a close frame for a
 *                    close frame and then the end of the TCP connection
 *
 * The lab is an echo, so content must come back unchanged: the course's FastAPI example, which
 * answers "Echo: " + text, fails, and the hint says so.
 *
 * Leaves out: subprotocols, extensions, and limits a server may choose (a message of 64 KiB
 * must pass).
 */
import { hex, preview, thousands, visible } from '../core/text-view.js';
import { describeCloseCode } from '../ws/close-codes.js';
import { OPCODES, opcodeName } from '../ws/frame.js';
import type { TracedFrame } from '../ws/frame-reader.js';
import { fail, seconds, type Check, type CheckContext, type LabChecklist } from './checklist.js';
import { WS_ECHO_SERVE as SERVE, handshakeChecks } from './ws-handshake-check.js';
import { WsProbe, type MessageResult } from './ws-probe.js';

/** Where each hint sends the student: the headings of lessons/04-ws-echo.md. */
const LESSON = {
  messages: 'lesson 04, "Messages: text, binary, empty"',
  frames: 'lesson 04, "Frames on the wire"',
  masking: 'lesson 04, "The whole conversation, and masking"',
  ping: 'lesson 04, "Ping and pong"',
  closing: 'lesson 04, "Closing"',
  course: 'lesson 04, "From the course\'s code to netlab\'s"',
} as const;

/** A text, a binary and a fragmented message, and the long ones' sizes: one for each length encoding. */
const TEXT = 'hello from netlab check';
const UTF8_TEXT = 'привіт · ünïcødé · 你好 · 👋🏽';
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const FRAGMENTS = ['frag', 'men', 'ted'];
const LONG_16_BIT_BYTES = 300;
const LONG_64_BIT_BYTES = 64 * 1024;

const ECHO_HINT = `send every message back as it came: text as text, binary as binary, the same bytes. In ws, ws.send(data, { binary: isBinary }); in FastAPI, await websocket.send_text(await websocket.receive_text()) (${LESSON.messages}).`;

/** The ws-echo checklist, in the order `netlab check ws-echo` runs it: the handshake's checks first. */
export const wsEchoChecklist: LabChecklist = {
  lab: 'ws-echo',
  summary: 'the handshake and its refusals, every kind of echo, ping, close',
  serveCommand: SERVE,
  checks: [
    ...handshakeChecks,
    echoes('echoes a text message as text, unchanged', `the text message "${TEXT}"`, [text(TEXT)], ECHO_HINT),
    echoes(
      'echoes multi-byte UTF-8 text byte for byte',
      `the text message "${UTF8_TEXT}"`,
      [text(UTF8_TEXT)],
      `a text message is UTF-8: echo its bytes, or decode and encode it as UTF-8 (never Latin-1 or ASCII), and count its length in bytes, not characters (${LESSON.messages}).`,
    ),
    echoes(
      'echoes a binary message as binary, all 256 byte values',
      'a binary message of the bytes 00 to ff',
      [{ opcode: OPCODES.binary, payload: ALL_BYTES, fin: true }],
      `keep the kind: binary goes back as binary (opcode 0x2), with the same bytes. In ws, ws.send(data, { binary: isBinary }): data.toString() would turn it into text; in FastAPI, receive() gives "bytes" to send back with send_bytes() (${LESSON.messages}).`,
    ),
    echoes(
      'echoes an empty message',
      'an empty text message',
      [text('')],
      `an empty message is a real frame, with a payload length of 0: echo it like any other (a test such as \`if not data\` or \`if (!text) return\` drops it) (${LESSON.messages}).`,
    ),
    {
      title: 'echoes long messages: 16-bit and 64-bit lengths',
      async run(ctx) {
        const hint = `a payload length is 7 bits up to 125, then 126 and 16 bits up to 65,535, then 127 and 64 bits (RFC 6455, section 5.2): read and write all three, and read the whole payload however many TCP reads it takes; a size limit, if any, must allow 64 KiB (${LESSON.frames}).`;
        for (const size of [LONG_16_BIT_BYTES, LONG_64_BIT_BYTES]) {
          await echo(ctx, `a text message of ${thousands(size)} bytes`, [text(longText(size))], hint);
        }
        return `${LONG_16_BIT_BYTES} bytes and ${thousands(LONG_64_BIT_BYTES)}`;
      },
    },
    {
      title: 'echoes a message sent in three frames as one message',
      async run(ctx) {
        const frames = FRAGMENTS.map((part, i) => ({ opcode: i === 0 ? OPCODES.text : OPCODES.continuation, payload: Buffer.from(part), fin: i === FRAGMENTS.length - 1 }));
        const echoed = await echo(
          ctx,
          `the text "${FRAGMENTS.join('')}" (sent as ${FRAGMENTS.map((f) => `"${f}"`).join(' + ')})`,
          frames,
          `a message may come in several frames: a text or binary frame with FIN 0, continuation frames (opcode 0x0), the last with FIN 1 (RFC 6455, section 5.4). Put them together before echoing, or echo each frame as it came, FIN bits included (${LESSON.messages}).`,
        );
        return echoed.length > 1 ? `echoed in ${echoed.length} frames` : undefined;
      },
    },
    {
      title: 'sends its frames unmasked, as a server must',
      async run(ctx) {
        const ws = await WsProbe.open(ctx, SERVE);
        await ws.send(OPCODES.text, TEXT);
        const result = await ws.nextMessage(ctx.waitMs);
        if (result.kind !== 'message') fail(notEchoedProblem(result, `the text message "${TEXT}"`, ctx), ECHO_HINT);
        const masked = result.frames.find((frame) => frame.masked);
        if (!masked) return;
        fail(
          `the echo came in a masked frame (MASK 1, masking key ${hex(masked.maskKey ?? Buffer.alloc(0))}).`,
          `"A server MUST NOT mask any frames that it sends to the client. A client MUST close a connection if it detects a masked frame." (RFC 6455, section 5.1): a browser would hang up. Send MASK 0 and no masking key; ws does unless told { mask: true } (${LESSON.masking}).`,
        );
      },
    },
    {
      title: 'answers a ping with a pong carrying the same payload',
      run: pingPong,
    },
    {
      title: 'answers a close frame with a close frame, then closes TCP',
      run: closeHandshake,
    },
  ],
};

/** A frame to send: its opcode, payload and FIN bit. */
interface Outgoing {
  opcode: number;
  payload: Buffer;
  fin: boolean;
}

function text(value: string): Outgoing {
  return { opcode: OPCODES.text, payload: Buffer.from(value, 'utf8'), fin: true };
}

/** A text of exactly `size` bytes that changes all along, so a lost or repeated piece shows. */
function longText(size: number): string {
  let out = '';
  for (let i = 0; out.length < size; i++) out += `${i} `;
  return out.slice(0, size);
}

/** A check that sends `frames` and expects them back as one message (see echo()). */
function echoes(title: string, what: string, frames: Outgoing[], hint: string): Check {
  return {
    title,
    async run(ctx) {
      await echo(ctx, what, frames, hint);
    },
  };
}

/**
 * Sends `frames` on a new connection and expects one message back with their opcode and
 * joined payload; fails with what came instead. Resolves with the echo's frames.
 */
async function echo(ctx: CheckContext, what: string, frames: Outgoing[], hint: string): Promise<TracedFrame[]> {
  const ws = await WsProbe.open(ctx, SERVE);
  for (const frame of frames) await ws.send(frame.opcode, frame.payload, frame.fin);
  const result = await ws.nextMessage(ctx.waitMs);
  if (result.kind !== 'message') fail(notEchoedProblem(result, what, ctx), hint);
  const broken = result.frames.flatMap((frame) => frame.problems)[0];
  if (broken) fail(`the echo of ${what} came in a frame that breaks RFC 6455: ${broken}.`, `write each frame as section 5.2 draws it (${LESSON.frames}).`);
  const expected = { opcode: frames[0]!.opcode, payload: Buffer.concat(frames.map((f) => f.payload)) };
  const difference = echoDifference(result, expected);
  if (difference) fail(`${what} came back ${difference.problem}.`, difference.hint ?? hint);
  return result.frames;
}

/** How an echo differs from what was sent, in words, and a hint when the difference has its own. */
function echoDifference(got: { opcode: number; payload: Buffer }, sent: { opcode: number; payload: Buffer }): { problem: string; hint?: string } | undefined {
  const shown = sent.opcode === OPCODES.binary && got.opcode === OPCODES.binary ? hex(got.payload) : preview(got.payload, 40);
  if (got.opcode !== sent.opcode) return { problem: `as ${opcodeName(got.opcode)} (opcode 0x${got.opcode.toString(16)}), ${got.payload.length} bytes: ${shown}` };
  if (got.payload.equals(sent.payload)) return undefined;
  const gotText = got.payload.toString('utf8');
  const sentText = sent.payload.toString('utf8');
  if (sent.opcode === OPCODES.text && sentText !== '' && gotText.length > sentText.length && (gotText.endsWith(sentText) || gotText.startsWith(sentText))) {
    const added = gotText.endsWith(sentText) ? gotText.slice(0, -sentText.length) : gotText.slice(sentText.length);
    const where = gotText.endsWith(sentText) ? 'in front' : 'after it';
    return {
      problem: `with "${visible(added)}" ${where}: ${preview(got.payload, 40)}`,
      hint: `this lab is an echo, so netlab check expects every message back unchanged. The course's FastAPI example answers "Echo: " + the text; send back just what came (${LESSON.course}).`,
    };
  }
  if (got.payload.length !== sent.payload.length) return { problem: `as ${thousands(got.payload.length)} bytes instead of ${thousands(sent.payload.length)}: ${shown}` };
  let at = 0;
  while (got.payload[at] === sent.payload[at]) at++;
  return { problem: `with other bytes: byte ${at} is 0x${hex(got.payload.subarray(at, at + 1))} instead of 0x${hex(sent.payload.subarray(at, at + 1))} (${shown})` };
}

/** Why no message came back, in one sentence. */
function notEchoedProblem(result: Exclude<MessageResult, { kind: 'message' }>, what: string, ctx: CheckContext): string {
  switch (result.kind) {
    case 'timeout':
      return `no echo of ${what} within ${seconds(ctx.waitMs)}.`;
    case 'closed':
      return `the server closed the connection instead of echoing ${what}.`;
    case 'close':
      return `the server sent a close frame, ${describeCloseCode(result.code)}${result.reason ? ` "${visible(result.reason)}"` : ''}, instead of echoing ${what}.`;
    case 'unreadable':
      return `the answer to ${what} cannot be read as WebSocket frames: ${result.reason}.`;
  }
}

async function pingPong(ctx: CheckContext): Promise<void> {
  const payload = Buffer.from('netlab check ping 42');
  const ws = await WsProbe.open(ctx, SERVE);
  await ws.send(OPCODES.ping, payload);
  const hint = `"Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response" (RFC 6455, section 5.5.2), with "identical Application data" (section 5.5.3): answer opcode 0x9 with 0xA and the same payload. ws, browsers and FastAPI do it for you (${LESSON.ping}).`;
  const deadline = Date.now() + ctx.waitMs;
  for (;;) {
    const event = await ws.nextFrame(Math.max(0, deadline - Date.now()));
    if (event.kind === 'timeout') fail(`no pong within ${seconds(ctx.waitMs)} of a ping.`, hint);
    if (event.kind === 'closed') fail('the server closed the connection when it got a ping.', hint);
    if (event.kind === 'unreadable') fail(`the answer to a ping cannot be read as WebSocket frames: ${event.reason}.`, hint);
    const { frame } = event;
    if (frame.opcode === OPCODES.pong) {
      if (frame.payload.equals(payload)) return;
      fail(`the pong carries ${preview(frame.payload, 40)}, not the ping's ${preview(payload, 40)}.`, hint);
    }
    if (frame.opcode === OPCODES.ping && frame.payload.equals(payload)) fail('the server sent the ping back as a ping (opcode 0x9), not as a pong.', hint);
    if (frame.opcode === OPCODES.ping) await ws.send(OPCODES.pong, frame.payload); // the server's own ping
    else fail(`the server answered a ping with a ${opcodeName(frame.opcode)} frame${frame.opcode === OPCODES.close ? '' : `: ${preview(frame.payload, 40)}`}.`, hint);
  }
}

async function closeHandshake(ctx: CheckContext): Promise<string> {
  const ws = await WsProbe.open(ctx, SERVE);
  await ws.sendClose(1000, 'netlab check done');
  const rule = `"If an endpoint receives a Close frame and did not previously send a Close frame, the endpoint MUST send a Close frame in response" (RFC 6455, section 5.5.1), usually with the code it got, here 1000`;
  const result = await ws.nextMessage(ctx.waitMs);
  if (result.kind === 'closed') {
    fail(
      'the server closed the TCP connection without sending a close frame back.',
      `${rule}; only then close TCP. Without it the client sees 1006, "abnormal closure" (${LESSON.closing}).`,
    );
  }
  if (result.kind !== 'close') fail(`the server answered a close frame with ${notClose(result, ctx)}.`, `${rule} (${LESSON.closing}).`);
  const code = result.code === 1000 ? '1000 back' : `${describeCloseCode(result.code)} back (echoing 1000 is usual)`;
  if (await ws.tcpClosed(ctx.waitMs)) return `${code}, then the TCP connection closed`;
  return fail(
    `the server answered with a close frame (${describeCloseCode(result.code)}) but kept the TCP connection open for ${seconds(ctx.waitMs)}.`,
    `"After both sending and receiving a Close message, an endpoint ... MUST close the underlying TCP connection" (RFC 6455, section 5.5.1), and the server closes it first (section 7.1.1) (${LESSON.closing}).`,
  );
}

/** What came instead of a close frame, in a few words. */
function notClose(result: Exclude<MessageResult, { kind: 'close' }>, ctx: CheckContext): string {
  switch (result.kind) {
    case 'message':
      return `a ${opcodeName(result.opcode)} message (${preview(result.payload, 40)})`;
    case 'timeout':
      return `nothing within ${seconds(ctx.waitMs)}`;
    case 'closed':
      return 'the end of the TCP connection';
    case 'unreadable':
      return `frames that cannot be read (${result.reason})`;
  }
}

