/**
 * `netlab check udp-echo`: what a UDP echo server must do to pass (lesson 03), whoever wrote
 * it: answer each datagram with one datagram of the same bytes (an empty one included), to the
 * address it came from, from the address it was sent to.
 *
 * UDP has no connection, so "nothing is listening" is no failed connect(): it is an ICMP "port
 * unreachable", which a connected socket reports as ECONNREFUSED, or, where ICMP is filtered,
 * silence. The first check tells the two apart and says which it saw.
 *
 * Sized for any system: the largest datagram is 8 KiB, under macOS's default limit (9,216
 * bytes) and far under IPv4's 65,507. Source ports are the kernel's ephemeral ones, which
 * netlab's own server answers (it refuses ports below 1024: lesson 03, "Echo servers on the
 * open internet").
 *
 * Leaves out: loss. On loopback, and with netlab's impairment off (the default), no datagram
 * of these few is lost; a lost one fails a check, and its problem says that UDP may lose one.
 */
import { errnoCode, formatAddress } from '../core/errors.js';
import { bytes, count, thousands } from '../core/text-view.js';
import { token } from './check-text.js';
import { fail, seconds, type Check, type LabChecklist } from './checklist.js';
import { MAX_KEPT_DATAGRAMS, UdpProbe, type ReceivedDatagram } from './udp-probe.js';

const SERVE_COMMAND = 'netlab udp-echo serve';

/** The first check sends its datagram again after each third of the wait, in case one is lost. */
const FIRST_SENDS = 3;
/** The datagrams of the boundaries check, sent back to back: as in lesson 03's `--burst`. */
export const DATAGRAM_SIZES = [1, 1000, 0, 8192] as const;
/** Datagrams each client sends in the source-address check. */
const PER_CLIENT = 3;

const answers: Check = {
  title: 'answers a datagram',
  essential: true,
  async run(ctx) {
    // Unconnected: sees a reply from any address. Connected: hears of an ICMP "port unreachable".
    const open = await UdpProbe.open(ctx, SERVE_COMMAND);
    const connected = await UdpProbe.open(ctx, SERVE_COMMAND, { connect: true });
    const datagram = Buffer.from(`hello from netlab check ${token()}`);
    const answered = () => open.datagrams.length > 0 || connected.datagrams.length > 0 || connected.error !== undefined;
    for (let send = 0; send < FIRST_SENDS && !answered(); send++) {
      await open.send(datagram);
      await connected.send(datagram);
      await UdpProbe.waitFor([open, connected], answered, Math.ceil(ctx.waitMs / FIRST_SENDS));
    }
    if (open.datagrams.length > 0 || connected.datagrams.length > 0) return;
    const where = open.where;
    if (errnoCode(connected.error) === 'ECONNREFUSED') {
      fail(
        `nothing is listening on UDP ${where}: the datagram was answered with an ICMP "port unreachable" (ECONNREFUSED).`,
        `is your server running, and bound to port ${ctx.target.port}? Start it, or netlab's own with \`${SERVE_COMMAND}\`: lesson 03, "Nobody answers".`,
      );
    }
    if (connected.error ?? open.error) {
      const err = (connected.error ?? open.error)!;
      fail(`sending a datagram to ${where} failed: ${err.message}.`, 'check the address and port, and that this machine can reach it: lesson 03, "Nobody answers".');
    }
    fail(
      `sent ${count(FIRST_SENDS * 2, 'datagram')} to ${where}; nothing came back in ${seconds(ctx.waitMs)}, not even an ICMP "port unreachable": something is bound there but does not answer, or a firewall drops the datagrams.`,
      'answer each datagram recvfrom() returns with sendto() to the address recvfrom() returned with it: lesson 03, "The datagram model".',
    );
  },
};

const HINTS = {
  cut: 'a receive buffer smaller than the datagram cuts it short, and the rest is lost (Python\'s recvfrom(1024) keeps 1,024 bytes): ask for 65,535, as much as a datagram can hold: lesson 03, "Datagrams keep their boundaries".',
  boundaries:
    'send each datagram back with one sendto(), exactly as it came: over UDP the datagram is the message, so never split one or join several: lesson 03, "Datagrams keep their boundaries".',
  empty:
    'an empty datagram is a datagram too: answer it with an empty one (what matters is that recvfrom() returned, not whether the data is empty): lesson 03, "Datagrams keep their boundaries".',
  changed: 'send back the bytes recvfrom() returned, unchanged, as bytes: lesson 03, "Datagrams keep their boundaries".',
  lost: 'answer every datagram with one datagram of the same bytes. (UDP may lose one now and then: run the check again to tell.) Lesson 03, "Datagrams keep their boundaries".',
};

