/**
 * The ws-chat protocol (src/ws/chat-protocol.ts, lesson 05) as pure functions: one WebSocket
 * text message in, a client message or an error that names the problem out. Each refusal is
 * checked by its stable `code` and the `field` it is about; the `text` is for people.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ROOM,
  MAX_ID_CHARS,
  MAX_NAME_CHARS,
  MAX_ROOM_CHARS,
  MAX_TEXT_CHARS,
  encode,
  parseClientMessage,
  roomKey,
  type Parsed,
} from '../../src/ws/chat-protocol.js';

const TOKEN = '0123456789abcdef0123456789abcdef';

/** Parses a message given as a value (stringified here) or as raw text. */
function parse(message: unknown): Parsed {
  return parseClientMessage(typeof message === 'string' ? message : JSON.stringify(message));
}

/** The error a message is refused with; fails the test when it is accepted. */
function refusal(message: unknown): Exclude<Parsed, { ok: true }> {
  const parsed = parse(message);
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(message)} to be refused, got ${JSON.stringify(parsed.message)}`);
  return parsed;
}

describe('parseClientMessage: what it accepts', () => {
  it('reads each of the five client types with exactly the fields it uses', () => {
    expect(parse({ type: 'join', name: 'alice', room: 'games', token: TOKEN })).toEqual({
      ok: true,
      message: { type: 'join', name: 'alice', room: 'games', token: TOKEN },
    });
    expect(parse({ type: 'message', text: 'hi', id: '7' })).toEqual({ ok: true, message: { type: 'message', text: 'hi', action: false, id: '7' } });
    expect(parse({ type: 'message', text: 'waves', action: true })).toEqual({ ok: true, message: { type: 'message', text: 'waves', action: true } });
    expect(parse({ type: 'message', text: 'plain', action: false })).toEqual({ ok: true, message: { type: 'message', text: 'plain', action: false } });
    expect(parse({ type: 'private', to: 'bob', text: 'psst', id: '8' })).toEqual({ ok: true, message: { type: 'private', to: 'bob', text: 'psst', id: '8' } });
    expect(parse({ type: 'rename', name: 'al' })).toEqual({ ok: true, message: { type: 'rename', name: 'al' } });
    expect(parse({ type: 'users' })).toEqual({ ok: true, message: { type: 'users' } });
  });

  it('fills in a join with nothing but its type: no name (a guest), the default room, no token', () => {
    expect(DEFAULT_ROOM).toBe('lobby');
    expect(parse({ type: 'join' })).toEqual({ ok: true, message: { type: 'join', room: 'lobby' } });
  });

  it('ignores fields a type does not use, so a newer client can talk to this server', () => {
    expect(parse({ type: 'users', room: 'games', extra: { nested: [1, 2] } })).toEqual({ ok: true, message: { type: 'users' } });
    expect(parse({ type: 'message', text: 'hi', to: 'bob', name: 42, colour: 'red' })).toEqual({
      ok: true,
      message: { type: 'message', text: 'hi', action: false },
    });
    expect(parse({ type: 'rename', name: 'al', room: 'x y', to: 7 })).toEqual({ ok: true, message: { type: 'rename', name: 'al' } });
    expect(parse({ type: 'join', text: 42, action: 'yes' })).toEqual({ ok: true, message: { type: 'join', room: 'lobby' } });
  });

  it('keeps the id of any type of message, so the answer can carry it back', () => {
    expect(parse({ type: 'join', name: 'alice', id: '1' })).toEqual({ ok: true, message: { type: 'join', name: 'alice', room: 'lobby', id: '1' } });
    expect(parse({ type: 'rename', name: 'al', id: '2' })).toEqual({ ok: true, message: { type: 'rename', name: 'al', id: '2' } });
    expect(parse({ type: 'users', id: '3' })).toEqual({ ok: true, message: { type: 'users', id: '3' } });
    expect(parse({ type: 'message', text: 'hi', id: '' })).toEqual({ ok: true, message: { type: 'message', text: 'hi', action: false, id: '' } });
  });

  it('accepts text of exactly 1000 characters, counting an emoji as one character', () => {
    expect(MAX_TEXT_CHARS).toBe(1000);
    expect(parse({ type: 'message', text: 'a'.repeat(1000) }).ok).toBe(true);
    const emoji = '🙂'.repeat(1000); // 2000 UTF-16 code units, 4000 bytes: still 1000 characters
    expect(emoji.length).toBe(2000);
    expect(parse({ type: 'message', text: emoji })).toEqual({ ok: true, message: { type: 'message', text: emoji, action: false } });
    expect(parse({ type: 'private', to: 'bob', text: 'é'.repeat(1000) }).ok).toBe(true);
  });

  it('accepts names, rooms and ids at their longest', () => {
    expect(parse({ type: 'join', name: 'n'.repeat(MAX_NAME_CHARS), room: 'r'.repeat(MAX_ROOM_CHARS) }).ok).toBe(true);
    expect(parse({ type: 'rename', name: 'ñ'.repeat(MAX_NAME_CHARS) }).ok).toBe(true);
    expect(parse({ type: 'message', text: 'hi', id: 'i'.repeat(MAX_ID_CHARS) }).ok).toBe(true);
  });

  it('accepts rooms of letters and digits of any script, with - _ . after the first character', () => {
    for (const room of ['games', 'Room-2', 'a.b_c-d', 'café', '日本', '9lives']) {
      expect(parse({ type: 'join', room }), room).toEqual({ ok: true, message: { type: 'join', room } });
    }
  });

  it('is not fooled by keys that name Object.prototype members', () => {
    expect(refusal('{"__proto__":{"type":"users"}}')).toMatchObject({ code: 'missing-field', field: 'type' });
    expect(refusal({ type: 'constructor' })).toMatchObject({ code: 'unknown-type', field: 'type' });
    expect(refusal({ type: 'toString' })).toMatchObject({ code: 'unknown-type', field: 'type' });
  });
});

describe('parseClientMessage: what it refuses, and why', () => {
  it('refuses what is not JSON with bad-json, and says what the parser said', () => {
    for (const data of ['', 'hello', '{', '{"type":"message",}', "{'type':'users'}", '{"type":"users"} trailing']) {
      const error = refusal(data);
      expect(error.code, JSON.stringify(data)).toBe('bad-json');
      expect(error.text).toMatch(/^not JSON: /);
      expect(error.field).toBeUndefined();
    }
  });

  it('refuses JSON that is not an object with not-an-object, naming what it was', () => {
    const cases: Array<[string, string]> = [
      ['[]', 'an array'],
      ['[{"type":"users"}]', 'an array'],
      ['null', 'null'],
      ['42', 'a number'],
      ['"users"', 'a string'],
      ['true', 'a boolean'],
    ];
    for (const [data, kind] of cases) {
      const error = refusal(data);
      expect(error.code, data).toBe('not-an-object');
      expect(error.text).toMatch(new RegExp(`not ${kind}$`));
    }
  });

  it('refuses an object without a type with missing-field "type", listing the types', () => {
    const error = refusal({ text: 'hi' });
    expect(error).toMatchObject({ code: 'missing-field', field: 'type' });
    expect(error.text).toContain('join, message, private, rename, users');
  });

  it('refuses a type it does not know with unknown-type, quoting it; types are case-sensitive', () => {
    expect(refusal({ type: 'dance' })).toMatchObject({ code: 'unknown-type', field: 'type', text: expect.stringContaining('"dance"') });
    expect(refusal({ type: 'Message', text: 'hi' })).toMatchObject({ code: 'unknown-type', field: 'type' });
    expect(refusal({ type: 42 })).toMatchObject({ code: 'unknown-type', field: 'type', text: expect.stringContaining('a number') });
    expect(refusal({ type: null })).toMatchObject({ code: 'unknown-type', field: 'type' });
    // A control character in the type is shown escaped, never raw.
    expect(refusal({ type: 'x\u001b[31m' }).text).toContain('x\\x1b[31m');
  });

  it('refuses a field of the wrong JSON type with bad-field, naming the field and what it was', () => {
    const cases: Array<[object, string, string]> = [
      [{ type: 'message', text: 42 }, 'text', 'a number'],
      [{ type: 'message', text: 'hi', action: 'yes' }, 'action', 'a string'],
      [{ type: 'message', text: 'hi', action: 1 }, 'action', 'a number'],
      [{ type: 'join', name: 7 }, 'name', 'a number'],
      [{ type: 'join', room: ['a'] }, 'room', 'an array'],
      [{ type: 'join', token: { t: 1 } }, 'token', 'an object'],
      [{ type: 'private', to: null, text: 'hi' }, 'to', 'null'],
      [{ type: 'private', to: 'bob', text: false }, 'text', 'a boolean'],
      [{ type: 'rename', name: ['al'] }, 'name', 'an array'],
      [{ type: 'message', text: 'hi', id: 7 }, 'id', 'a number'],
    ];
    for (const [message, field, kind] of cases) {
      const error = refusal(message);
      expect(error, JSON.stringify(message)).toMatchObject({ code: 'bad-field', field });
      expect(error.text).toContain(kind);
    }
  });

  it('refuses a message without a field its type needs with missing-field', () => {
    const cases: Array<[object, string]> = [
      [{ type: 'message' }, 'text'],
      [{ type: 'message', action: true }, 'text'],
      [{ type: 'private', text: 'psst' }, 'to'],
      [{ type: 'private', to: 'bob' }, 'text'],
      [{ type: 'rename' }, 'name'],
    ];
    for (const [message, field] of cases) {
      const error = refusal(message);
      expect(error, JSON.stringify(message)).toMatchObject({ code: 'missing-field', field });
      expect(error.text).toContain(`"${field}"`);
    }
  });

  it('refuses an empty or blank field with bad-field', () => {
    const cases: Array<[object, string]> = [
      [{ type: 'message', text: '' }, 'text'],
      [{ type: 'message', text: ' \t\n ' }, 'text'],
      [{ type: 'private', to: '', text: 'hi' }, 'to'],
      [{ type: 'private', to: 'bob', text: '  ' }, 'text'],
      [{ type: 'rename', name: ' ' }, 'name'],
      [{ type: 'join', name: '' }, 'name'],
      [{ type: 'join', room: '' }, 'room'],
    ];
    for (const [message, field] of cases) {
      expect(refusal(message), JSON.stringify(message)).toMatchObject({ code: 'bad-field', field, text: `"${field}" is empty` });
    }
  });

  it('refuses text of 1001 characters with too-long, counting emoji as one character each', () => {
    expect(refusal({ type: 'message', text: 'a'.repeat(1001) })).toMatchObject({
      code: 'too-long',
      field: 'text',
      text: '"text" has 1001 characters; at most 1000 are allowed',
    });
    expect(refusal({ type: 'message', text: '🙂'.repeat(1001) })).toMatchObject({ code: 'too-long', field: 'text', text: expect.stringContaining('1001 characters') });
    expect(refusal({ type: 'private', to: 'bob', text: 'x'.repeat(5000) })).toMatchObject({ code: 'too-long', field: 'text' });
  });

  it('refuses names, rooms, tokens and ids one character over their limit with too-long', () => {
    const cases: Array<[object, string]> = [
      [{ type: 'join', name: 'n'.repeat(MAX_NAME_CHARS + 1) }, 'name'],
      [{ type: 'rename', name: '🙂'.repeat(MAX_NAME_CHARS + 1) }, 'name'],
      [{ type: 'private', to: 'b'.repeat(MAX_NAME_CHARS + 1), text: 'hi' }, 'to'],
      [{ type: 'join', room: 'r'.repeat(MAX_ROOM_CHARS + 1) }, 'room'],
      [{ type: 'join', token: `${TOKEN}0` }, 'token'],
      [{ type: 'message', text: 'hi', id: 'i'.repeat(MAX_ID_CHARS + 1) }, 'id'],
    ];
    for (const [message, field] of cases) {
      expect(refusal(message), JSON.stringify(message)).toMatchObject({ code: 'too-long', field });
    }
  });

  it('refuses room names with spaces, slashes, control characters or a leading symbol with bad-field "room"', () => {
    for (const room of ['two words', '-first', '.hidden', '_x', 'a/b', '../etc', 'x\u0000', 'tab\there', '<b>', 'a:b', '🙂']) {
      expect(refusal({ type: 'join', room }), JSON.stringify(room)).toMatchObject({ code: 'bad-field', field: 'room' });
    }
  });

  it('refuses a token that is not 32 lowercase hex digits with bad-field "token"', () => {
    for (const token of [TOKEN.toUpperCase(), TOKEN.slice(1), 'g'.repeat(32), `${TOKEN.slice(0, 31)} `, 'not a token']) {
      expect(refusal({ type: 'join', name: 'alice', token }), token).toMatchObject({ code: 'bad-field', field: 'token' });
    }
  });

  it("echoes the refused message's id, so a client knows which of its messages it was", () => {
    expect(refusal({ type: 'message', id: '7' })).toMatchObject({ code: 'missing-field', field: 'text', id: '7' });
    expect(refusal({ type: 'message', text: 'x'.repeat(1001), id: 'big' })).toMatchObject({ code: 'too-long', field: 'text', id: 'big' });
    expect(refusal({ type: 'private', to: '', text: 'hi', id: 'p1' })).toMatchObject({ code: 'bad-field', field: 'to', id: 'p1' });
    expect(refusal({ type: 'dance', id: '9' })).toMatchObject({ code: 'unknown-type', id: '9' });
    expect(refusal({ id: '10' })).toMatchObject({ code: 'missing-field', field: 'type', id: '10' });
    expect(refusal({ type: 'join', room: 'a b', id: '11' })).toMatchObject({ code: 'bad-field', field: 'room', id: '11' });
    // Without an id, the error has none; an id that is itself wrong is not echoed.
    expect(refusal({ type: 'message' })).not.toHaveProperty('id');
    expect(refusal({ type: 'message', id: 7 })).not.toHaveProperty('id');
    expect(refusal({ type: 'message', id: 'i'.repeat(MAX_ID_CHARS + 1) })).not.toHaveProperty('id');
  });

  it('never throws, whatever the text', () => {
    const inputs = ['\u0000', '\uFFFD\uFFFD', '{"type":"message","text":"\\ud800"}', '['.repeat(10_000), '1e999', '{"type":"join","name":"a","name":"b"}'];
    for (const data of inputs) expect(() => parseClientMessage(data), data.slice(0, 20)).not.toThrow();
  });
});

describe('encode and roomKey', () => {
  it('encodes a server message as the UTF-8 bytes of its JSON', () => {
    const bytes = encode({ type: 'notice', text: 'café 🙂' });
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(JSON.parse(bytes.toString('utf8'))).toEqual({ type: 'notice', text: 'café 🙂' });
    expect(bytes.length).toBe(Buffer.byteLength('{"type":"notice","text":"café 🙂"}'));
  });

  it('makes "Lobby" and "lobby" one room', () => {
    expect(roomKey('Lobby')).toBe(roomKey('lobby'));
    expect(roomKey('GAMES')).toBe('games');
  });
});
