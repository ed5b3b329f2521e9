/**
 * Who is in the tcp-chat, and how a line reaches them (lesson 02): names, commands, broadcast,
 * and the per-client output queue. chat-server.ts owns the sockets' lifecycle and hands each
 * complete line here.
 *
 * - Broadcast iterates a list that is never modified: joins and leaves replace `members` with
 *   a new array (copy-on-write), so a client leaving mid-broadcast cannot make the loop skip or
 *   repeat anyone. The classic bug this fixes: removing from the list you are iterating.
 * - A broadcast line is encoded once, whatever the number of recipients.
 * - Writes are batched per event-loop turn, when there is something to batch (TurnBatch, in
 *   src/core/turn-batch.ts): a burst of messages costs each recipient one write system call
 *   instead of one per message, while a lone message in a quiet chat goes out at once.
 * - Each client's output queue is capped: over `maxQueueBytes`, the client is not reading, and
 *   it is disconnected so the server's memory stays bounded and the others keep their stream.
 */
import type { EventEmitter } from 'node:events';
import type net from 'node:net';
import { TurnBatch } from '../core/turn-batch.js';
import { HELP_LINES, cleanText, nameKey, nameProblem, parseChatLine, say, type LeaveReason } from './chat-protocol.js';

/** One connected client, as events describe it. */
export interface ChatMember {
  readonly id: number;
  readonly remote: string;
  name: string;
}

/** A member as the server tracks it. */
export interface Member extends ChatMember {
  readonly socket: net.Socket;
  /** Set once the member is on its way out, with the reason its leave notice gives. */
  leaving?: LeaveReason;
}

export interface ChatEvents {
  join: [member: ChatMember, online: number];
  leave: [member: ChatMember, reason: LeaveReason, online: number];
  rename: [member: ChatMember, oldName: string];
  /** A message or /me to everyone else; `deliveries` is how many clients it was sent to. */
  message: [member: ChatMember, kind: 'say' | 'me', text: string, deliveries: number];
  private: [from: ChatMember, to: ChatMember];
  /** A line the server refused (too long, unknown command, bad name), and why. */
  refused: [member: ChatMember, reason: string];
  /** The client sends faster than the rate limit; its reading is paused. */
  throttled: [member: ChatMember];
  error: [err: Error];
}

export class ChatRoom {
  /** Copy-on-write: replaced, never mutated, so a broadcast can iterate it safely. */
  private members: readonly Member[] = [];
  private readonly byName = new Map<string, Member>();
  private nextGuest = 1;
  /** Each turn's writes, corked together when the chat is busy. */
  private readonly batch = new TurnBatch();

  readonly totals = { joined: 0, messages: 0, deliveries: 0, peakOnline: 0 };

  constructor(
    private readonly events: EventEmitter<ChatEvents>,
    private readonly maxQueueBytes: number,
    /** Ends a member's connection; its leave is announced when the socket closes. */
    private readonly disconnect: (member: Member, reason: LeaveReason, notice: string) => void,
  ) {}

  get online(): number {
    return this.members.length;
  }

  /** Everyone here now (a snapshot that later joins and leaves do not change). */
  get everyone(): readonly Member[] {
    return this.members;
  }

  /** A fresh guest name for a new connection: guest-1, guest-2, … */
  guestName(): string {
    let name = `guest-${this.nextGuest++}`;
    while (this.byName.has(nameKey(name))) name = `guest-${this.nextGuest++}`;
    return name;
  }

  join(member: Member): void {
    this.members = [...this.members, member];
    this.byName.set(nameKey(member.name), member);
    this.totals.joined++;
    this.totals.peakOnline = Math.max(this.totals.peakOnline, this.members.length);
    const others = this.members.length - 1;
    const company = others === 0 ? 'no one else is here yet' : others === 1 ? '1 other is here' : `${others} others are here`;
    this.send(member, say.notice(`welcome, ${member.name}! ${company}; /help lists commands`));
    this.broadcast(say.notice(`${member.name} joined (${this.members.length} online)`), member);
    this.events.emit('join', member, this.members.length);
  }

