/**
 * What a ws-chat user types and sees at the terminal (lesson 05), as pure functions: a typed
 * line becomes a request (the commands of tcp-chat, plus /join ROOM), and a JSON message from
 * the server becomes the lines a person reads, in tcp-chat's shapes:
 *
 *   *** you are alice in lobby · 2 here: alice, bob       after each join
 *   bob: hello                                            a message in the room
 *   * bob waves                                           /me
 *   bob (private): psst                                   a private message to you
 *   (private to bob) psst                                 one you sent from another tab
 *   *** carol joined lobby (3 here)                       a notice
 *   *** error: no one here is called dave                 a refusal
 *
 * Your own messages come back with their id as receipts; they are not shown again. Text from
 * the server has control characters made visible, whatever the server did.
 */
import { visible } from '../core/text-view.js';
import { HELP_LINES, parseChatLine, type ChatCommand } from '../tcp/chat-protocol.js';
import type { ChatLine, ServerMessage } from './chat-protocol.js';
import type { ChatRequest } from './chat-client.js';

export type ChatInput = ChatCommand | { kind: 'join'; room: string };

/** What a typed line asks for (the text is not yet cleaned). */
export function parseChatInput(line: string): ChatInput {
  if (/^\/join(\s|$)/i.test(line)) {
    const room = line.slice('/join'.length).trim();
    return room ? { kind: 'join', room } : { kind: 'invalid', reason: 'usage: /join ROOM' };
  }
  return parseChatLine(line);
}

/** The request a typed command sends, or undefined for the ones the client answers itself. */
export function requestFor(input: ChatInput): ChatRequest | undefined {
  switch (input.kind) {
    case 'say':
      return { type: 'message', text: input.text };
    case 'me':
      return { type: 'message', text: input.action, action: true };
    case 'msg':
      return { type: 'private', to: input.to, text: input.text };
    case 'nick':
      return { type: 'rename', name: input.name };
    case 'join':
      return { type: 'join', room: input.room };
    case 'who':
      return { type: 'users' };
    default:
      return undefined;
  }
}

/** tcp-chat's /help, with /join after /msg. */
export const WS_HELP_LINES = HELP_LINES.flatMap((line) =>
  line.startsWith('  /msg')
    ? [line, '  /join ROOM       go to another room (made when someone joins it)']
    : [line.replace('a message to everyone', 'a message to everyone in your room')],
);

/** The lines one server message shows; none for our own receipts. */
export function showServerMessage(message: ServerMessage, me: string | undefined): string[] {
  switch (message.type) {
    case 'joined':
    case 'history':
      return []; // shown with the users list that follows them (see JoinView)
    case 'users':
      return [`*** ${countHere(message.users)} in ${visible(message.room)}: ${message.users.map(visible).join(', ')}`];
    case 'message':
      return message.id !== undefined ? [] : [showLine(message)];
    case 'private':
      if (message.id !== undefined) return [];
      if (message.from === me) return [`(private to ${visible(message.to)}) ${visible(message.text)}`];
      return [`${visible(message.from)} (private): ${visible(message.text)}`];
    case 'notice':
      return [`*** ${visible(message.text)}`];
    case 'error':
      return [`*** error: ${visible(message.text)}`];
    default:
      return [];
  }
}

/** `bob: hello` or `* bob waves`. */
export function showLine(line: ChatLine): string {
  return line.action ? `* ${visible(line.from)} ${visible(line.text)}` : `${visible(line.from)}: ${visible(line.text)}`;
}

function countHere(users: readonly string[]): string {
  return users.length === 1 ? '1 here' : `${users.length} here`;
}

/**
 * A join arrives as three messages (joined, history, users); a person wants one line about
 * where they are, then the room's last messages. This collects the three and says them once.
 */
export class JoinView {
  private joined: Extract<ServerMessage, { type: 'joined' }> | undefined;
  private history: ChatLine[] = [];
  /** The last messages seen (shown, or our own), so a rejoin's history shows only what is new. */
  private readonly seen: string[] = [];

  /** The lines to show for `message`, in place of showServerMessage's. */
  show(message: ServerMessage, me: string | undefined): string[] {
    if (message.type === 'message') this.remember(message);
    if (message.type === 'joined') {
      this.joined = message;
      this.history = [];
      return [];
    }
    if (message.type === 'history' && this.joined) {
      this.history = message.messages.filter((line) => !this.seen.includes(keyOf(line)));
      this.history.forEach((line) => this.remember(line));
      return [];
    }
    if (message.type === 'users' && this.joined) {
      const { name, room } = this.joined;
      this.joined = undefined;
      const lines = [`*** you are ${visible(name)} in ${visible(room)} · ${countHere(message.users)}: ${message.users.map(visible).join(', ')}`];
      if (this.history.length > 0) {
        lines.push(`*** the last ${this.history.length === 1 ? 'message' : `${this.history.length} messages`} in ${visible(room)}:`);
        lines.push(...this.history.map((line) => `  ${showLine(line)}`));
      }
      return lines;
    }
    return showServerMessage(message, me);
  }

  private remember(line: ChatLine): void {
    this.seen.push(keyOf(line));
    if (this.seen.length > SEEN_MESSAGES) this.seen.shift();
  }
}

/** More than a room's history holds (MAX_HISTORY), so a rejoin never repeats a line. */
const SEEN_MESSAGES = 100;

function keyOf(line: ChatLine): string {
  return `${line.time}\u0000${line.room}\u0000${line.from}\u0000${line.text}`;
}
