/**
 * The udp-chat protocol (lesson 03, "A chat without connections"), as pure functions. Every
 * message is one datagram of UTF-8 text, so `nc -u` is a client too.
 *
 * Client → server, a command word and its argument:
 *   JOIN [NAME]     join the chat (again, after a server restart); no name: guest-N. Padded
 *                   with spaces: the server answers an address that has not joined with no
 *                   more bytes than it received (see "Amplification" below)
 *   SAY TEXT        a message to everyone else
 *   NICK NAME       change name
 *   WHO             who is here
 *   BEAT            heartbeat: "still here" (a member silent too long expires)
 *   QUIT            leave
 *
 * Server → client, each datagram one line ending in "\n" (so that nc prints one per line) and
 * numbered for its receiver (1, 2, 3… per member), so the client sees what the network lost,
 * duplicated or reordered. Text from members is relayed with control characters made visible,
 * so no terminal, nc's included, receives raw escape sequences. A datagram from an address
 * that has not joined gets no answer at all, except a JOIN (0 ERROR when the chat is full):
 *   1 WELCOME bob 5000 3      your name, the heartbeat interval in ms, members online
 *   2 MSG alice hello         alice said "hello"
 *   3 JOINED carol 3          3 online now
 *   4 LEFT carol timed-out    quit | timed-out
 *   5 RENAMED bob robert
 *   6 WHO alice robert +3     who is here: as many names as fit one datagram, +N for the rest
 *   7 ALIVE                   the answer to BEAT
 *   8 ERROR the reason        a command refused; the member stays
 *   9 BYE                     after QUIT, or when the server stops
 *
 * Amplification. The source address of a datagram can be forged, so an answer to a stranger
 * may go to a victim who never asked. If the answer were bigger than the question, an
 * attacker could turn the server into an amplifier (lesson 03, "Echo servers on the open
 * internet"). So what a JOIN from a new address gets back is never bigger than that JOIN:
 * a JOIN is padded with spaces, as QUIC pads its first packet to 1,200 bytes (RFC 9000,
 * section 8.1), and netlab's client pads it to JOIN_PADDED_BYTES.
 *
 * Leaves out: sockets, timers, who is a member (chat-server.ts, chat-roster.ts), and how a
 * client reads the sequence numbers (sequence-tracker.ts).
 */
import { visible } from '../core/text-view.js';

/** The longest datagram a member may send, and the longest the server sends. */
export const MAX_CHAT_DATAGRAM_BYTES = 1024;

/**
 * What netlab's client pads a JOIN to: room for the longest WELCOME (a 20-letter name of
 * 4-byte characters) and the ERROR that explains a refused name, with some to spare.
 */
export const JOIN_PADDED_BYTES = 512;

/** The JOIN datagram, padded with spaces to JOIN_PADDED_BYTES (see "Amplification" above). */
export function joinDatagram(name: string | undefined): string {
  const join = name ? `JOIN ${name}` : 'JOIN';
  return join + ' '.repeat(Math.max(0, JOIN_PADDED_BYTES - Buffer.byteLength(join)));
}

export type ClientCommand =
  | { kind: 'join'; name?: string }
  | { kind: 'say'; text: string }
  | { kind: 'nick'; name: string }
  | { kind: 'who' }
  | { kind: 'beat' }
  | { kind: 'quit' }
  | { kind: 'invalid'; reason: string };

/** What a client's datagram asks for. A trailing newline (nc sends one) is ignored. */
export function parseClientDatagram(text: string): ClientCommand {
  const line = text.replace(/\r?\n$/, '');
  const space = line.indexOf(' ');
  const word = (space < 0 ? line : line.slice(0, space)).toUpperCase();
  const arg = space < 0 ? '' : line.slice(space + 1).trim();
  switch (word) {
    case 'JOIN':
      return arg ? { kind: 'join', name: arg } : { kind: 'join' };
    case 'SAY':
      return arg ? { kind: 'say', text: arg } : { kind: 'invalid', reason: 'SAY needs a text' };
    case 'NICK':
      return arg ? { kind: 'nick', name: arg } : { kind: 'invalid', reason: 'NICK needs a name' };
    case 'WHO':
      return { kind: 'who' };
    case 'BEAT':
      return { kind: 'beat' };
    case 'QUIT':
      return { kind: 'quit' };
    default:
      return { kind: 'invalid', reason: `unknown command "${visible(word.slice(0, 20))}": JOIN, SAY, NICK, WHO, BEAT or QUIT` };
  }
}

export type LeaveReason = 'quit' | 'timed-out' | 'server-stopped';

/** What the server sends, before its sequence number is put in front. */
export type ServerMessage =
  | { kind: 'WELCOME'; name: string; heartbeatMs: number; online: number }
  | { kind: 'MSG'; from: string; text: string }
  | { kind: 'JOINED'; name: string; online: number }
  | { kind: 'LEFT'; name: string; reason: LeaveReason }
  | { kind: 'RENAMED'; from: string; to: string }
  | { kind: 'WHO'; names: string[]; /** Members whose names did not fit. */ more?: number }
  | { kind: 'ALIVE' }
  | { kind: 'ERROR'; reason: string }
  | { kind: 'BYE' };

