/**
 * The ws-chat protocol (lesson 05), as pure functions: JSON messages, each an object with a
 * `type`, validated field by field. A WebSocket already cuts the stream into messages (lesson
 * 04), so there is no framing to do here: one WebSocket text message is one JSON object.
 *
 * Client → server
 *   {"type":"join","name":"alice","room":"lobby","token":"…"}   enter a room (name, room and
 *                                        token optional: a guest name, "lobby", a new user)
 *   {"type":"message","text":"hi","id":"7"}                     to everyone in your room
 *   {"type":"message","text":"waves","action":true}             /me
 *   {"type":"private","to":"bob","text":"psst","id":"8"}        to every connection of bob
 *   {"type":"rename","name":"al"}
 *   {"type":"users"}                                            who is in your room
 * Any of them may carry an "id" (a string): the server's answer carries it back, so a client
 * knows its message arrived (and what to send again after reconnecting).
 * Server → client
 *   joined    you are in: your name, room, and the token that proves the name is yours
 *             (the answer to a join, with its id)
 *   history   the room's last messages, sent after each join
 *   users     who is in the room (after each join, and when asked: the answer, with its id)
 *   message   {room, from, text, time, action?, id?}: `id` only in the sender's own copy
 *   private   {from, to, text, time, id?}: to the recipient's and the sender's connections
 *   notice    {text, room?, presence?}: joins, leaves, renames, slow down (a rename's
 *             notice to the connection that asked carries its id)
 *   error     {code, text, field?, id?}: what was wrong with a client's message
 *
 * Why a token: a name is unique, but one person may hold several connections (two tabs, or a
 * client reconnecting before the server noticed the old connection died). The token the
 * server hands out with the name is how a second connection proves it is the same user.
 *
 * Leaves out: sockets, rate limits and queues (chat-server.ts), who is where (chat-manager.ts).
 */
import { visible } from '../core/text-view.js';
import { MAX_NAME_CHARS, nameKey, nameProblem } from '../tcp/chat-protocol.js';

export { MAX_NAME_CHARS, nameKey, nameProblem };

/** The room a join without a room goes to. */
export const DEFAULT_ROOM = 'lobby';
/** The longest message text, in characters; a longer one is refused, not cut. */
export const MAX_TEXT_CHARS = 1000;
/** The longest room name, in characters. */
export const MAX_ROOM_CHARS = 30;
/** A client's message id is echoed back to it, so it is kept short. */
export const MAX_ID_CHARS = 64;
/** A token is 32 hex digits (128 random bits). */
export const TOKEN_PATTERN = /^[0-9a-f]{32}$/;

/** Any client message may carry an `id`; the server's answer to it carries the same id. */
export type ClientMessage = (
  | { type: 'join'; name?: string; room: string; token?: string }
  | { type: 'message'; text: string; action: boolean }
  | { type: 'private'; to: string; text: string }
  | { type: 'rename'; name: string }
  | { type: 'users' }
) & { id?: string };

export type ClientMessageType = ClientMessage['type'];
export const CLIENT_MESSAGE_TYPES: readonly ClientMessageType[] = ['join', 'message', 'private', 'rename', 'users'];

/** What an error is about, for programs; `text` says it for people. */
export type ErrorCode =
  | 'binary'
  | 'bad-json'
  | 'not-an-object'
  | 'unknown-type'
  | 'missing-field'
  | 'bad-field'
  | 'too-long'
  | 'join-first'
  | 'name-taken'
  | 'no-such-user'
  | 'too-many-rooms'
  /** lesson 07: the server cannot reach the Redis its group shares; send again later. */
  | 'unavailable';

export interface ProtocolError {
  code: ErrorCode;
  text: string;
  field?: string;
  /** The id of the message that was refused, when it had one. */
  id?: string;
}

export type Parsed = { ok: true; message: ClientMessage } | ({ ok: false } & ProtocolError);

/** One chat message as the server sends it (and keeps it in a room's history). */
export interface ChatLine {
  type: 'message';
  room: string;
  from: string;
  text: string;
  /** When the server received it, ISO 8601 in UTC. */
  time: string;
  action?: true;
}

export interface Presence {
  event: 'join' | 'leave' | 'rename';
  name: string;
  /** The name before a rename. */
  old?: string;
}

export type ServerMessage =
  | { type: 'joined'; name: string; room: string; token: string; id?: string }
  | { type: 'history'; room: string; messages: ChatLine[] }
  | { type: 'users'; room: string; users: string[]; id?: string }
  | (ChatLine & { id?: string })
  | { type: 'private'; from: string; to: string; text: string; time: string; id?: string }
  | { type: 'notice'; text: string; room?: string; presence?: Presence; id?: string }
  | ({ type: 'error' } & ProtocolError);

/**
 * Reads one WebSocket message from a client. Never throws: whatever the bytes, the answer is
 * a message or an error that names what was wrong. Fields a type does not use are ignored, so
 * a newer client can talk to this server.
 */
