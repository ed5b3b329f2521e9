/**
 * Who is in the UDP chat (lesson 03, "A chat without connections"): the members, keyed by the
 * address their datagrams come from, since an address is all a UDP server knows of a peer.
 * Names are unique regardless of case, as in tcp-chat; a member not heard from for a while has
 * gone, because nothing else will ever say so.
 *
 * Leaves out: sockets and timers (chat-server.ts sends, and decides when to sweep).
 */
import type { TokenBucket } from '../core/token-bucket.js';
import { nameKey } from '../tcp/chat-protocol.js';
import { MAX_CHAT_DATAGRAM_BYTES, type ServerMessage } from './chat-protocol.js';

/** A member, as the server's events describe it. */
export interface ChatMember {
  /** Its address as `host:port`: all the server knows of it. */
  readonly remote: string;
  readonly name: string;
}

/** A member as the server keeps it. */
export interface Member extends ChatMember {
  name: string;
  readonly address: string;
  readonly port: number;
  /** The number of the last datagram sent to it. */
  seq: number;
  lastHeardMs: number;
  readonly bucket: TokenBucket;
  toldTooFastMs: number;
}

export class ChatRoster {
  private readonly members = new Map<string, Member>();
  private nextGuest = 1;

  get size(): number {
    return this.members.size;
  }

  /** The member whose datagrams come from `remote` (`host:port`), if any. */
  get(remote: string): Member | undefined {
    return this.members.get(remote);
  }

  add(member: Member): void {
    this.members.set(member.remote, member);
  }

  remove(member: Member): void {
    this.members.delete(member.remote);
  }

  /** Every member, removed at once (the server is stopping). */
  clear(): Member[] {
    const all = [...this.members.values()];
    this.members.clear();
    return all;
  }

  values(): IterableIterator<Member> {
    return this.members.values();
  }

  /** Does a member hold this name key (see nameKey)? */
  nameTaken(key: string): boolean {
    for (const m of this.members.values()) if (nameKey(m.name) === key) return true;
    return false;
  }

  /** The guest name the next nameless member would get; `take` hands it out. */
  guestName(take = false): string {
    return `guest-${take ? this.nextGuest++ : this.nextGuest}`;
  }

  /** Members not heard from since `cutoffMs` (performance.now() time). */
  silentSince(cutoffMs: number): Member[] {
    return [...this.members.values()].filter((m) => m.lastHeardMs < cutoffMs);
  }

  /** As many names as fit one datagram, and how many did not (a room of 1,000 would not). */
  whoIsHere(): ServerMessage {
    const names: string[] = [];
    let bytes = 'nnnnnnnnnn WHO +nnnnnn\n'.length; // room for the sequence number and the "+N"
    for (const m of this.members.values()) {
      bytes += Buffer.byteLength(m.name) + 1;
      if (bytes > MAX_CHAT_DATAGRAM_BYTES) break;
      names.push(m.name);
    }
    const more = this.members.size - names.length;
    return more > 0 ? { kind: 'WHO', names, more } : { kind: 'WHO', names };
  }
}
