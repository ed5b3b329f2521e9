/**
 * `--trace` on the WebSocket labs, the built binary as a student runs it (lesson 04, "Frames on
 * the wire"; lesson 05): ws-echo serve and connect each tracing the handshake and every frame on
 * stderr (and telling the same story), stdout untouched, --trace-bytes and its usage errors, and
 * the ws-chat server showing a client's JSON join and message frames.
 */
import { describe, expect, it } from 'vitest';
import { freePort, lines, runCli, startCli, type Spawned } from './run-cli.js';
import { TRACE_HEADER, traceEvents, type TraceEvent } from './trace-events.js';

/** A trace header anywhere in a text. */
const HEADER_ANYWHERE = /^\+\d+\.\d{3}s \S+ → /m;

/** The stderr lines that are not part of a trace event. */
function otherLines(stderr: string): string[] {
  const traced = new Set<number>();
  let inEvent = false;
  const all = lines(stderr);
  all.forEach((line, i) => {
    if (TRACE_HEADER.test(line)) inEvent = true;
    else if (!(inEvent && line.startsWith('  '))) inEvent = false;
    if (inEvent) traced.add(i);
  });
  return all.filter((_, i) => !traced.has(i));
}

/**
 * The text a payload's dump shows after `title` (`payload unmasked:`): the text columns of its
 * lines, joined. Exact for printable ASCII such as JSON, when the whole payload was shown.
 */
function dumpedText(event: TraceEvent, title: string): string {
  const start = event.details.indexOf(title);
  if (start === -1) throw new Error(`no "${title}" in ${event.what}:\n${event.details.join('\n')}`);
  let text = '';
  for (const line of event.details.slice(start + 1)) {
    const match = /^[0-9a-f]{4} {2}.{50}\|(.*)\|$/.exec(line);
    if (!match) break;
    text += match[1];
  }
  return text;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const LISTENING_LINE = /^ws-(?:echo|chat) server listening on 127\.0\.0\.1:(\d+) · /m;

/** `netlab LAB serve --port 0 EXTRA…`, once its first line says where it listens. */
async function startServer(lab: 'ws-echo' | 'ws-chat', extraArgs: readonly string[] = []): Promise<{ port: number; url: string; proc: Spawned }> {
  const proc = startCli([lab, 'serve', '--port', '0', ...extraArgs]);
  const [, port] = await proc.waitForStdout(LISTENING_LINE);
  return { port: Number(port), url: `ws://127.0.0.1:${port}/ws`, proc };
}

/**
 * The server's trace events for one client, once it has traced its own close frame to it with
 * that frame's dump (the last event of a connection the client closed with 1000).
 */
async function serverEventsFor(server: Spawned, client: string): Promise<TraceEvent[]> {
  await server.waitForStderr(new RegExp(` → ${escape(client)} frame, 4 bytes: close 1000\\n(?:  .*\\n)*  0000  03 e8 .*\\|\\n`));
  return traceEvents(server.stderr).filter((e) => e.from === client || e.to === client);
}

describe('ws-echo --trace', () => {
  it('traces the handshake and every frame at both ends, on stderr, and both ends tell the same story', async () => {
    const server = await startServer('ws-echo', ['--trace']);
    const serverEnd = `127.0.0.1:${server.port}`;
    const { code, stdout, stderr } = await runCli(['ws-echo', 'connect', server.url, '--trace'], { input: 'Hello\n' });
    expect(code, stderr).toBe(0);
    expect(lines(stdout)).toEqual(['> Hello', '< Hello']);
    expect(otherLines(stderr)).toEqual([
      `connected to ${server.url} (101 Switching Protocols); Ctrl+D quits`,
      'closed · 1000 (normal closure) · sent 1 message, received 1',
    ]);

    const events = traceEvents(stderr);
    const client = events[0]?.from ?? '';
    expect(client).toMatch(/^127\.0\.0\.1:\d+$/);
    const toServer = { from: client, to: serverEnd };
    const toClient = { from: serverEnd, to: client };
    expect(events.map(({ from, to, what }) => ({ from, to, what }))).toEqual([
      { ...toServer, what: expect.stringMatching(/^HTTP request, \d+ bytes$/) },
      { ...toClient, what: 'HTTP response, 129 bytes' },
      { ...toServer, what: 'frame, 11 bytes: text' },
      { ...toClient, what: 'frame, 7 bytes: text' },
      { ...toServer, what: 'frame, 8 bytes: close 1000' },
      { ...toClient, what: 'frame, 4 bytes: close 1000' },
    ]);
    expect(events[0]!.details[0]).toBe('GET /ws HTTP/1.1');
    expect(events[1]!.details).toEqual([
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      expect.stringMatching(/^Sec-WebSocket-Accept: [A-Za-z0-9+/]{27}=$/),
    ]);
    expect(dumpedText(events[2]!, 'payload unmasked:')).toBe('Hello');
    expect(events[3]!.details).toEqual([
      'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x1 (text)',
      'MASK 0 · payload length 5 (7-bit)',
      'payload:',
      '0000  48 65 6c 6c 6f                                    |Hello|',
    ]);

    // The server read what the client wrote and wrote what the client read: same events,
    // same sizes, same lines, same masking keys (only the times differ, and they are not compared).
    expect(await serverEventsFor(server.proc, client)).toEqual(events);
    expect(server.proc.stdout).not.toMatch(HEADER_ANYWHERE);
  });

  it("prints the trace on stderr only: the client's stdout is byte for byte the same with and without --trace", async () => {
    const server = await startServer('ws-echo');
    const input = 'a\nпривіт\n\nb\n';
    const plain = await runCli(['ws-echo', 'connect', server.url], { input });
    const traced = await runCli(['ws-echo', 'connect', server.url, '--trace'], { input });
    expect([plain.code, traced.code]).toEqual([0, 0]);
    expect(traced.stdout).toBe(plain.stdout);
    expect(lines(plain.stdout)).toEqual(['> a', '< a', '> привіт', '< привіт', '> ', '< (empty message)', '> b', '< b']);
    expect(traceEvents(plain.stderr)).toEqual([]);
    expect(otherLines(traced.stderr)).toEqual(lines(plain.stderr));
    expect(traceEvents(traced.stderr).map((e) => e.what.replace(/\d+ bytes$/, 'N bytes'))).toEqual([
      'HTTP request, N bytes',
      'HTTP response, N bytes',
      'frame, 7 bytes: text',
      'frame, 3 bytes: text',
      'frame, 18 bytes: text',
      'frame, 14 bytes: text',
      'frame, 6 bytes: text',
      'frame, 2 bytes: text',
      'frame, 7 bytes: text',
      'frame, 3 bytes: text',
      'frame, 8 bytes: close 1000',
      'frame, 4 bytes: close 1000',
    ]);
  });

  it('--trace-bytes 2 cuts each payload dump after two bytes and says how many more there were', async () => {
    const server = await startServer('ws-echo');
    const { code, stderr } = await runCli(['ws-echo', 'connect', server.url, '--trace', '--trace-bytes', '2'], { input: 'Hello\n' });
    expect(code, stderr).toBe(0);
    const [, , sent, echo, clientClose] = traceEvents(stderr);
    const he = '0000  48 65                                             |He|';
    expect(sent!.details.slice(2)).toEqual([
      'payload as sent (masked):',
      expect.stringMatching(/^0000 {2}[0-9a-f]{2} [0-9a-f]{2} +\|.{2}\|$/),
      '… 3 more bytes',
      'payload unmasked:',
      he,
      '… 3 more bytes',
    ]);
    expect(echo!.details.slice(2)).toEqual(['payload:', he, '… 3 more bytes']);
    // A close frame's two bytes of code fit: nothing is cut.
    expect(clientClose!.details.at(-2)).toBe('payload unmasked:');
    expect(clientClose!.details.at(-1)).toBe('0000  03 e8                                             |..|');
  });

  it.each([
    ['ws-echo', 'serve', '-1'],
    ['ws-echo', 'serve', '70000'],
    ['ws-echo', 'connect', '-1'],
    ['ws-echo', 'connect', '70000'],
    ['ws-chat', 'serve', '70000'],
    ['ws-chat', 'connect', '-1'],
  ])('refuses %s %s --trace-bytes %s as a usage error (exit 2) naming the range', async (lab, role, value) => {
    const where = role === 'serve' ? ['--port', '0'] : [`ws://127.0.0.1:${await freePort()}/ws`];
    const { code, stdout, stderr } = await runCli([lab, role, ...where, '--trace', '--trace-bytes', value], { input: 'x\n' });
    expect(code, stderr).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`--trace-bytes must be a whole number from 0 to 65536, not "${value}"`);
    expect(stderr).not.toContain('nothing is listening');
  });
});

