/**
 * Lessons show the labs' real default ports (`netlab tcp-echo serve`, "listening on
 * 127.0.0.1:12345"), but a test run must not collide with a server a student left running, nor
 * with another lesson running in parallel. So every default port is mapped to a free loopback
 * port for the run: in the lesson's text (commands, typed input, expected output) by mapPorts,
 * and in the CLI's defaults through the NETLAB_PORT_MAP test hook (src/core/options.ts).
 * A few ports that lessons show but no lab has as its default are mapped the same way
 * (OTHER_LESSON_PORTS).
 */
import type net from 'node:net';
import { DEFAULT_PORTS } from '../../src/core/ports.js';
import { listenOnFreePort } from '../support/free-port.js';

/**
 * Ports a lesson shows that are no lab's default, mapped like the defaults so that parallel
 * runs do not share them: 6379, Redis's own default, where lesson 07 starts its own
 * redis-server, and 8011, lesson 07's second ws-chat server. Only the lesson's text uses
 * them; the CLI has no default to map, and ignores them in NETLAB_PORT_MAP.
 */
export const OTHER_LESSON_PORTS = [6379, 8011] as const;

/** Default port → the free port used instead during one run. */
export type PortMap = ReadonlyMap<number, number>;

/**
 * Replaces every default port in `text` with its mapped port. A port is a whole number: 12345
 * is replaced in `127.0.0.1:12345` but not in `123456` or `12345.5`.
 */
export function mapPorts(text: string, ports: PortMap): string {
  return text.replace(/(?<![0-9.])[0-9]+(?![0-9]|\.[0-9])/g, (digits) => String(ports.get(Number(digits)) ?? digits));
}

/** The map as NETLAB_PORT_MAP expects it: a JSON object such as {"12345": 41234}. */
export function portMapEnv(ports: PortMap): string {
  return JSON.stringify(Object.fromEntries([...ports].map(([from, to]) => [String(from), to])));
}

/**
 * `12345→41234`, for an error message: the ports a lesson line mentions or a message shows
 * (the output holds the mapped numbers, the lesson the defaults).
 */
export function describePortMap(ports: PortMap, lessonText: string, message: string): string {
  const mentions = (text: string, port: number) => new RegExp(`(?<![0-9])${port}(?![0-9])`).test(text);
  return [...ports]
    .filter(([from, to]) => mentions(lessonText, from) || mentions(message, to))
    .map(([from, to]) => `${from}→${to}`)
    .join(', ');
}

/**
 * Allocates one free loopback port for each default port and each of OTHER_LESSON_PORTS.
 * Every port is held open until all are allocated, so no two are the same. They come from
 * below the ephemeral range, so no client socket of another test can take one before the
 * lesson's server binds it.
 */
export async function allocatePortMap(): Promise<PortMap> {
  const defaults = [...Object.values(DEFAULT_PORTS), ...OTHER_LESSON_PORTS];
  const servers = await Promise.all(defaults.map(() => listenOnFreePort()));
  try {
    return new Map(defaults.map((port, i) => [port, (servers[i]!.address() as net.AddressInfo).port]));
  } finally {
    await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  }
}
