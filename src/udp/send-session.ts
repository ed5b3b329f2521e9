/**
 * `netlab udp-echo send` without --count: each line typed (or piped) is one datagram, and each
 * reply is shown with its round-trip time. A datagram without a reply within the timeout is
 * reported, and UDP cannot say why: the datagram or its reply was lost, or no server listens.
 *
 * Replies are matched to what was sent by their bytes, oldest first. A reply nobody is waiting
 * for is marked: late (it came after its timeout), a duplicate (it was answered already), or
 * unexpected.
 *
 * Piped input goes one datagram per reply (or timeout), so a scripted run reads like a person
 * typing: `> a`, `< a`, `> b`, `< b`.
 */
import { AlreadyReported, NetlabError, UsageError } from '../core/errors.js';
import { onClientInterrupt } from '../core/commands.js';
import type { Output } from '../core/output.js';
import { Prompt } from '../core/prompt.js';
import { count, preview, visible } from '../core/text-view.js';
import { formatMs } from './ping.js';
import type { UdpClient } from './udp-client.js';
import { MAX_DATAGRAM_BYTES, sendError, tooBig } from './udp-socket.js';

/** How much of a long piped line its `>` line shows. */
const SHOWN_LINE_CHARS = 60;

/** --burst reads at most this many lines before it sends them. */
export const MAX_BURST_LINES = 10_000;

/** How many answered or timed-out datagrams are remembered to recognise late and duplicate replies. */
const REMEMBERED = 64;

interface Sent {
  data: Buffer;
  atMs: number;
  timer?: NodeJS.Timeout;
  settle?: () => void;
}

export interface SendSessionOptions {
  timeoutMs: number;
  /** Read all piped input, then send every line at once without waiting for replies. */
  burst?: boolean;
  /** The command that starts the server, for the hint when nothing answers. */
  serveCommand: string;
}

export async function runSendSession(client: UdpClient, output: Output, options: SendSessionOptions): Promise<void> {
  const interrupts = onClientInterrupt(() => prompt.close());
  const prompt = new Prompt({ input: process.stdin, stdout: process.stdout, stderr: process.stderr, onInterrupt: interrupts.trigger });
  const waiting: Sent[] = [];
  const answered: Sent[] = [];
  const timedOut: Sent[] = [];
  let failed = false;

  const remember = (list: Sent[], sent: Sent) => {
    list.push(sent);
    if (list.length > REMEMBERED) list.shift();
  };
  const settle = (sent: Sent) => {
    clearTimeout(sent.timer);
    sent.settle?.();
  };

  client.on('datagram', (data, atMs) => {
    const text = data.length === 0 ? '(empty datagram)' : shorten(data.toString('utf8'));
    const sent = waiting.find((candidate) => candidate.data.equals(data));
    if (sent) {
      remove(waiting, sent);
      remember(answered, sent);
      settle(sent);
      return output.received(`${text} · ${formatMs(atMs - sent.atMs)}`);
    }
    const late = timedOut.find((candidate) => candidate.data.equals(data));
    if (late) return output.received(`${text} · ${formatMs(atMs - late.atMs)} (late: reported lost already)`);
    if (answered.some((candidate) => candidate.data.equals(data))) return output.received(`${text} (duplicate)`);
    output.received(`${text} (not a reply to anything sent)`);
  });
  client.on('stray', (from, size) => output.note(`ignored ${count(size, 'byte')} from ${from}: not the server`));
  client.on('error', (err) => output.error(`the socket failed: ${err.message}`));

  /** Sends one line as one datagram; resolves when it is answered or timed out. */
  const sendLine = async (line: string): Promise<void> => {
    const data = Buffer.from(line, 'utf8');
    if (data.length > MAX_DATAGRAM_BYTES) {
      const err = tooBig(data.length);
      output.error(err.message, err.hint);
      failed = true;
      return;
    }
    const sent: Sent = { data, atMs: performance.now() };
    const replied = new Promise<void>((resolve) => (sent.settle = resolve));
    sent.timer = setTimeout(() => {
      remove(waiting, sent);
      remember(timedOut, sent);
      output.note(`no reply to ${preview(data, 20)} within ${options.timeoutMs} ms: lost, or no server (UDP cannot tell)`);
      sent.settle?.();
    }, options.timeoutMs);
    waiting.push(sent);
    try {
      await client.send(data);
    } catch (err) {
      remove(waiting, sent);
      settle(sent);
      const problem = sendError('the datagram', err);
      output.error(problem.message, problem.hint);
      failed = true;
    }
    await replied;
  };

  output.attach(prompt);
  try {
    if (options.burst && prompt.interactive) throw new UsageError("--burst sends piped input, as in: printf 'a\\nb\\n' | netlab udp-echo send --burst");
    const burst: string[] = [];
    prompt.ready();
    for await (const line of prompt) {
      // A line past the --burst limit: the rest of the input is not read, and the user is told.
      if (options.burst && burst.length === MAX_BURST_LINES) {
        output.error(`--burst sends at most ${count(MAX_BURST_LINES, 'line')}; the rest of the input was not sent.`);
        failed = true;
        break;
      }
      if (!prompt.interactive) output.sent(shorten(line));
      if (line.trim() === 'exit') break;
      if (options.burst) {
        burst.push(line);
        continue;
      }
      const replied = sendLine(line);
      // Piped input goes one datagram per reply (or timeout), like a person typing.
      if (!prompt.interactive) await replied;
      prompt.ready();
    }
    // --burst: every datagram leaves in this one turn of the event loop, before any reply is read.
    for (const line of burst) void sendLine(line);
    // Input has ended: give the datagrams still out there their chance to be answered.
    await Promise.all(waiting.map((sent) => new Promise<void>((resolve) => chain(sent, resolve))));
  } finally {
    interrupts.dispose();
    output.attach(undefined);
    prompt.close();
    for (const sent of waiting) clearTimeout(sent.timer);
    client.close();
  }

  const { datagramsSent, datagramsReceived } = client.totals;
  output.note(`done · sent ${count(datagramsSent, 'datagram')}, received ${count(datagramsReceived, 'reply', 'replies')}`);
  if (datagramsSent > 0 && datagramsReceived === 0) {
    throw new NetlabError(
      'NETLAB_ERR_NO_REPLY',
      `nothing came back from ${client.remote}: ${datagramsSent === 1 ? 'the datagram got no reply' : `none of the ${count(datagramsSent, 'datagram')} got a reply`}.`,
      `is the server running? Start it with \`${options.serveCommand}\`.`,
    );
  }
  if (failed) throw new AlreadyReported('not every line could be sent as a datagram');
}

/** A piped line as the `>` line shows it: a 70,000-byte line would fill the screen. */
function shorten(line: string): string {
  const shown = visible(line);
  return shown.length <= SHOWN_LINE_CHARS ? shown : `${shown.slice(0, SHOWN_LINE_CHARS)}… (${count(Buffer.byteLength(line), 'byte')})`;
}

function remove(list: Sent[], sent: Sent): void {
  const i = list.indexOf(sent);
  if (i >= 0) list.splice(i, 1);
}

/** Resolves `done` when `sent` is settled (answered or timed out), keeping any earlier waiter. */
function chain(sent: Sent, done: () => void): void {
  const before = sent.settle;
  sent.settle = () => {
    before?.();
    done();
  };
}
