/**
 * `netlab udp-chat connect`: the client side of the UDP chat (lesson 03). What TCP did for the
 * tcp-chat client, this one does by hand, and shows:
 *   - joining: JOIN is sent again if no WELCOME comes back (either datagram may be lost);
 *   - staying: a BEAT every heartbeat interval, or the server expires us; if the server goes
 *     quiet, say so (no connection will break to tell us);
 *   - being forgotten: a server that restarted, or expired us, no longer answers our BEATs; after
 *     a few silent heartbeats we send JOIN again (a JOIN from a member is harmless: WELCOME);
 *   - order and loss: the server numbers its datagrams, and gaps, late arrivals and duplicates
 *     are reported instead of hidden.
 */
import { NetlabError } from '../core/errors.js';
import { onClientInterrupt } from '../core/commands.js';
import type { Output } from '../core/output.js';
import { Prompt } from '../core/prompt.js';
import { visible } from '../core/text-view.js';
import { MAX_CHAT_DATAGRAM_BYTES, describeServerMessage, joinDatagram, parseServerDatagram, type ServerMessage } from './chat-protocol.js';
import { SequenceTracker } from './sequence-tracker.js';
import type { UdpClient } from './udp-client.js';
import { sendError } from './udp-socket.js';

/** JOINs sent before giving up, one per JOIN_RETRY_MS. */
export const JOIN_ATTEMPTS = 3;
export const JOIN_RETRY_MS = 1000;
/** After QUIT, how long to wait for the server's BYE. */
const BYE_WAIT_MS = 1000;
/** Heartbeat intervals without a word from the server before we say it went quiet. */
const SILENT_HEARTBEATS = 3;
/**
 * The heartbeat intervals the client accepts from a WELCOME; outside them it uses the nearest
 * (a forged WELCOME with 0 ms must not make it send as fast as it can).
 */
const MIN_HEARTBEAT_MS = 100;
const MAX_HEARTBEAT_MS = 60_000;

const HELP_LINES = [
  'commands:',
  '  /nick NAME       change your name',
  '  /who             who is here',
  '  /quit            leave',
  '  /help            this list',
  'anything else is a message to everyone',
];

export interface ChatSessionOptions {
  name?: string;
  serveCommand: string;
}

