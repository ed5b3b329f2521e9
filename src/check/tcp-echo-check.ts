/**
 * `netlab check tcp-echo`: what a TCP echo server must do to pass (lesson 01), whoever wrote it
 * and in whatever language. Each check is a scripted client doing what the lesson warns about:
 * bytes that are not text, a message that arrives in pieces, more than one read's worth, a
 * second client while the first is still connected, and a client that vanishes mid-transfer.
 *
 * The checks run in this order on purpose: the reset comes last, because a server that dies of
 * it would fail every check after it for the wrong reason.
 *
 * Leaves out: speed. A wait is a hang guard (ctx.waitMs), never a performance requirement.
 */
import { bytes, hex, preview, thousands } from '../core/text-view.js';
import { token } from './check-text.js';
import { CheckFailure, fail, seconds, type Check, type LabChecklist } from './checklist.js';
import { TcpProbe } from './tcp-probe.js';

const SERVE_COMMAND = 'netlab tcp-echo serve';

/** The large-payload check's size: far more than one read (64 KiB in Node, 1 KiB in the course's Python). */
export const LARGE_PAYLOAD_BYTES = 1024 * 1024;
/** How the large payload is written: in pieces of this size, each handed to the kernel before the next. */
const LARGE_WRITE_BYTES = 64 * 1024;
/** Clients that connect while the first one stays connected and silent. */
export const OTHER_CLIENTS = 3;

/** Every byte value, line endings, NUL and byte sequences that are not UTF-8: bytes, not text. */
export const EXACT_BYTES_PAYLOAD = Buffer.concat([
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  Buffer.from('\r\n\0\r'),
  Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf0, 0x28, 0x8c, 0x28, 0x80, 0xc0, 0xaf]),
  Buffer.from(' привіт\n'),
]);

/** The piece-by-piece message: no newline until the last piece. */
function pieces(token: string): string[] {
  return ['net', 'lab ', `check ${token}`, ' in', ' pieces', '\n'];
}

const acceptsAndAnswers: Check = {
  title: 'accepts a connection and answers a line',
  essential: true,
  async run(ctx) {
    const probe = await TcpProbe.connect(ctx, SERVE_COMMAND);
    const line = `hello from netlab check ${token()}\n`;
    await probe.write(line);
    // Any answer passes here: whether it is the exact echo is the next checks' business.
    await probe.waitFor((p) => p.bytesReceived > 0 || p.closed, ctx.waitMs);
    if (probe.bytesReceived > 0) return;
    const sent = `connected and sent ${bytes(line.length)} ${preview(Buffer.from(line), 40)}`;
    if (probe.closed) {
      fail(
        `${sent}; the server closed the connection${probe.error ? ' with a reset' : ''} without sending anything back.`,
        'keep the connection open and send back what each recv() returns, until the client closes: lesson 01, "Send and receive".',
      );
    }
    fail(
      `${sent}; nothing came back in ${seconds(ctx.waitMs)}.`,
      'send back what each recv() returns, as soon as it returns, without waiting for more or for the client to close: lesson 01, "Send and receive".',
    );
  },
};

const exactBytes: Check = {
  title: 'echoes the exact bytes it receives',
  async run(ctx) {
    const probe = await TcpProbe.connect(ctx, SERVE_COMMAND);
    const sent = EXACT_BYTES_PAYLOAD;
    await probe.write(sent);
    await probe.waitFor((p) => p.bytesReceived >= sent.length || p.closed, ctx.waitMs);
    const got = probe.bytes();
    if (got.equals(sent)) return;
    const what = `sent ${bytes(sent.length)} (every byte value 0 to 255, CR LF, NUL and bytes that are not UTF-8)`;
    const at = firstDifference(sent, got);
    const decoded = got.includes(REPLACEMENT_CHARACTER) && !sent.includes(REPLACEMENT_CHARACTER);
    const hint = decoded
      ? 'the server decoded the bytes as text and encoded them again, which changes bytes that are not UTF-8: send back the bytes recv() returned, as they are (in Node, no setEncoding() or toString(); in Python, no .decode()): lesson 01, "Send and receive".'
      : 'send back exactly the bytes recv() returned, as bytes: decode nothing, add nothing (a prefix, a newline), remove nothing (a "\\r", spaces): lesson 01, "Send and receive".';
    if (got.length === 0) fail(`${what}; nothing came back in ${seconds(ctx.waitMs)}.`, hint);
    if (at === got.length) {
      fail(`${what}, got ${bytes(got.length)} back in ${seconds(ctx.waitMs)}, the same as far as they go.`, hint);
    }
    if (at === sent.length) fail(`${what}, got ${bytes(got.length)} back: all of them, then ${preview(got.subarray(at), 20)}.`, hint);
    fail(
      `${what}, got ${bytes(got.length)} back, different from byte ${at} on: sent ${hex(sent.subarray(at), 6)}, got ${hex(got.subarray(at), 6)}.`,
      hint,
    );
  },
};

