/**
 * The cases of ROBUSTNESS.md (the course's list of what every server and client survives), one
 * entry each, so that every test in test/robustness/ can name the case it covers by key:
 *
 *   describe(TCP.resetMidWrite.when, () => { … })
 *
 * `when` is what happens and `then` what netlab does, both word for word as the list has them.
 * cases.test.ts holds this file to the list: every bullet of ROBUSTNESS.md must be here with the
 * same words, and every key must be used by its protocol's test file. A new bullet therefore
 * fails the suite until it has a test.
 */

export interface RobustnessCase {
  /** What happens, as ROBUSTNESS.md words it (the text before "→"). */
  readonly when: string;
  /** What netlab does (the text after "→"; empty for a bullet without one). */
  readonly then: string;
}

export const TCP = {
  resetMidWrite: {
    when: 'A client sends a line and resets the connection mid-write',
    then: 'logged, that client dropped, others unaffected.',
  },
  leavesDuringBroadcast: {
    when: 'A client leaves during a broadcast',
    then: 'everyone else gets the message exactly once.',
  },
  stopsReading: {
    when: 'One client stops reading while others flood',
    then:
      'its queue is capped (a named limit), it is disconnected with a notice, server memory stays bounded, the others keep their full stream.',
  },
  overlongLine: {
    when: 'A line with no newline that grows past the line limit, or a 10 KB line',
    then:
      "an error line to that client, the line is not broadcast, the connection's later lines still work (or it is closed with a notice, as documented).",
  },
  splitAndJoinedLines: {
    when: '"hel" + "lo\\n" in two writes; "a\\nb\\r\\nc\\n" in one write',
    then: 'lines arrive whole, in order; CR stripped.',
  },
  splitUtf8: {
    when: 'A multi-byte UTF-8 character split across two writes',
    then: 'reassembled, never U+FFFD.',
  },
  controlBytes: {
    when: 'Invalid UTF-8, NUL, `\\r`, ANSI escape sequences in text or nicknames',
    then: 'no crash; control bytes never reach other terminals raw; the server always prefixes the real sender.',
  },
  badNicknames: {
    when: 'Duplicate, empty, over-long or control-character nicknames',
    then: 'refused with a reason.',
  },
  lineFlood: {
    when: 'A client sends 1000 lines in one second',
    then: 'throttled or disconnected with a notice; others unaffected.',
  },
  deadLink: {
    when: 'A client goes silent on a dead link',
    then: 'freed after an idle timeout or keepalive; "left" notice sent.',
  },
  halfClose: {
    when: 'A client writes then half-closes',
    then: 'its echo is still delivered, then a clean close.',
  },
  ctrlC: {
    when: 'Ctrl+C on a server with clients connected',
    then: 'clients told, exit 0, port reusable at once.',
  },
} as const satisfies Record<string, RobustnessCase>;

export const UDP = {
  oversizeOrSendError: {
    when: 'A datagram over 65,507 bytes or a send error',
    then: 'reported to the user; nothing fails silently.',
  },
  wellKnownPorts: {
    when: "A datagram from a well-known service port (echo 7, chargen 19, DNS 53) or from the server's own address",
    then: 'no reply (no echo storms between servers).',
  },
  repliesAndMembers: {
    when: 'A reply is never larger than the request; a chat member is only added after it joins, and members expire after a timeout.',
    then: '',
  },
  garbage: {
    when: '10,000 datagrams, empty datagrams, binary garbage',
    then: 'no crash, bounded memory, counted.',
  },
  unresolvableHost: {
    when: 'Unresolvable host',
    then: 'a clear ENOTFOUND sentence and a non-zero exit.',
  },
} as const satisfies Record<string, RobustnessCase>;

export const WS = {
  protocolErrors: {
    when: 'Unmasked client frame',
    then:
      "close 1002; invalid UTF-8 in a text frame → 1007; message over the size limit → 1009; too many fragments → 1008. The server stays up (attach an `'error'` listener to every connection: without one, four bytes from telnet crash a `ws` server).",
  },
  notAnUpgrade: {
    when: 'Plain HTTP GET, POST, telnet garbage, missing key, wrong version on the WebSocket path',
    then: 'a 4xx answer or a close, no crash.',
  },
  foreignOrigin: {
    when: 'A foreign `Origin`',
    then: "refused (403) unless explicitly allowed; the page's own origin and clients without an Origin (the CLI) are accepted.",
  },
  markupInChat: {
    when: 'Chat text and nicknames such as `<img src=x onerror=alert(1)>`',
    then: 'shown as text in the page; the page is served with a Content-Security-Policy.',
  },
  pathTraversal: {
    when: 'Paths like `/../`, `%2e%2e`, `%00`',
    then: '404/400; nothing outside the page folder is served.',
  },
  stopsReading: {
    when: 'A client stops reading',
    then: 'its buffered amount is capped, then it is dropped.',
  },
  ignoresPings: {
    when: 'A client ignores pings',
    then: 'terminated within two heartbeat intervals.',
  },
  badClose: {
    when: 'A close reason over 123 bytes or an invalid close code',
    then: 'validated first; never stuck in CLOSING.',
  },
  serverRestarts: {
    when: 'The server restarts',
    then:
      'clients reconnect with a random first delay and capped exponential backoff, restore their name and room, flush a bounded queue of unsent messages; `send()` never throws.',
  },
  silentUpgrade: {
    when: 'A server accepts TCP but never answers the upgrade',
    then: "the client's handshake times out and it retries.",
  },
  reconnectStorm: {
    when: '50 clients reconnect at once',
    then: 'all recover; attempts spread by the random delay.',
  },
  noDeflate: {
    when: 'perMessageDeflate stays off (zlib memory fragmentation under many connections).',
    then: '',
  },
} as const satisfies Record<string, RobustnessCase>;

export const CLI = {
  portInUse: {
    when: 'Port in use',
    then: 'one sentence naming the port and suggesting `--port`, exit 1, no stack trace.',
  },
  badPorts: {
    when: 'Ports 70000, -1, 3.5, "", "abc", "8080x"',
    then: 'usage error, exit 2 (never a Unix socket named "abc").',
  },
  addressErrors: {
    when: 'Address not on this machine',
    then:
      'EADDRNOTAVAIL sentence; a port below 1024 without privileges → EACCES sentence; `--host 0.0.0.0` prints a warning and the addresses to share.',
  },
  connectErrors: {
    when: 'Closed port, unknown host',
    then: 'ECONNREFUSED / ENOTFOUND sentence with a hint (is the server running? start it with …), exit 1.',
  },
  clientEnds: {
    when: 'stdin ends or Ctrl+C on a client',
    then: 'pending sends flushed, clean close, exit 0.',
  },
} as const satisfies Record<string, RobustnessCase>;

/**
 * ROBUSTNESS.md's sections, by the heading they have there: the test file that covers each, and
 * its cases under the name that file imports them by.
 */
export const SECTIONS = {
  'TCP (echo and chat)': { file: 'tcp.test.ts', name: 'TCP', cases: TCP },
  UDP: { file: 'udp.test.ts', name: 'UDP', cases: UDP },
  WebSocket: { file: 'ws.test.ts', name: 'WS', cases: WS },
  CLI: { file: 'cli.test.ts', name: 'CLI', cases: CLI },
} as const;