  /** Removes a member whose socket closed; `announce` is false while the server shuts down. */
  leave(member: Member, announce: boolean): void {
    this.members = this.members.filter((m) => m !== member);
    this.byName.delete(nameKey(member.name));
    if (!announce) return;
    const reason = member.leaving ?? 'quit';
    this.events.emit('leave', member, reason, this.members.length);
    this.broadcast(say.notice(`${member.name} left (${reason}) · ${this.members.length} online`));
  }

  /** Acts on one complete line from a member. */
  handle(member: Member, line: string): void {
    if (member.leaving) return; // lines after /quit, or read just before a disconnect
    const command = parseChatLine(line);
    switch (command.kind) {
      case 'say':
      case 'me': {
        const text = cleanText(command.kind === 'say' ? command.text : command.action);
        const wire = command.kind === 'say' ? say.message(member.name, text) : say.action(member.name, text);
        const deliveries = this.broadcast(wire, member);
        this.totals.messages++;
        this.totals.deliveries += deliveries;
        this.events.emit('message', member, command.kind, text, deliveries);
        break;
      }
      case 'nick':
        this.rename(member, command.name);
        break;
      case 'who':
        this.send(member, say.notice(`${this.members.length} online: ${this.members.map((m) => m.name).join(', ')}`));
        break;
      case 'msg': {
        const to = this.byName.get(nameKey(command.to));
        if (!to) {
          this.refuse(member, `no one here is called ${cleanText(command.to)}; /who lists who is here`);
        } else if (to === member) {
          this.refuse(member, 'that is you; /msg sends to someone else');
        } else {
          this.send(to, say.private(member.name, cleanText(command.text)));
          this.events.emit('private', member, to);
        }
        break;
      }
      case 'quit':
        this.disconnect(member, 'quit', 'bye');
        break;
      case 'help':
        this.send(member, HELP_LINES.map(say.notice).join(''));
        break;
      case 'invalid':
        this.refuse(member, command.reason);
        break;
      case 'empty':
        break;
    }
  }

  /** Tells a member why its line was not accepted. */
  refuse(member: Member, reason: string): void {
    this.send(member, say.error(reason));
    this.events.emit('refused', member, reason);
  }

  /** Sends `line` to every member except `except`; returns how many it went to. */
  broadcast(line: string, except?: Member): number {
    const bytes = Buffer.from(line);
    let deliveries = 0;
    for (const member of this.members) {
      if (member !== except && this.send(member, bytes)) deliveries++;
    }
    return deliveries;
  }

  /** Queues bytes for one member; one whose queue is over the cap is disconnected instead. */
  send(member: Member, data: string | Buffer): boolean {
    const socket = member.socket;
    if (!socket.writable || member.leaving === 'disconnected for not reading') return false;
    // What this turn queued is not the client's fault yet: count only what it left unread.
    if (socket.writableLength - this.batch.queued(socket) > this.maxQueueBytes) {
      this.disconnect(member, 'disconnected for not reading', `more than ${this.maxQueueBytes} bytes were waiting for you`);
      return false;
    }
    this.batch.add(socket, data.length);
    socket.write(data);
    return true;
  }

  private rename(member: Member, name: string): void {
    if (name === member.name) {
      this.send(member, say.notice(`you are already ${member.name}`));
      return;
    }
    // Taken by someone else: changing the case of one's own name is allowed.
    const problem = nameProblem(name, (key) => (this.byName.get(key) ?? member) !== member);
    if (problem) {
      this.refuse(member, `${problem}; you are still ${member.name}`);
      return;
    }
    const oldName = member.name;
    this.byName.delete(nameKey(oldName));
    member.name = name;
    this.byName.set(nameKey(name), member);
    this.broadcast(say.notice(`${oldName} is now ${name}`));
    this.events.emit('rename', member, oldName);
  }
}
