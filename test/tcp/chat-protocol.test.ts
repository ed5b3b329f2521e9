import { describe, expect, it } from 'vitest';
import { HELP_LINES, MAX_NAME_CHARS, cleanText, nameKey, nameProblem, parseChatLine, say } from '../../src/tcp/chat-protocol.js';

describe('parseChatLine', () => {
  it('reads plain text as a message to everyone', () => {
    expect(parseChatLine('hello there')).toEqual({ kind: 'say', text: 'hello there' });
  });

  it('reads each command with its arguments', () => {
    expect(parseChatLine('/nick alice')).toEqual({ kind: 'nick', name: 'alice' });
    expect(parseChatLine('/who')).toEqual({ kind: 'who' });
    expect(parseChatLine('/me waves hello')).toEqual({ kind: 'me', action: 'waves hello' });
    expect(parseChatLine('/msg bob see you  at 5')).toEqual({ kind: 'msg', to: 'bob', text: 'see you  at 5' });
    expect(parseChatLine('/quit')).toEqual({ kind: 'quit' });
    expect(parseChatLine('/HELP')).toEqual({ kind: 'help' });
  });

  it('explains a command used without its arguments', () => {
    expect(parseChatLine('/nick')).toEqual({ kind: 'invalid', reason: 'usage: /nick NAME' });
    expect(parseChatLine('/me ')).toEqual({ kind: 'invalid', reason: 'usage: /me ACTION' });
    expect(parseChatLine('/msg bob')).toEqual({ kind: 'invalid', reason: 'usage: /msg NAME TEXT' });
  });

  it('refuses an unknown command, showing its name safely', () => {
    expect(parseChatLine('/dance\x1b[2J')).toEqual({
      kind: 'invalid',
      reason: 'unknown command /dance\\x1b[2J; /help lists the commands',
    });
  });

  it('sends "//text" as the message "/text"', () => {
    expect(parseChatLine('//shrug')).toEqual({ kind: 'say', text: '/shrug' });
  });

  it('ignores blank lines', () => {
    expect(parseChatLine('')).toEqual({ kind: 'empty' });
    expect(parseChatLine('   ')).toEqual({ kind: 'empty' });
  });
});

describe('nameProblem', () => {
  const nobody = () => false;

  it.each(['alice', 'Bob_2', 'o.k', 'Олена', '李', 'a'.repeat(MAX_NAME_CHARS)])('accepts %j', (name) => {
    expect(nameProblem(name, nobody)).toBeUndefined();
  });

  it.each([
    ['', 'cannot be empty'],
    ['a'.repeat(MAX_NAME_CHARS + 1), `at most ${MAX_NAME_CHARS} characters`],
    ['two words', 'only letters, digits'],
    ['\x1b[31mred', 'only letters, digits'],
    ['-dash', 'starts with a letter or digit'],
    ['bell\x07', 'only letters, digits'],
    ['guest-7', 'given out by the server'],
  ])('refuses %j: %s', (name, reason) => {
    expect(nameProblem(name, nobody)).toContain(reason);
  });

  it('refuses a name someone holds, whatever its case', () => {
    const taken = (key: string) => key === nameKey('Alice');
    expect(nameProblem('ALICE', taken)).toBe('"ALICE" is taken');
  });
});

describe('what the server sends', () => {
  it('prefixes every line with who it is from, and ends it with a newline', () => {
    expect(say.message('alice', 'hi')).toBe('alice: hi\n');
    expect(say.action('alice', 'waves')).toBe('* alice waves\n');
    expect(say.private('alice', 'psst')).toBe('alice (private): psst\n');
    expect(say.notice('bob joined (2 online)')).toBe('*** bob joined (2 online)\n');
    expect(say.error('no such user')).toBe('*** error: no such user\n');
  });

  it('never passes control characters on raw', () => {
    expect(cleanText('hi\x1b[2J\x00\r')).toBe('hi\\x1b[2J\\x00\\r');
  });

  it('documents every command in /help', () => {
    for (const command of ['/nick', '/who', '/me', '/msg', '/quit']) {
      expect(HELP_LINES.some((line) => line.includes(command))).toBe(true);
    }
  });
});