const boundaries: Check = {
  title: 'sends each datagram back whole, as one datagram',
  async run(ctx) {
    const probe = await UdpProbe.open(ctx, SERVE_COMMAND);
    const tag = token();
    const sent = DATAGRAM_SIZES.map((size) => datagramOf(size, tag));
    for (const datagram of sent) await probe.send(datagram);
    const tally = unmatched(sent, probe.datagrams);
    await probe.waitFor(() => tally().sent.length === 0, ctx.waitMs);
    const left = tally();
    if (left.sent.length === 0) return;

    const issues: { at: number; text: string; hint: string }[] = [];
    const replies = [...left.replies];
    const take = (reply: ReceivedDatagram) => replies.splice(replies.indexOf(reply), 1);
    // Largest first: a piece of the 8 KiB datagram is no piece of a smaller one.
    for (const datagram of [...left.sent].sort((a, b) => b.length - a.length)) {
      const one = datagram.length === 0 ? 'the empty one' : `the ${thousands(datagram.length)}-byte one`;
      const issue = (text: string, hint: string) => issues.push({ at: sent.indexOf(datagram), text, hint });
      if (datagram.length === 0) {
        issue(`${one} got no reply`, HINTS.empty);
        continue;
      }
      const joined = replies.find((r) => r.data.length > datagram.length && r.data.includes(datagram));
      if (joined) {
        issue(`${one} came back inside a ${bytes(joined.data.length)} datagram, joined with others`, HINTS.boundaries);
        continue;
      }
      const pieces = replies.filter((r) => r.data.length > 0 && r.data.length < datagram.length && datagram.includes(r.data));
      pieces.forEach(take);
      const first = pieces[0];
      if (pieces.length === 1 && first && datagram.subarray(0, first.data.length).equals(first.data)) {
        issue(`${one} came back cut short, as ${bytes(first.data.length)}`, HINTS.cut);
      } else if (pieces.length > 1) {
        issue(`${one} came back in ${pieces.length} datagrams ${pieceSizes(pieces.map((p) => p.data.length))}`, HINTS.boundaries);
      } else if (replies.some((r) => r.data.length === datagram.length)) {
        issue(`${one} came back changed`, HINTS.changed);
      } else {
        issue(`${one} got no reply in ${seconds(ctx.waitMs)}`, HINTS.lost);
      }
    }
    // In the order they were sent, so the sentence reads like the list of sizes.
    issues.sort((a, b) => a.at - b.at);
    fail(
      `sent ${count(sent.length, 'datagram')} back to back (${listSizes(sent)} bytes): ${issues.map((issue) => issue.text).join('; ')}${floodNote([probe])}.`,
      issues.find((issue) => issue.hint !== HINTS.lost)?.hint ?? HINTS.lost,
    );
  },
};