/** The datagram for `message`, numbered `seq`, ending in a newline. */
export function formatServerDatagram(seq: number, message: ServerMessage): string {
  return `${serverLine(seq, message)}\n`;
}

function serverLine(seq: number, message: ServerMessage): string {
  switch (message.kind) {
    case 'WELCOME':
      return `${seq} WELCOME ${message.name} ${message.heartbeatMs} ${message.online}`;
    case 'MSG':
      return `${seq} MSG ${message.from} ${message.text}`;
    case 'JOINED':
      return `${seq} JOINED ${message.name} ${message.online}`;
    case 'LEFT':
      return `${seq} LEFT ${message.name} ${message.reason}`;
    case 'RENAMED':
      return `${seq} RENAMED ${message.from} ${message.to}`;
    case 'WHO': {
      const more = message.more ? ` +${message.more}` : '';
      return `${seq} WHO ${message.names.join(' ')}${more}`;
    }
    case 'ERROR':
      return `${seq} ERROR ${message.reason}`;
    case 'ALIVE':
    case 'BYE':
      return `${seq} ${message.kind}`;
  }
}

/** A server datagram read back: its number and message, or undefined if it is not one. */
export function parseServerDatagram(text: string): { seq: number; message: ServerMessage } | undefined {
  const match = /^(0|[1-9][0-9]{0,14}) ([A-Z]+)(?: (.*))?$/s.exec(text.endsWith('\n') ? text.slice(0, -1) : text);
  if (!match) return undefined;
  const seq = Number(match[1]);
  const rest = match[3] ?? '';
  const words = rest.split(' ');
  const [first = '', second = '', third = ''] = words;
  const afterFirst = rest.slice(first.length + 1);
  const wholeNumber = (s: string) => (/^[0-9]{1,9}$/.test(s) ? Number(s) : undefined);
  let message: ServerMessage | undefined;
  switch (match[2]) {
    case 'WELCOME': {
      const heartbeatMs = wholeNumber(second);
      const online = wholeNumber(third);
      if (first && heartbeatMs !== undefined && online !== undefined) message = { kind: 'WELCOME', name: first, heartbeatMs, online };
      break;
    }
    case 'MSG':
      if (first) message = { kind: 'MSG', from: first, text: afterFirst };
      break;
    case 'JOINED': {
      const online = wholeNumber(second);
      if (first && online !== undefined) message = { kind: 'JOINED', name: first, online };
      break;
    }
    case 'LEFT':
      if (first && isLeaveReason(second)) message = { kind: 'LEFT', name: first, reason: second };
      break;
    case 'RENAMED':
      if (first && second) message = { kind: 'RENAMED', from: first, to: second };
      break;
    case 'WHO': {
      // Names start with a letter or digit, so "+3" at the end can only be the count of the rest.
      const names = rest ? words : [];
      const more = /^\+[1-9][0-9]{0,5}$/.test(names.at(-1) ?? '') ? Number(names.pop()!.slice(1)) : 0;
      message = more > 0 ? { kind: 'WHO', names, more } : { kind: 'WHO', names };
      break;
    }
    case 'ERROR':
      message = { kind: 'ERROR', reason: rest };
      break;
    case 'ALIVE':
    case 'BYE':
      if (!rest) message = { kind: match[2] };
      break;
  }
  return message ? { seq, message } : undefined;
}

function isLeaveReason(word: string): word is LeaveReason {
  return word === 'quit' || word === 'timed-out' || word === 'server-stopped';
}

/**
 * How the client shows a server message; undefined for ones it does not show (ALIVE). Names
 * are made visible too: the server checks them, but a datagram "from the server" may be forged.
 */
export function describeServerMessage(message: ServerMessage): string | undefined {
  switch (message.kind) {
    case 'WELCOME':
      return `*** welcome, ${visible(message.name)} (${message.online} online)`;
    case 'MSG':
      return `${visible(message.from)}: ${visible(message.text)}`;
    case 'JOINED':
      return `*** ${visible(message.name)} joined (${message.online} online)`;
    case 'LEFT':
      return `*** ${visible(message.name)} left (${LEAVE_WORDS[message.reason]})`;
    case 'RENAMED':
      return `*** ${visible(message.from)} is now ${visible(message.to)}`;
    case 'WHO': {
      const more = message.more ? ` and ${message.more} more` : '';
      return `*** online: ${message.names.map(visible).join(', ')}${more}`;
    }
    case 'ERROR':
      return `*** error: ${visible(message.reason)}`;
    case 'ALIVE':
      return undefined;
    case 'BYE':
      return '*** bye';
  }
}

const LEAVE_WORDS: Record<LeaveReason, string> = { quit: 'quit', 'timed-out': 'no heartbeat: timed out', 'server-stopped': 'server stopped' };
