/**
 * `netlab check tcp-chat`: what a line-based TCP chat server must do to pass (lesson 02),
 * whoever wrote it: pass each line to everyone else, not back to its sender, for many clients,
 * as whole lines however they were written, and without letting one client that stops reading
 * hold up the others.
 *
 * Lenient about the wording on purpose. A student's chat may greet, name its clients itself,
 * prefix messages with a name or an address, announce joins and leaves: the checks only look
 * for lines CONTAINING a unique token they sent, and never for netlab's wording. Not about the
 * protocol: the lesson's has no login step (netlab's server names each connection guest-1,
 * guest-2…), so the checks' clients send no name first, and every line they send, the first
 * one too, is a chat line to pass on. A chat that waits for a nickname fails the first check,
 * and its hint says why.
 *
 * Sized under netlab's own limits (src/tcp/chat-server.ts): lines shorter than MAX_LINE_BYTES,
 * and no client that must be heard sends more than a few lines, well within RATE_LIMIT's
 * burst. Only the flood of the slow-reader check goes over the rate, and has to: on Linux
 * loopback a client that stops reading soaks up some 4 MiB in kernel buffers before a blocking
 * send to it waits, far more than netlab lets a client send in seconds (a burst of 20 lines,
 * then 10 a second). netlab delays the flood and neither refuses nor disconnects anyone, which
 * passes: what is checked is that the flood, and everyone else, keep moving.
 *
 * Leaves out: commands (/nick…), which are netlab's protocol, not the lesson's requirement.
 */
import { bytes, count, preview, thousands } from '../core/text-view.js';
import { token } from './check-text.js';
import { fail, seconds, type Check, type CheckContext, type LabChecklist } from './checklist.js';
import { TcpProbe } from './tcp-probe.js';

const SERVE_COMMAND = 'netlab tcp-chat serve';

/** Clients of the "many clients" check. */
export const MANY_CLIENTS = 20;
/**
 * A line that must be heard is sent again if it has not reached everyone after a quarter of the
 * wait: a threaded server may add a client to its list a moment after accepting it.
 */
const SENDS_PER_LINE = 4;
/** The flood's lines: each under netlab's MAX_LINE_BYTES (1,024), newline excluded. */
export const FLOOD_LINE_BYTES = 1000;
/**
 * How many lines the flood has: 8 MiB or so, twice what the kernel buffers for one connection on
 * Linux loopback (the sender's socket buffer grows to 4 MiB), so a server whose broadcast
 * waits for a client that does not read really does wait.
 */
export const FLOOD_LINES = 8192;
/** Less than this arriving in a tenth of the wait means the flood stopped or is rate-limited. */
const FLOOD_SETTLED_BYTES = 16 * 1024;

const passesLines: Check = {
  title: 'passes a line from one client to the others',
  essential: true,
  async run(ctx) {
    const room = await join(ctx, 3);
    await passAround(ctx, room, room[2]!, `hello from netlab check ${token()}`, { firstLine: true });
  },
};

const notToSender: Check = {
  title: 'does not send a line back to its sender',
  async run(ctx) {
    const room = await join(ctx, 3);
    const [, other, sender] = room as [TcpProbe, TcpProbe, TcpProbe];
    const text = `not for the sender ${token()}`;
    await passAround(ctx, room, sender, text);
    // A line from someone else, after it: once that has reached the sender, an echo of its
    // own line, sent by the server before it, would have too.
    const after = `after it ${token()}`;
    await other.write(`${after}\n`);
    await sender.waitForLine(after, ctx.waitMs);
    const echoed = sender.lines().find((line) => line.includes(text));
    if (echoed === undefined) return;
    fail(
      `client 3 sent ${JSON.stringify(text)}, and the server sent it back to client 3 too: ${quote(echoed)}.`,
      'skip the sender when you broadcast (`if other is not sender`): its own screen already shows what it typed: lesson 02, "The classic chat, and what goes wrong".',
    );
  },
};

const FRAMING_HINT =
  'keep what recv() returns in a buffer per client, and pass on only complete lines, each in one send: a read is not a line: lesson 02, "A read is not a line".';

/** How long "delivers each line whole" waits for a line's first piece to be passed on. */
const HEAD_WAIT_MS = 250;

