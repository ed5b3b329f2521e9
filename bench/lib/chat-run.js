/**
 * One load run in a chat room, the same for both chat loads (tcp-chat-room.js, whose clients
 * hand each line to `room.onLine`, and ws-chat-load.js, whose clients hand each message to
 * `room.onMessage`): the room's counters from zero, the smoke run's verifier in the room's hook,
 * and a stall watchdog.
 *
 * Leaves out: what a room is and how it counts; each load keeps its own.
 */
import { performance } from 'node:perf_hooks';
import { stallWatchdog } from './tcp-load.js';

/**
 * Starts a run in `room`. `verifier` is the smoke run's checker (undefined in a full run); its
 * handler of the same name as `hook` ('onLine' or 'onMessage') is installed there.
 * `run.race(p)` waits for `p` unless the room fails or stalls first; `run.end()` stops the
 * watchdog and clears the run's hooks.
 */
export function beginRun(room, verifier, hook) {
  room.sent = 0;
  room.delivered = 0;
  room.progressMs = performance.now();
  room.verifier = verifier;
  room[hook] = verifier?.[hook];
  let end;
  const ended = new Promise((resolve) => (end = resolve));
  const stalled = stallWatchdog(() => room.progressMs, ended, 'no delivery');
  return {
    race: (promise) => Promise.race([promise, room.failed, stalled]),
    end() {
      end();
      room[hook] = undefined;
      room.afterRead = undefined;
      room.verifier = undefined;
    },
  };
}
