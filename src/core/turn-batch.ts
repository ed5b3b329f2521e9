/**
 * Batching of many sockets' writes within one event-loop turn, for the chat servers (tcp-chat's
 * chat-room.ts, ws-chat's chat-server.ts), adaptively: only when there is something to batch.
 *
 * A turn of a busy chat reads several messages and writes each of them to every member. Corked
 * until the turn ends, a member's writes leave in one writev(2) instead of one write(2) per
 * message; that is most of what makes netlab's fan-out faster than a plain loop of writes
 * (BENCHMARKS.md). But corking a lone message in a quiet chat only makes every recipient wait
 * until the line is queued for the whole room. So a socket is corked at its second write of a
 * turn, or at its first when the turn before had a socket written to twice (the chat is busy,
 * more will follow), and uncorked once every read of the turn is handled: in setImmediate,
 * since process.nextTick would run after each socket's callback. A turn with no write at all
 * ends the busy spell. This is the idea of Linux's TCP autocorking (net.ipv4.tcp_autocorking),
 * which holds small writes back only while earlier ones are still queued.
 *
 * Leaves out: the writing itself, and the queue caps. A server calls add() just before each
 * write, and asks queued() how much of a socket's buffer this turn put there: that part is not
 * the client's fault yet, so a cap counts only what the client left unread.
 */
import type { Socket } from 'node:net';

export class TurnBatch {
  /** The sockets written to in this turn, and the bytes queued on each meanwhile. */
  private readonly turnBytes = new Map<Socket, number>();
  /** The sockets of turnBytes that are corked until the end of the turn. */
  private corked: Socket[] = [];
  /** Whether some socket was written to twice in this turn: the load is more than a lone message. */
  private repeated = false;
  /** Whether the turn before was like that: then this one corks every socket at its first write. */
  private busy = false;
  private readonly endTurn = () => this.flush();
  /** Runs one turn after a busy one: if that turn wrote nothing, the chat is quiet again. */
  private readonly checkQuiet = () => {
    if (this.turnBytes.size === 0) this.busy = false;
  };

  /** The bytes this turn has queued on `socket` so far. */
  queued(socket: Socket): number {
    return this.turnBytes.get(socket) ?? 0;
  }

  /** Call just before writing `bytes` to `socket`: corks it if this write is worth holding. */
  add(socket: Socket, bytes: number): void {
    const queued = this.turnBytes.get(socket);
    if (queued === undefined) {
      if (this.turnBytes.size === 0) setImmediate(this.endTurn);
      if (this.busy) this.cork(socket);
      this.turnBytes.set(socket, bytes);
      return;
    }
    this.repeated = true;
    if (socket.writableCorked === 0) this.cork(socket);
    this.turnBytes.set(socket, queued + bytes);
  }

  private cork(socket: Socket): void {
    socket.cork();
    this.corked.push(socket);
  }

  private flush(): void {
    const corked = this.corked;
    this.busy = this.repeated;
    this.repeated = false;
    this.corked = [];
    this.turnBytes.clear();
    for (const socket of corked) socket.uncork();
    // Queued after this turn's callbacks, it runs in the next turn's check phase before that
    // turn's own flush (queued later, by its first write), so it sees whether that turn wrote.
    if (this.busy) setImmediate(this.checkQuiet);
  }
}