const wholeLines: Check = {
  title: 'delivers each line whole, however it was written',
  async run(ctx) {
    const room = await join(ctx, 3);
    const [writer, other, reader] = room as [TcpProbe, TcpProbe, TcpProbe];
    await passAround(ctx, room, writer, `framing ${token()}`);

    // One line in two writes, and another client's line in between (lesson 02's "hel" + "lo").
    const head = `line-in-two-${token()}`;
    const rest = token();
    await writer.write(head);
    // A server that passes chunks on sends the head at once: wait for it (briefly, since a server
    // that frames lines rightly holds it back), so the line in between really comes between.
    await reader.waitFor((probe) => probe.bytes().includes(head), Math.min(ctx.waitMs, HEAD_WAIT_MS));
    const between = `in between ${token()}`;
    await other.write(`${between}\n`);
    await reader.waitForLine(between, ctx.waitMs);
    await writer.write(`${rest}\n`);
    // `rest` is in the whole line too, and on a line of its own when the pieces came apart.
    await reader.waitForLine(rest, ctx.waitMs);
    if (!reader.lines().some((line) => line.includes(head + rest))) {
      const pieces = reader.lines().filter((line) => line.includes(head) || line.includes(rest));
      fail(
        `client 1 wrote ${JSON.stringify(head)}, then, after a line from client 2, ${JSON.stringify(`${rest}\n`)}; client 3 got no line with ${JSON.stringify(head + rest)} whole${pieces.length > 0 ? `, but ${pieces.map(quote).join(' and ')}` : ` in ${seconds(ctx.waitMs)}`}.`,
        FRAMING_HINT,
      );
    }

    // Two lines in one write.
    const first = `first-of-two-${token()}`;
    const second = `second-of-two-${token()}`;
    await writer.write(`${first}\n${second}\n`);
    await Promise.all([reader.waitForLine(first, ctx.waitMs), reader.waitForLine(second, ctx.waitMs)]);
    const seen = reader.lines().filter((line) => line.includes(first) || line.includes(second));
    const wrote = `client 1 wrote two lines in one write (${JSON.stringify(`${first}\n${second}\n`)})`;
    if (seen.some((line) => line.includes(first) && line.includes(second))) {
      fail(`${wrote}; client 3 got them as one line: ${quote(seen.find((line) => line.includes(first))!)}.`, FRAMING_HINT);
    }
    if (seen.length < 2) {
      fail(`${wrote}; client 3 got ${seen.length === 0 ? 'neither' : `only ${quote(seen[0]!)}`} in ${seconds(ctx.waitMs)}.`, FRAMING_HINT);
    }
  },
};

const manyClients: Check = {
  title: `passes lines among ${MANY_CLIENTS} clients`,
  async run(ctx) {
    const room = await join(ctx, MANY_CLIENTS);
    const hint =
      'keep every connected client in your list and send each line to all the others: a server that serves only so many clients, or loses some from its list, leaves the rest out: lesson 02, "Broadcast: never change the list you walk".';
    // The last to join, then the first: both ends of the server's list.
    await passAround(ctx, room, room.at(-1)!, `to all ${MANY_CLIENTS} ${token()}`, { hint });
    await passAround(ctx, room, room[0]!, `from the first ${token()}`, { hint });
  },
};

const SLOW_READER_HINT =
  'a send to a client that does not read blocks once its buffers are full, and the sender\'s thread with it: give each client its own output queue (or writer), never wait for one client while broadcasting, and cut off a client that falls too far behind: lesson 02, "Slow readers".';

const slowReader: Check = {
  title: 'keeps the others going while one client stops reading',
  async run(ctx) {
    // The slow client joins first: a broadcast that walks the clients in order meets it first.
    const room = await join(ctx, 4);
    const [slow, reader, talker, flooder] = room as [TcpProbe, TcpProbe, TcpProbe, TcpProbe];
    await passAround(ctx, room, talker, `slow readers ${token()}`);
    slow.socket.pause(); // stops reading: its buffers fill, in its kernel and then in the server's

    const tag = token();
    const lastFloodLine = floodHead(tag, FLOOD_LINES);
    const tokens = [`still heard ${token()}`, `still heard ${token()}`];
    const watch = new TokenWatch(reader, [lastFloodLine, ...tokens]);
    const floodStart = reader.bytesReceived;
    // All of it arrived: its last line (a server may strip what it passes on), or as many bytes
    // (a server may add a prefix, even inside a line when it passes chunks on).
    const complete = () => watch.has(lastFloodLine) || reader.bytesReceived - floodStart >= FLOOD_LINES * (FLOOD_LINE_BYTES + 1);
    void flood(flooder, tag);
    await floodSettled(ctx, reader, complete);

    // The flooder is the first to be held up: a thread stuck sending its lines to the slow
    // client reads no more of them. A rate limit that delays the flood still lets some through;
    // a server may also cut the flooder off.
    const settled = reader.bytesReceived;
    const received = settled - floodStart;
    if (!complete() && !flooder.closed) {
      if (!(await reader.waitFor((p) => p.bytesReceived > settled || flooder.closed, ctx.waitMs))) {
        fail(
          `client 1 stopped reading while client 4 sent ${count(FLOOD_LINES, 'line')} of ${thousands(FLOOD_LINE_BYTES)} bytes; client 2 got ${bytes(received)} of the flood, then nothing for ${seconds(ctx.waitMs)}, while client 4 was still connected.`,
          SLOW_READER_HINT,
        );
      }
    }

    // And a client that has been quiet is still heard: two lines, the second once the first
    // has arrived, so a thread stuck sending the first to a slow client last in the list
    // cannot read the second. (A blocked send is not the end of the kernel's room: over Linux
    // loopback a few small lines still fit into the slow client's buffer after a big write
    // has stalled, which is why the flood's own progress, above, is the surer sign.)
    for (const [i, text] of tokens.entries()) {
      await talker.write(`${text}\n`);
      if (await reader.waitFor(() => watch.has(text), ctx.waitMs)) continue;
      fail(
        `client 1 stopped reading while client 4 sent ${count(FLOOD_LINES, 'line')} of ${thousands(FLOOD_LINE_BYTES)} bytes; then ${i === 0 ? 'a line from client 3 did not reach client 2' : 'a first line from client 3 reached client 2, but the second did not'} in ${seconds(ctx.waitMs)}.`,
        SLOW_READER_HINT,
      );
    }
  },
};