describe('ws-chat serve --trace', () => {
  it("shows alice's JSON join and message frames read from her, and the server's answers", async () => {
    const server = await startServer('ws-chat', ['--trace']);
    const serverEnd = `127.0.0.1:${server.port}`;
    const alice = await runCli(['ws-chat', 'connect', server.url, '--name', 'alice'], { input: 'hi\n' });
    expect(alice.code, alice.stderr).toBe(0);
    expect(traceEvents(alice.stderr)).toEqual([]);

    const [, client = ''] = await server.proc.waitForStderr(new RegExp(`^\\+\\S+ (127\\.0\\.0\\.1:\\d+) → ${escape(serverEnd)} HTTP request`, 'm'));
    const events = await serverEventsFor(server.proc, client);
    expect(events[0]).toMatchObject({ from: client, to: serverEnd, what: expect.stringMatching(/^HTTP request, \d+ bytes$/) });
    expect(events[1]).toMatchObject({ from: serverEnd, to: client, what: 'HTTP response, 129 bytes' });

    const fromAlice = events.filter((e) => e.from === client && e.what.endsWith(': text'));
    expect(fromAlice.map((e) => JSON.parse(dumpedText(e, 'payload unmasked:')) as unknown)).toEqual([
      { type: 'join', room: 'lobby', name: 'alice' },
      { type: 'message', text: 'hi', id: expect.any(String) },
    ]);
    // Every frame a client sends is masked (RFC 6455, section 5.3); the server's are not.
    for (const e of fromAlice) expect(e.details[1]).toMatch(/^MASK 1 · /);
    const toAlice = events.filter((e) => e.to === client && e.what.endsWith(': text'));
    expect(toAlice.length).toBeGreaterThan(0);
    for (const e of toAlice) expect(e.details[1]).toMatch(/^MASK 0 · /);
    // The broadcast of her line comes back to her; its start is in the dump (cut at 64 bytes).
    expect(toAlice.map((e) => dumpedText(e, 'payload:'))).toContainEqual(expect.stringMatching(/^\{"type":"message",.*"from":"alice","text":"hi"/));
  });
});