export async function runUdpChatSession(client: UdpClient, output: Output, options: ChatSessionOptions): Promise<void> {
  const tracker = new SequenceTracker();
  let name = options.name;
  let welcomed: (() => void) | undefined;
  let joinRefused: ((reason: string) => void) | undefined;
  let byeReceived: (() => void) | undefined;
  let serverSaidBye = false;
  let lastHeardMs = performance.now();
  let toldSilent = false;
  let heartbeat: NodeJS.Timeout | undefined;
  let fatal: NetlabError | undefined;

  const interrupts = onClientInterrupt(() => prompt.close());
  const prompt = new Prompt({ input: process.stdin, stdout: process.stdout, stderr: process.stderr, onInterrupt: interrupts.trigger });
  const send = (text: string) =>
    client.send(Buffer.from(text, 'utf8')).catch((err: unknown) => output.error(sendError('a datagram', err).message));
  // Padded with spaces: the server answers a new address with no more bytes than it sent.
  const join = () => send(joinDatagram(name));

  const handle = (message: ServerMessage, seq: number, mark: string) => {
    if (message.kind === 'WELCOME') {
      name = message.name;
      startHeartbeat(message.heartbeatMs);
      welcomed?.();
    }
    if (seq === 0 && message.kind === 'ERROR' && joinRefused) return joinRefused(message.reason); // the chat is full
    if (message.kind === 'BYE') {
      serverSaidBye = true;
      byeReceived?.();
      prompt.close();
    }
    const shown = describeServerMessage(message);
    if (shown) output.received(`${shown}${mark}`);
  };

  client.on('datagram', (data) => {
    lastHeardMs = performance.now();
    if (toldSilent) {
      toldSilent = false;
      output.note('the server answers again');
    }
    const parsed = parseServerDatagram(data.toString('utf8'));
    if (!parsed) return output.note(`ignored a datagram that is not udp-chat: ${visible(data.toString('utf8', 0, 40))}`);
    const { seq, message } = parsed;
    if (message.kind === 'WELCOME') tracker.reset(seq);
    let mark = '';
    if (seq > 0 && message.kind !== 'WELCOME') {
      const check = tracker.check(seq);
      if (check.kind === 'duplicate') return output.note(`datagram ${seq} arrived twice; ignored the copy`);
      if (check.kind === 'gap') output.note(gapNote(check.from, check.to));
      if (check.kind === 'late') mark = ` (datagram ${seq}, late: overtaken by a later one)`;
    }
    handle(message, seq, mark);
  });
  client.on('stray', (from, size) => output.note(`ignored ${size} bytes from ${from}: not the server`));
  client.on('error', (err) => output.error(`the socket failed: ${err.message}`));

  function startHeartbeat(askedMs: number): void {
    const intervalMs = Math.min(MAX_HEARTBEAT_MS, Math.max(MIN_HEARTBEAT_MS, askedMs));
    clearInterval(heartbeat);
    heartbeat = setInterval(() => {
      void send('BEAT');
      const silentMs = performance.now() - lastHeardMs;
      // Half an interval short of SILENT_HEARTBEATS, so that timer drift cannot make it one more.
      if (silentMs < (SILENT_HEARTBEATS - 0.5) * intervalMs) return;
      // The server may have restarted, or expired us: it does not answer strangers, so join again.
      void join();
      if (!toldSilent) {
        toldSilent = true;
        output.note(`nothing from the server for ${Math.round(silentMs / 1000)} s: it stopped, or forgot us; sending JOIN with each heartbeat`);
      }
    }, intervalMs);
  }

  output.attach(prompt);
  try {
    // JOIN until welcomed: the JOIN or the WELCOME may be lost, and UDP will not resend either.
    const joined = await new Promise<boolean>((resolve) => {
      let attempts = 0;
      let timer: NodeJS.Timeout | undefined;
      welcomed = () => {
        clearTimeout(timer);
        resolve(true);
      };
      joinRefused = (reason) => {
        clearTimeout(timer);
        fatal = new NetlabError('NETLAB_ERR_JOIN_REFUSED', `the server refused to let us join: ${visible(reason)}.`);
        resolve(false);
      };
      const attempt = () => {
        if (attempts === JOIN_ATTEMPTS) return resolve(false);
        if (attempts > 0) output.note(`no WELCOME within ${JOIN_RETRY_MS} ms; sending JOIN again (UDP may have lost one of them)`);
        attempts++;
        void join();
        timer = setTimeout(attempt, JOIN_RETRY_MS);
      };
      attempt();
    });
    welcomed = undefined;
    joinRefused = undefined;
    if (!joined) {
      throw (
        fatal ??
        new NetlabError(
          'NETLAB_ERR_NO_REPLY',
          `no answer from ${client.remote} to ${JOIN_ATTEMPTS} JOINs.`,
          `is the server running? Start it with \`${options.serveCommand}\`.`,
        )
      );
    }

    prompt.ready();
    for await (const line of prompt) {
      if (!prompt.interactive) output.sent(visible(line));
      const datagram = commandFor(line, output);
      if (datagram === 'QUIT') break;
      if (datagram !== undefined) {
        if (Buffer.byteLength(datagram) > MAX_CHAT_DATAGRAM_BYTES) {
          output.error(`that message is too long: a udp-chat datagram holds at most ${MAX_CHAT_DATAGRAM_BYTES} bytes.`);
        } else {
          await send(datagram);
        }
      }
      prompt.ready();
    }
    if (serverSaidBye) {
      throw new NetlabError('NETLAB_ERR_SERVER_CLOSED', `the server at ${client.remote} stopped (it said BYE).`, `start it again with \`${options.serveCommand}\`.`);
    }
    // Leave politely; if the QUIT or the BYE is lost, the server expires us anyway. No BEAT
    // after the QUIT: the server has forgotten us by then, and would refuse it as a stranger's.
    clearInterval(heartbeat);
    const bye = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), BYE_WAIT_MS);
      byeReceived = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    await send('QUIT');
    if (!(await bye)) output.note('no BYE from the server; leaving anyway (it will time us out)');
  } finally {
    clearInterval(heartbeat);
    interrupts.dispose();
    output.attach(undefined);
    prompt.close();
    client.close();
  }
  output.note(`left · sent ${client.totals.datagramsSent} datagrams, received ${client.totals.datagramsReceived}`);
}

/** The datagram for what the user typed; undefined when nothing is to be sent. */
function commandFor(line: string, output: Output): string | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  if (!text.startsWith('/')) return `SAY ${line}`;
  const [word = '', ...rest] = text.slice(1).split(' ');
  const arg = rest.join(' ').trim();
  switch (word.toLowerCase()) {
    case 'nick':
      if (arg) return `NICK ${arg}`;
      output.error('usage: /nick NAME');
      return undefined;
    case 'who':
      return 'WHO';
    case 'quit':
      return 'QUIT';
    case 'help':
      for (const help of HELP_LINES) output.note(help);
      return undefined;
    default:
      output.error(`unknown command /${visible(word)}; /help lists the commands`);
      return undefined;
  }
}

function gapNote(from: number, to: number): string {
  const n = to - from + 1;
  const which = n === 1 ? `datagram ${from}` : `datagrams ${from}–${to}`;
  return `missed ${which} from the server: lost, or still on the way`;
}