/** The tcp-chat checklist, in the order `netlab check tcp-chat` runs it. */
export const tcpChatChecklist: LabChecklist = {
  lab: 'tcp-chat',
  summary: `whole lines to all but the sender, ${MANY_CLIENTS} at once, past a slow reader`,
  serveCommand: SERVE_COMMAND,
  // The slow reader comes last: a server that fails it may stay stuck for the checks after.
  checks: [passesLines, notToSender, wholeLines, manyClients, slowReader],
};

/** Connects `n` clients one after another, so each has joined before the next connects. */
async function join(ctx: CheckContext, n: number): Promise<TcpProbe[]> {
  const room: TcpProbe[] = [];
  for (let i = 0; i < n; i++) room.push(await TcpProbe.connect(ctx, SERVE_COMMAND));
  return room;
}

const RELAY_HINT =
  'keep a list of the connected clients, read each one in a thread of its own (or with an event loop), and send every line it sends to all the others: lesson 02, "The classic chat, and what goes wrong".';

/**
 * Sends `text` as a line from `from` until every other client of the room has a line
 * containing it (again after each quarter of the wait, SENDS_PER_LINE times in all), or fails
 * the check saying who did not get it, with `hint`. Clients are numbered 1, 2, 3… in the order
 * they joined. `firstLine`: this is the checklist's first line, which a chat that waits for a
 * login takes for a name, and the failure says so.
 */
async function passAround(
  ctx: CheckContext,
  room: readonly TcpProbe[],
  from: TcpProbe,
  text: string,
  { hint = RELAY_HINT, firstLine = false }: { hint?: string; firstLine?: boolean } = {},
): Promise<void> {
  const others = room.filter((probe) => probe !== from);
  for (let send = 0; send < SENDS_PER_LINE; send++) {
    await from.write(`${text}\n`);
    const got = await Promise.all(others.map((probe) => probe.waitForLine(text, Math.ceil(ctx.waitMs / SENDS_PER_LINE))));
    if (got.every(Boolean)) return;
  }
  const missed = others.filter((probe) => !probe.hasLine(text));
  if (missed.length === 0) return; // the last of them got it just after the last wait
  const sender = `client ${room.indexOf(from) + 1}`;
  const unended = missed.filter((probe) => probe.bytes().includes(text));
  if (unended.length > 0) {
    fail(
      `${room.length} clients connected and ${sender} sent a line; ${clientNumbers(room, unended)} got its text but no "\\n" after it in ${seconds(ctx.waitMs)}.`,
      'end every line you pass on with "\\n": the clients find the end of a line by it: lesson 02, "A read is not a line".',
    );
  }
  const hungUp = room.filter((probe) => (probe === from || missed.includes(probe)) && (probe.ended || probe.closed));
  if (hungUp.length > 0) {
    const reset = hungUp.some((probe) => probe.error) ? ', with a reset' : '';
    fail(
      `${room.length} clients connected and ${sender} sent ${JSON.stringify(text)}; the server closed the ${hungUp.length === 1 ? 'connection' : 'connections'} of ${clientNumbers(room, hungUp)}${reset}, instead of passing the line on.`,
      `keep every connection open until its client leaves, and end only that one then: a chat closes no one's connection for sending a line (if it crashed, its terminal says why). Then ${hint}`,
    );
  }
  const everyone = missed.length === others.length;
  const who = everyone
    ? others.length === 2
      ? 'neither of the other 2'
      : `none of the other ${others.length}`
    : `${missed.length} of the other ${others.length} (${clientNumbers(room, missed)})`;
  const firstMissed = missed[0]!;
  const seen = firstMissed.bytesReceived > 0 ? `; ${clientNumbers(room, [firstMissed])} got only ${preview(firstMissed.bytes(), 70)}` : '';
  // A chat that waits for a nickname takes the first line for one, and relays nothing to
  // clients that never sent theirs: the lesson's protocol has no such step.
  if (everyone && firstLine) {
    fail(
      `${room.length} clients connected and ${sender} sent ${JSON.stringify(text)} (${SENDS_PER_LINE} times) as its first line, with no name or login before it; ${who} got it in ${seconds(ctx.waitMs)}${seen}.`,
      `netlab check's clients send no name first: every line is a chat line, the first one too, so pass lines on from the moment a client connects, without a login step (netlab's server names each connection itself, guest-1, guest-2…: lesson 02, "Two people join"). Then ${hint}`,
    );
  }
  fail(`${room.length} clients connected and ${sender} sent ${JSON.stringify(text)} (${SENDS_PER_LINE} times); ${who} got it in ${seconds(ctx.waitMs)}${seen}.`, hint);
}