const rightAddresses: Check = {
  title: 'replies to each client, from the address it sent to',
  async run(ctx) {
    const clients = [await UdpProbe.open(ctx, SERVE_COMMAND), await UdpProbe.open(ctx, SERVE_COMMAND)];
    const sent = clients.map((_, c) => Array.from({ length: PER_CLIENT }, (_, i) => Buffer.from(`client ${c + 1} datagram ${i + 1} ${token()}`)));
    // Interleaved, as two clients talking at once do.
    for (let i = 0; i < PER_CLIENT; i++) for (const [c, client] of clients.entries()) await client.send(sent[c]![i]!);
    await UdpProbe.waitFor(clients, () => clients.every((client) => client.datagrams.length >= PER_CLIENT), ctx.waitMs);

    const ports = `ports ${clients[0]!.localPort} and ${clients[1]!.localPort}`;
    for (const [c, client] of clients.entries()) {
      const stray = client.datagrams.find((d) => !client.fromTarget(d));
      if (stray) {
        fail(
          `client ${c + 1} sent to ${client.where}, and the reply came from ${formatAddress(stray.address, stray.port)}: a client that connect()s its socket, as many do, never even sees it.`,
          'answer with sendto() on the socket the datagram arrived on, the one bound to the server\'s port: a new socket sends from a port of its own, and the client cannot tell its reply from a stranger\'s: lesson 03, "The datagram model".',
        );
      }
      const other = 1 - c;
      const crossed = client.datagrams.filter((d) => sent[other]!.some((s) => s.equals(d.data))).length;
      if (crossed > 0) {
        fail(
          `two clients (${ports}) sent ${PER_CLIENT} datagrams each, at once; client ${c + 1} got ${count(crossed, 'reply')} to client ${other + 1}'s.`,
          'send each reply to the address recvfrom() returned with that very datagram, not to a client remembered from before: lesson 03, "The datagram model".',
        );
      }
    }
    for (const [c, client] of clients.entries()) {
      const own = client.datagrams.filter((d) => sent[c]!.some((s) => s.equals(d.data))).length;
      if (own < PER_CLIENT) {
        fail(
          `two clients (${ports}) sent ${PER_CLIENT} datagrams each, at once; client ${c + 1} got ${own} of its ${PER_CLIENT} back in ${seconds(ctx.waitMs)}${floodNote(clients)}.`,
          HINTS.lost,
        );
      }
    }
  },
};

/** The udp-echo checklist, in the order `netlab check udp-echo` runs it. */
export const udpEchoChecklist: LabChecklist = {
  lab: 'udp-echo',
  summary: 'each datagram back whole (0 to 8 KiB), to its sender, from its port',
  serveCommand: SERVE_COMMAND,
  checks: [answers, boundaries, rightAddresses],
};

/**
 * A datagram of `size` bytes that no other of the check's datagrams contains any piece of: it
 * repeats a marker with its size and a counter, so any part of more than a dozen bytes says
 * which datagram it came from.
 */
function datagramOf(size: number, tag: string): Buffer {
  if (size <= 1) return Buffer.alloc(size, '!');
  let text = '';
  for (let i = 0; text.length < size; i++) text += `[${size} ${tag} ${i}]`;
  return Buffer.from(text.slice(0, size));
}

/**
 * The sent datagrams no reply equals yet (each reply counts once), and the replies left over:
 * call it again as replies arrive. It looks at each new reply once, so a wait's condition that
 * calls it on every datagram stays linear in the datagrams, whatever a server floods back.
 */
function unmatched(sent: readonly Buffer[], received: readonly ReceivedDatagram[]): () => { sent: Buffer[]; replies: ReceivedDatagram[] } {
  const left = [...sent];
  const replies: ReceivedDatagram[] = [];
  let looked = 0;
  return () => {
    for (; looked < received.length; looked++) {
      const reply = received[looked]!;
      const match = left.findIndex((datagram) => datagram.equals(reply.data));
      if (match === -1) replies.push(reply);
      else left.splice(match, 1);
    }
    return { sent: left, replies };
  };
}

/** ` (the server sent 12,345 datagrams to one client; the check kept the first 1,000)`, when a probe got more than it keeps. */
function floodNote(probes: readonly UdpProbe[]): string {
  const flooded = probes.find((probe) => probe.datagramsReceived > MAX_KEPT_DATAGRAMS);
  if (!flooded) return '';
  return ` (the server sent ${thousands(flooded.datagramsReceived)} datagrams to one client; the check kept the first ${thousands(MAX_KEPT_DATAGRAMS)})`;
}

/** "(512, 488 bytes)", "of 512 bytes", "of 8 to 512 bytes". */
function pieceSizes(sizes: readonly number[]): string {
  const [least, most] = [Math.min(...sizes), Math.max(...sizes)];
  if (least === most) return `of ${bytes(most)}`;
  if (sizes.length <= 4) return `(${sizes.map(thousands).join(', ')} bytes)`;
  return `of ${thousands(least)} to ${bytes(most)}`;
}

/** "1, 1,000, 0 and 8,192". */
function listSizes(datagrams: readonly Buffer[]): string {
  const sizes = datagrams.map((d) => thousands(d.length));
  return `${sizes.slice(0, -1).join(', ')} and ${sizes.at(-1)}`;
}