const inPieces: Check = {
  title: 'echoes each piece as it arrives, without waiting for a newline',
  async run(ctx) {
    const probe = await TcpProbe.connect(ctx, SERVE_COMMAND);
    const parts = pieces(token());
    const whole = parts.join('');
    // Each piece waits for the echo of the one before, so the server has read it: every piece
    // is a read of its own (Nagle is off in TcpProbe). Once one is not echoed, the others still
    // go a little apart, to see whether it all comes back at the newline.
    let written = 0;
    let firstHeld: number | undefined;
    for (const [index, part] of parts.entries()) {
      await probe.write(part);
      written += part.length;
      const ms = firstHeld === undefined ? ctx.waitMs : Math.ceil(ctx.waitMs / 20);
      const echoed = await probe.waitFor((p) => p.bytesReceived >= written || p.closed, ms);
      if (!echoed && firstHeld === undefined) firstHeld = index;
      if (probe.closed) break;
    }
    await probe.waitFor((p) => p.bytesReceived >= whole.length || p.closed, ctx.waitMs);
    const got = probe.bytes();
    const sent = `sent ${bytes(whole.length)} in ${parts.length} writes, one at a time (${parts.slice(0, 3).map((p) => JSON.stringify(p)).join(', ')}…)`;
    const oneRead =
      'one recv() is not one message: keep calling recv() and sending back what it returns until it returns no bytes (the client closed): lesson 01, "TCP is a byte stream".';
    if (probe.closed && got.length < whole.length) {
      fail(`${sent}; the server closed the connection after echoing ${bytes(got.length)} of them.`, oneRead);
    }
    if (!got.equals(Buffer.from(whole))) {
      fail(`${sent}; got ${bytes(got.length)} back in ${seconds(ctx.waitMs)}: ${preview(got, 50)}.`, oneRead);
    }
    if (firstHeld !== undefined) {
      fail(
        `${sent}; piece ${firstHeld + 1} (${JSON.stringify(parts[firstHeld])}) was not echoed in ${seconds(ctx.waitMs)}, and nothing came back until the newline.`,
        'echo each chunk as soon as recv() returns it, newline or not: an echo server passes bytes on, not lines: lesson 01, "TCP is a byte stream".',
      );
    }
  },
};

