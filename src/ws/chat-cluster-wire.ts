/**
 * What the ws-chat servers of a group (chat-cluster.ts, lesson 07) say to each other through
 * Redis, and the small helpers around it: the events on the pub/sub channel and how a server
 * reads one (anything else published there is dropped), a room's history entries, scripts by
 * SHA1, a URL shown without its password, deadlines, and Redis's errors in a few words.
 */
import { createHash } from 'node:crypto';
import type { ChatLine, ServerMessage } from './chat-protocol.js';

/** What one server publishes on the channel, and every server reads. */
export type GroupEvent =
  | { kind: 'line'; server: string; room: string; line: ChatLine; seq?: number; conn?: number; id?: string }
  | { kind: 'presence'; server: string; room: string; event: 'join' | 'leave'; name: string; token: string; online: number; why?: string; conn?: number }
  | { kind: 'private'; server: string; to: string; from: string; message: Extract<ServerMessage, { type: 'private' }>; conn?: number; id?: string }
  | { kind: 'rename'; server: string; token: string; name: string; old: string; rooms: string[]; conn?: number; id?: string };

const shas = new Map<string, string>();
/** A script's SHA1, as EVALSHA takes it; computed once per script. */
export function shaOf(source: string): string {
  let sha = shas.get(source);
  if (sha === undefined) shas.set(source, (sha = createHash('sha1').update(source).digest('hex')));
  return sha;
}

/** A line of a room's history as kept in Redis: Redis's number for it, and the line. */
export interface HistoryEntry {
  seq: number;
  line: ChatLine;
}

/** A history entry from Redis, or nothing if it is not one. */
export function parseEntry(json: string): HistoryEntry[] {
  try {
    const entry = JSON.parse(json) as HistoryEntry;
    return typeof entry?.seq === 'number' && entry.line?.type === 'message' ? [entry] : [];
  } catch {
    return [];
  }
}

const isText = (value: unknown): value is string => typeof value === 'string';

/** An event of this design from the channel, or undefined for anything else published there. */
export function parseEvent(message: string): GroupEvent | undefined {
  let event: GroupEvent;
  try {
    event = JSON.parse(message) as GroupEvent;
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null || !isText(event.server)) return undefined;
  switch (event.kind) {
    case 'line':
      return isText(event.room) && event.line?.type === 'message' && isText(event.line.room) && isText(event.line.from) && isText(event.line.text) ? event : undefined;
    case 'presence':
      return isText(event.room) && isText(event.name) && (event.event === 'join' || event.event === 'leave') ? event : undefined;
    case 'private':
      return isText(event.to) && isText(event.from) && event.message?.type === 'private' && isText(event.message.to) ? event : undefined;
    case 'rename':
      // Lua's cjson writes an empty list as {}: no rooms.
      if (!Array.isArray(event.rooms)) event.rooms = [];
      return isText(event.token) && isText(event.name) && isText(event.old) && event.rooms.every(isText) ? event : undefined;
    default:
      return undefined;
  }
}

/** `redis://:***@host:6379`: a URL as it may be shown on a projector. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** `promise`, or a rejection after `ms` (calling `onTimeout` first). */
export function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Whether an error is Redis (or the connection to it) failing, not a bug here. */
export function isRedisError(err: unknown): boolean {
  return err instanceof Error && /closed|offline|socket|ECONN|Redis/i.test(`${err.name} ${err.message}`);
}

/** `connection refused`: what went wrong between this server and Redis, in a few words. */
export function describeRedisError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND') return 'host not found';
  if (code === 'ECONNRESET') return 'connection reset';
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