/** "client 2", "clients 2, 5 and 7", "clients 2, 3, 4, 5, 6…". */
function clientNumbers(room: readonly TcpProbe[], probes: readonly TcpProbe[]): string {
  const numbers = probes.map((probe) => String(room.indexOf(probe) + 1));
  if (numbers.length === 1) return `client ${numbers[0]}`;
  if (numbers.length > 5) return `clients ${numbers.slice(0, 5).join(', ')}…`;
  return `clients ${numbers.slice(0, -1).join(', ')} and ${numbers.at(-1)}`;
}

/** What starts line `n` of the flood (1 to FLOOD_LINES) and tells it from the others. */
function floodHead(tag: string, n: number): string {
  return `flood ${tag} line ${String(n).padStart(6, '0')} `;
}

/** Line `n` of the flood, without its newline. */
function floodLine(tag: string, n: number): string {
  const head = floodHead(tag, n);
  return head + 'x'.repeat(FLOOD_LINE_BYTES - head.length);
}

/** Writes the flood, each piece once the kernel has taken the one before (a rate limit stops it). */
async function flood(flooder: TcpProbe, tag: string): Promise<void> {
  const linesPerWrite = 64;
  for (let first = 1; first <= FLOOD_LINES && !flooder.closed; first += linesPerWrite) {
    let piece = '';
    for (let n = first; n < first + linesPerWrite && n <= FLOOD_LINES; n++) piece += `${floodLine(tag, n)}\n`;
    await flooder.write(piece);
  }
}

/**
 * Waits until the flood has reached the reader in full (`done`), or has stopped or slowed to a
 * trickle (a server stuck on the slow client, or a rate limit delaying the flooder), or a whole
 * wait has passed. Only then are the slow client's buffers surely full in a server that waits
 * for it.
 */
async function floodSettled(ctx: CheckContext, reader: TcpProbe, done: () => boolean): Promise<void> {
  const windowMs = Math.ceil(ctx.waitMs / 10);
  for (let waited = 0; waited < ctx.waitMs; waited += windowMs) {
    const before = reader.bytesReceived;
    if (await reader.waitFor(done, windowMs)) return;
    if (reader.bytesReceived - before < FLOOD_SETTLED_BYTES) return;
  }
}

/**
 * Looks for several tokens at once in the lines a probe receives from now on, each line looked
 * at once however often has() is called: it runs in a wait's condition, on every read of a
 * flood of megabytes.
 */
class TokenWatch {
  private readonly found = new Set<string>();
  private next: number;

  constructor(
    private readonly probe: TcpProbe,
    private readonly tokens: readonly string[],
  ) {
    this.next = probe.lineCount;
  }

  /** Whether a line received since the watch began contains `text`, one of its tokens. */
  has(text: string): boolean {
    for (; this.next < this.probe.lineCount; this.next++) {
      const line = this.probe.line(this.next);
      for (const wanted of this.tokens) if (line.includes(wanted)) this.found.add(wanted);
    }
    return this.found.has(text);
  }
}

/** A received line as the checklist quotes it: escaped, and cut when long. */
function quote(line: string): string {
  return preview(Buffer.from(line), 70);
}
