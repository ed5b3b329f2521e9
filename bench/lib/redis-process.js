/**
 * A Redis for the benchmark of lesson 07 (ws-chat-redis.js): Debian's redis-server on a free
 * loopback port from REDIS_PORTS, with no persistence (`--save '' --appendonly no`: nothing is
 * written to disk, and a stopped Redis leaves nothing behind). It is started, measured and
 * stopped like any server of a run (server-process.js): a process group of its own, its CPU
 * read from /proc/PID/stat, SIGTERM then SIGKILL, killed if the bench itself dies or is
 * interrupted.
 *
 * The two commands the benchmark sends it are spoken in RESP, Redis's own protocol, over a
 * node:net socket: a command is an array of bulk strings (`*1\r\n$8\r\nFLUSHALL\r\n`), and
 * both of ours are answered on one line ("+" a simple string, ":" an integer, "-" an error;
 * https://redis.io/docs/latest/develop/reference/protocol-spec/).
 *
 * Leaves out: a Redis client library (two commands with one-line answers do not need one),
 * authentication, and replies of more than one line.
 */
import net from 'node:net';
import { onPath, startServer } from './server-process.js';

/** The ports a benchmark's Redis may take: a range of its own, clear of a developer's 6379. */
export const REDIS_PORTS = { first: 6400, last: 6499 };
/** Ports tried before giving up, should another process take each one between the check and the start. */
const START_ATTEMPTS = 3;
/** How long Redis gets to answer one command; an idle Redis answers in well under a millisecond. */
const COMMAND_TIMEOUT_MS = 5_000;

/** Why the benchmark cannot run here, or undefined when it can. */
export function redisUnavailable() {
  return onPath('redis-server') ? undefined : 'redis-server is not installed (`apt-get install redis-server`)';
}

/**
 * Starts a redis-server on a free port from REDIS_PORTS and resolves once it takes connections.
 *
 * @returns the server handle of server-process.js (`{ port, cpuMs(), alive, stop(), ... }`)
 *   plus `url` (`redis://127.0.0.1:PORT`), `flushAll()` and `deleteKeys(pattern)`.
 */
export async function startRedis({ label, cwd }) {
  const why = redisUnavailable();
  if (why) throw new Error(`${label}: ${why}`);
  let lastError;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freePortInRange();
    try {
      const server = await startServer({
        label,
        cwd,
        command: 'redis-server',
        port,
        args: ['--port', '{port}', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
      });
      return {
        ...server,
        get alive() {
          return server.alive;
        },
        url: `redis://127.0.0.1:${port}`,
        /** Empties every database: what the servers of a group share, gone. */
        flushAll: () => command(port, ['FLUSHALL']),
        /** Deletes the keys that match `pattern` (as KEYS reads it); resolves to how many there were. */
        deleteKeys: (pattern) => command(port, ['EVAL', DELETE_KEYS, '0', pattern]),
      };
    } catch (err) {
      lastError = err; // most likely another process took the port first: try another
    }
  }
  throw lastError;
}

/** A Lua script, so that finding the keys and deleting them is one step. */
const DELETE_KEYS = "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do n = n + redis.call('DEL', k) end return n";

/** A port of REDIS_PORTS that nothing listens on now, from a random place in the range. */
async function freePortInRange() {
  const size = REDIS_PORTS.last - REDIS_PORTS.first + 1;
  const offset = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = REDIS_PORTS.first + ((offset + i) % size);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port for Redis between ${REDIS_PORTS.first} and ${REDIS_PORTS.last}`);
}

function canListen(port) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * Sends one command to the Redis on `port`, on a connection of its own, and resolves to its
 * one-line answer: the text of a simple string, the number of an integer. Rejects on an error
 * answer, or when Redis does not answer within COMMAND_TIMEOUT_MS.
 */
export function command(port, args) {
  const wire = `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const fail = (why) => {
      socket.destroy();
      reject(new Error(`Redis on port ${port}, ${args[0]}: ${why}`));
    };
    socket.setTimeout(COMMAND_TIMEOUT_MS, () => fail(`no answer within ${COMMAND_TIMEOUT_MS} ms`));
    socket.setEncoding('latin1');
    let answer = '';
    socket.on('data', (text) => {
      answer += text;
      const end = answer.indexOf('\r\n');
      if (end === -1) return;
      socket.destroy();
      const line = answer.slice(0, end);
      if (line[0] === '+') resolve(line.slice(1));
      else if (line[0] === ':') resolve(Number(line.slice(1)));
      else fail(line[0] === '-' ? line.slice(1) : `an answer this helper does not read: ${JSON.stringify(line)}`);
    });
    socket.once('error', (err) => fail(err.message));
    socket.once('close', () => fail('the connection closed before the answer')); // a no-op once settled
    socket.write(wire, 'latin1');
  });
}