export function parseClientMessage(data: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (err) {
    return fail('bad-json', `not JSON: ${(err as Error).message.replace(/^Unexpected/, 'unexpected')}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('not-an-object', `a message is a JSON object such as {"type":"message","text":"hi"}, not ${jsonKind(value)}`);
  }
  const fields = value as Record<string, unknown>;
  const id = optionalString(fields, 'id', MAX_ID_CHARS);
  if (id.error) return { ok: false, ...id.error };
  const withId = (error: ProtocolError): Parsed => ({ ok: false, ...error, ...(id.value !== undefined ? { id: id.value } : {}) });
  const type = fields.type;
  if (type === undefined) return withId({ code: 'missing-field', field: 'type', text: `a message needs a "type": one of ${CLIENT_MESSAGE_TYPES.join(', ')}` });
  if (typeof type !== 'string' || !(CLIENT_MESSAGE_TYPES as readonly string[]).includes(type)) {
    const shown = typeof type === 'string' ? `"${visible(type.slice(0, 40))}"` : jsonKind(type);
    return withId({ code: 'unknown-type', field: 'type', text: `unknown type ${shown}; the types are ${CLIENT_MESSAGE_TYPES.join(', ')}` });
  }
  try {
    return { ok: true, message: readFields(type as ClientMessageType, fields, id.value) };
  } catch (err) {
    if (err instanceof FieldError) return withId(err.error);
    throw err;
  }
}

function readFields(type: ClientMessageType, fields: Record<string, unknown>, id: string | undefined): ClientMessage {
  const ids = id !== undefined ? { id } : {};
  switch (type) {
    case 'join': {
      const name = field(fields, 'name', MAX_NAME_CHARS, false);
      const room = field(fields, 'room', MAX_ROOM_CHARS, false) ?? DEFAULT_ROOM;
      const token = field(fields, 'token', 32, false);
      const problem = roomProblem(room);
      if (problem) throw new FieldError({ code: 'bad-field', field: 'room', text: problem });
      if (token !== undefined && !TOKEN_PATTERN.test(token)) {
        throw new FieldError({ code: 'bad-field', field: 'token', text: 'a token is the 32 hex digits the server sent in "joined"' });
      }
      return { type, room, ...(name !== undefined ? { name } : {}), ...(token !== undefined ? { token } : {}), ...ids };
    }
    case 'message': {
      const text = field(fields, 'text', MAX_TEXT_CHARS, true)!;
      const action = fields.action;
      if (action !== undefined && typeof action !== 'boolean') {
        throw new FieldError({ code: 'bad-field', field: 'action', text: `"action" is true or false, not ${jsonKind(action)}` });
      }
      return { type, text, action: action === true, ...ids };
    }
    case 'private':
      return { type, to: field(fields, 'to', MAX_NAME_CHARS, true)!, text: field(fields, 'text', MAX_TEXT_CHARS, true)!, ...ids };
    case 'rename':
      return { type, name: field(fields, 'name', MAX_NAME_CHARS, true)!, ...ids };
    case 'users':
      return { type, ...ids };
  }
}

/** A string field: missing (undefined, or an error when required), too long, or blank. */
function field(fields: Record<string, unknown>, key: string, maxChars: number, required: boolean): string | undefined {
  const result = optionalString(fields, key, maxChars);
  if (result.error) throw new FieldError(result.error);
  if (result.value === undefined && required) {
    throw new FieldError({ code: 'missing-field', field: key, text: `a message of type "${String(fields.type)}" needs "${key}", a string` });
  }
  if (result.value !== undefined && result.value.trim() === '') {
    throw new FieldError({ code: 'bad-field', field: key, text: `"${key}" is empty` });
  }
  return result.value;
}

function optionalString(fields: Record<string, unknown>, key: string, maxChars: number): { value?: string; error?: ProtocolError } {
  const value = fields[key];
  if (value === undefined) return {};
  if (typeof value !== 'string') return { error: { code: 'bad-field', field: key, text: `"${key}" must be a string, not ${jsonKind(value)}` } };
  // Characters as people count them (code points), so "é" and "🙂" count one each.
  const chars = [...value].length;
  if (chars > maxChars) return { error: { code: 'too-long', field: key, text: `"${key}" has ${chars} characters; at most ${maxChars} are allowed` } };
  return { value };
}

class FieldError extends Error {
  constructor(readonly error: ProtocolError) {
    super(error.text);
  }
}

function fail(code: ErrorCode, text: string): Parsed {
  return { ok: false, code, text };
}

/** `a number`, `an array`, `null`: how a wrong value is named in an error. */
function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Why a room name cannot be used, or undefined when it can: the rules of names, longer. */
export function roomProblem(room: string): string | undefined {
  if (!/^[\p{L}\p{N}][\p{L}\p{N}._-]*$/u.test(room)) {
    return 'a room name has only letters, digits, - _ . and starts with a letter or digit';
  }
  return undefined;
}

/** A server message as the bytes of one WebSocket text message. */
export function encode(message: ServerMessage): Buffer {
  return Buffer.from(JSON.stringify(message));
}

/** The key rooms are compared by: "Lobby" and "lobby" are one room. */
export function roomKey(room: string): string {
  return room.toLocaleLowerCase('en-US');
}