const megabyte: Check = {
  title: 'echoes 1 MiB in full while the client is still sending',
  async run(ctx) {
    const probe = await TcpProbe.connect(ctx, SERVE_COMMAND);
    const payload = numberedLines(token());
    // The client reads all along (TcpProbe always does) while it writes, so an echo server
    // that writes as it reads never waits for us: it may not wait for the whole message either.
    let written = 0;
    void (async () => {
      for (let at = 0; at < payload.length && !probe.closed; at += LARGE_WRITE_BYTES) {
        const piece = payload.subarray(at, at + LARGE_WRITE_BYTES);
        await probe.write(piece);
        written += piece.length;
      }
    })();
    const complete = await untilStalled(probe, (p) => p.bytesReceived >= payload.length || p.closed, ctx.waitMs);
    const got = probe.bytes();
    const lost =
      'echo every byte, however many: loop over recv() until it returns no bytes, and send each chunk back whole (sendall() in Python; in C, send() may take only part of it): lesson 01, "TCP is a byte stream".';
    const sentWords = written < payload.length ? `could send only ${bytes(written)} of ${thousands(payload.length)} (the server stopped reading)` : `sent ${bytes(payload.length)}`;
    if (probe.closed && got.length < payload.length) {
      fail(`${sentWords}; the server closed the connection after echoing ${bytes(got.length)}.`, lost);
    }
    if (!complete || got.length < payload.length) {
      fail(`${sentWords}, got ${thousands(got.length)} back, then nothing more for ${seconds(ctx.waitMs)}.`, lost);
    }
    if (!got.equals(payload)) {
      // As many bytes came back as were sent, or more: an echo can only have sent back what it
      // read, so bytes beyond `written` are the server's own, whether or not it still reads.
      const at = firstDifference(payload, got);
      const sentSoFar = written < payload.length ? `had sent ${bytes(written)} of ${thousands(payload.length)}` : `sent ${bytes(payload.length)}`;
      fail(
        `${sentSoFar}, got ${thousands(probe.bytesReceived)} back, different from byte ${thousands(at)} on.`,
        'send each chunk back once, in the order it arrived, and nothing else: lesson 01, "TCP is a byte stream".',
      );
    }
  },
};

const ONE_AT_A_TIME_HINT =
  'a server that serves one client until it leaves makes every other client wait: serve each client in a thread of its own (or with select() or an event loop): lesson 01, "One client at a time".';

const severalClients: Check = {
  title: 'serves several clients at once',
  async run(ctx) {
    const first = await TcpProbe.connect(ctx, SERVE_COMMAND);
    const firstLine = `first client ${token()}\n`;
    await first.write(firstLine);
    if (!(await first.waitForBytes(firstLine.length, ctx.waitMs))) {
      fail(
        `a first client sent ${bytes(firstLine.length)} and got ${bytes(first.bytesReceived)} back in ${seconds(ctx.waitMs)}, before any other client connected.`,
        'send back what each recv() returns, as soon as it returns: lesson 01, "Send and receive".',
      );
    }
    // The first client stays connected and silent: a server that serves one client until it
    // leaves is still busy with it.
    const others = await Promise.all(Array.from({ length: OTHER_CLIENTS }, () => TcpProbe.connect(ctx, SERVE_COMMAND)));
    const lines = others.map((_, i) => `client ${i + 2} ${token()}\n`);
    await Promise.all(others.map((probe, i) => probe.write(lines[i]!)));
    await Promise.all(others.map((probe, i) => probe.waitFor((p) => p.bytesReceived >= lines[i]!.length || p.closed, ctx.waitMs)));
    for (const [i, probe] of others.entries()) {
      const stranger = lines.findIndex((line, j) => j !== i && probe.bytes().includes(line.trim()));
      if (stranger !== -1) {
        fail(
          `client ${i + 2} got back the bytes of client ${stranger + 2} (${preview(probe.bytes(), 40)}).`,
          'keep each client\'s socket in a variable of its own (one per thread or per connection), never in one shared variable: lesson 01, "One client at a time".',
        );
      }
    }
    const unanswered = others.filter((probe, i) => probe.text() !== lines[i]);
    if (unanswered.length === 0) return;
    const silent = others.filter((probe) => probe.bytesReceived === 0).length;
    if (silent === 0) {
      // Every client was served at once: what is wrong is what came back, not the concurrency.
      const i = others.indexOf(unanswered[0]!);
      fail(
        `client ${i + 2} sent ${preview(Buffer.from(lines[i]!), 40)} and got ${preview(unanswered[0]!.bytes(), 40)} back: every client got an answer at once, but not the echo of its line.`,
        'the server does serve several clients at once; what it sends back is wrong: send each client exactly the bytes recv() returned on its socket, adding and removing nothing (the check "echoes the exact bytes it receives" shows the first byte that differs): lesson 01, "Send and receive".',
      );
    }
    fail(
      `with a first client connected and silent, ${OTHER_CLIENTS} more connected and sent a line each; ${silent === OTHER_CLIENTS ? 'none' : `only ${OTHER_CLIENTS - silent}`} of them got an echo in ${seconds(ctx.waitMs)}.`,
      ONE_AT_A_TIME_HINT,
    );
  },
};

