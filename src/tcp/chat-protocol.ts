/**
 * The tcp-chat line protocol (lesson 02), as pure functions: what a client's line means, which
 * names are allowed, and how the server words what it sends. Plain text, one line per message,
 * so `nc` and `telnet` are chat clients too.
 *
 * Client → server: a line of text is a message to everyone else; a line starting with "/" is
 * a command (/nick, /who, /me, /msg, /quit, /help).
 * Server → client:
 *   alice: hello                a message, prefixed by the server with its real sender
 *   * alice waves               /me
 *   alice (private): psst       /msg to you
 *   *** bob joined (3 online)   notices from the server, and answers to commands
 *   *** error: …                a command or line that was refused, and why
 *
 * Leaves out: sockets, timers, limits' enforcement (chat-server.ts), colours (the client).
 */
import { visible } from '../core/text-view.js';

export const MAX_NAME_CHARS = 20;

export type ChatCommand =
  | { kind: 'say'; text: string }
  | { kind: 'nick'; name: string }
  | { kind: 'who' }
  | { kind: 'me'; action: string }
  | { kind: 'msg'; to: string; text: string }
  | { kind: 'quit' }
  | { kind: 'help' }
  | { kind: 'empty' }
  | { kind: 'invalid'; reason: string };

/** What a client's line asks for. The line has no newline; its text is not yet cleaned. */
export function parseChatLine(line: string): ChatCommand {
  if (line.trim() === '') return { kind: 'empty' };
  if (!line.startsWith('/')) return { kind: 'say', text: line };
  const [word = '', ...rest] = line.slice(1).split(' ');
  const args = rest.join(' ').trim();
  switch (word.toLowerCase()) {
    case 'nick':
      return args ? { kind: 'nick', name: args } : { kind: 'invalid', reason: 'usage: /nick NAME' };
    case 'who':
      return { kind: 'who' };
    case 'me':
      return args ? { kind: 'me', action: args } : { kind: 'invalid', reason: 'usage: /me ACTION' };
    case 'msg': {
      const [to = '', ...words] = args.split(' ');
      const text = words.join(' ').trim();
      return to && text ? { kind: 'msg', to, text } : { kind: 'invalid', reason: 'usage: /msg NAME TEXT' };
    }
    case 'quit':
      return { kind: 'quit' };
    case 'help':
      return { kind: 'help' };
    default:
      // "//text" sends "/text" as a message, for the rare message that starts with a slash.
      if (line.startsWith('//')) return { kind: 'say', text: line.slice(1) };
      return { kind: 'invalid', reason: `unknown command /${visible(word)}; /help lists the commands` };
  }
}

/**
 * Why a name cannot be used, or undefined when it can. `taken` says whether another user
 * holds it already (names are unique regardless of case: "Alice" and "alice" are one name).
 */
export function nameProblem(name: string, taken: (key: string) => boolean): string | undefined {
  if (name.length === 0) return 'a name cannot be empty';
  if ([...name].length > MAX_NAME_CHARS) return `a name has at most ${MAX_NAME_CHARS} characters`;
  // Letters and digits of any script, plus - _ . : no spaces, no control characters or ANSI.
  if (!/^[\p{L}\p{N}][\p{L}\p{N}._-]*$/u.test(name)) {
    return 'a name has only letters, digits, - _ . and starts with a letter or digit';
  }
  if (/^guest-\d+$/i.test(name)) return 'guest-N names are given out by the server';
  if (taken(nameKey(name))) return `"${name}" is taken`;
  return undefined;
}

/** The key names are compared by: "Alice", "ALICE" and "alice" are the same name. */
export function nameKey(name: string): string {
  return name.toLocaleLowerCase('en-US');
}

/** Message text as other terminals may receive it: control characters made visible. */
export function cleanText(text: string): string {
  return visible(text);
}

/** The server's wording of each line it sends; every one ends with "\n". */
export const say = {
  message: (from: string, text: string) => `${from}: ${text}\n`,
  action: (from: string, action: string) => `* ${from} ${action}\n`,
  private: (from: string, text: string) => `${from} (private): ${text}\n`,
  notice: (text: string) => `*** ${text}\n`,
  error: (text: string) => `*** error: ${text}\n`,
};

/** The reasons a client leaves, in the words of the leave notice. */
export type LeaveReason = 'quit' | 'connection lost' | 'timed out' | 'disconnected for not reading' | 'server shutting down';

export const HELP_LINES = [
  'commands:',
  '  /nick NAME       change your name',
  '  /who             who is here',
  '  /me ACTION       * you ACTION',
  '  /msg NAME TEXT   a private message',
  '  /quit            leave',
  '  /help            this list',
  'anything else is a message to everyone; //text sends "/text"',
];