const afterReset: Check = {
  title: 'keeps serving after a client resets mid-transfer',
  async run(ctx) {
    const victim = await TcpProbe.connect(ctx, SERVE_COMMAND);
    void victim.write(numberedLines(token()));
    // Reset once the server is busy echoing: it is then in the middle of reading and writing.
    await victim.waitFor((p) => p.bytesReceived > 0 || p.closed, ctx.waitMs);
    victim.reset();
    const hint =
      'a client may vanish mid-transfer: then recv() or send() fails on its socket (ECONNRESET, EPIPE). Catch that error, close that one socket and keep serving (in Node: an \'error\' listener on every socket): lesson 01, "Say goodbye".';
    // Two clients one after the other: a server that dies of the reset a moment later cannot
    // answer the second, whatever the timing.
    for (const nth of ['next client', 'client after it']) {
      let probe: TcpProbe;
      try {
        probe = await TcpProbe.connect(ctx, SERVE_COMMAND);
      } catch (err) {
        if (!(err instanceof CheckFailure)) throw err;
        fail(`after a client reset its connection in the middle of sending ${thousands(LARGE_PAYLOAD_BYTES)} bytes, the ${nth} could not connect: ${err.problem}`, hint);
      }
      const line = `after the reset ${token()}\n`;
      await probe.write(line);
      await probe.waitFor((p) => p.bytesReceived >= line.length || p.closed, ctx.waitMs);
      if (probe.text() === line) {
        // Leave, so that a server serving one client at a time gets to the next one.
        probe.end();
        continue;
      }
      const seen =
        probe.bytesReceived > 0
          ? `got ${preview(probe.bytes(), 40)}`
          : probe.closed
            ? `the connection was ${probe.error ? 'reset' : 'closed'} without an echo (did the server crash?)`
            : `nothing came back in ${seconds(ctx.waitMs)}`;
      fail(`after a client reset its connection in the middle of sending, the ${nth} connected and sent a line: ${seen}.`, hint);
    }
  },
};

/** The tcp-echo checklist, in the order `netlab check tcp-echo` runs it. */
export const tcpEchoChecklist: LabChecklist = {
  lab: 'tcp-echo',
  summary: 'echoes bytes unchanged: in pieces, 1 MiB, many clients, past resets',
  serveCommand: SERVE_COMMAND,
  checks: [acceptsAndAnswers, exactBytes, inPieces, megabyte, severalClients, afterReset],
};

/** U+FFFD as UTF-8: what a decoder puts where bytes were not UTF-8. */
const REPLACEMENT_CHARACTER = Buffer.from('\ufffd');

/** 1 MiB of numbered 64-byte lines: ASCII, so it tests the size alone, and any loss shows where. */
function numberedLines(tag: string): Buffer {
  const lineBytes = 64;
  const payload = Buffer.alloc(LARGE_PAYLOAD_BYTES, '.');
  for (let i = 0; i * lineBytes < payload.length; i++) {
    payload.write(`line ${String(i).padStart(6, '0')} of netlab check ${tag} `, i * lineBytes, 'latin1');
    payload[(i + 1) * lineBytes - 1] = 0x0a;
  }
  return payload;
}

/** The index of the first byte where `got` differs from `sent` (got.length if it is a prefix). */
function firstDifference(sent: Buffer, got: Buffer): number {
  const n = Math.min(sent.length, got.length);
  for (let i = 0; i < n; i++) if (sent[i] !== got[i]) return i;
  return n;
}

/**
 * Waits until `done` holds, for as long as bytes keep arriving: resolves false only once
 * nothing new has arrived for `ms`. A slow server that keeps echoing is not a failing one.
 */
async function untilStalled(probe: TcpProbe, done: (probe: TcpProbe) => boolean, ms: number): Promise<boolean> {
  for (;;) {
    const before = probe.bytesReceived;
    if (await probe.waitFor(done, ms)) return true;
    if (probe.bytesReceived === before) return false;
  }
}
