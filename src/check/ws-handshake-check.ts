/**
 * The handshake half of `netlab check ws-echo` (lesson 04, "The Upgrade handshake"): the checks
 * that read the server's answer to an opening handshake, a correct one or one broken on
 * purpose, before any frame is sent. What a correct server does:
 *
 *   a handshake     101, Upgrade and Connection, the Sec-WebSocket-Accept of our key
 *   a bad request   a 4xx (never 101, never silence) for a request without a key or of a
 *                   version nobody speaks
 *
 * Each failure names the mistake students make most: an accept value in hex or without the
 * GUID, an HTTP route where the WebSocket endpoint should be, lines ending in "\n" alone.
 *
 * Version 12 stands for "a version nobody speaks": the lesson's own example, 8, is an old
 * draft's that the ws library still accepts, and a ws server is right to (section 4.2.2 lets a
 * server speak several versions).
 *
 * Leaves out: subprotocols, extensions, and Origin policies (no Origin is sent, as from any
 * client that is not a browser).
 */
import { createHash } from 'node:crypto';
import { preview, visible } from '../core/text-view.js';
import { RFC_EXAMPLE_KEY, WEBSOCKET_GUID, acceptFor, type ResponseHead } from '../ws/handshake.js';
import { fail, seconds, type Check, type CheckContext } from './checklist.js';
import { sendHandshake, type HandshakeAnswer } from './ws-probe.js';

/** netlab's own server for the lab, named in "nothing is listening" hints. */
export const WS_ECHO_SERVE = 'netlab ws-echo serve';

/** Where each hint sends the student: the headings of lessons/04-ws-echo.md. */
const LESSON = {
  handshake: 'lesson 04, "The Upgrade handshake"',
  byHand: 'lesson 04, "A handshake by hand"',
  refused: 'lesson 04, "Refused handshakes", and its "Try it" 4',
} as const;

/**
 * The handshake's checks, in the order the ws-echo checklist runs them first. The first is
 * essential: without a 101 there is no WebSocket to send a frame on.
 */
export const handshakeChecks: readonly Check[] = [
  {
    title: 'answers a WebSocket handshake with 101 Switching Protocols',
    essential: true,
    async run(ctx) {
      const { answer, probe, headBytes } = await sendHandshake(ctx, WS_ECHO_SERVE);
      if (answer.kind !== 'answer') fail(noHeadProblem(answer, ctx, 'the handshake'), noHeadHint(answer, ctx));
      const { head } = answer;
      if (head.status === 101) return;
      const body = firstLine(probe.bytes().subarray(headBytes));
      fail(`the server answered "${visible(head.lines[0]!)}"${body ? ` (${preview(body, 60)})` : ''} instead of 101 Switching Protocols.`, statusHint(head.status, ctx));
    },
  },
  {
    title: 'says Upgrade: websocket and Connection: Upgrade in its 101',
    async run(ctx) {
      const { head } = await upgradedHead(ctx);
      const wrong = [headerProblem(head, 'Upgrade', 'websocket'), headerProblem(head, 'Connection', 'upgrade')].filter((p) => p !== undefined);
      if (wrong.length === 0) return;
      fail(
        `the 101 answer has ${wrong.join(' and ')}.`,
        `a 101 says what it switches to: "Upgrade: websocket" and "Connection: Upgrade" (RFC 6455, section 4.2.2; the case of the values does not matter, and Connection may list more) (${LESSON.handshake}).`,
      );
    },
  },
  {
    title: 'answers the handshake with the right Sec-WebSocket-Accept',
    async run(ctx) {
      const { key, head } = await upgradedHead(ctx);
      const expected = acceptFor(key);
      const got = head.headers.get('sec-websocket-accept');
      if (got === expected) return;
      const how = `base64(SHA-1(key + "${WEBSOCKET_GUID}")), the 20 bytes of the digest in base64; \`netlab ws-handshake --key ${key}\` shows every step (${LESSON.handshake}).`;
      if (got === undefined) fail('the 101 answer has no Sec-WebSocket-Accept header.', `add it: ${how}`);
      const mistake = acceptMistake(got, key);
      fail(`Sec-WebSocket-Accept is "${visible(got)}", and the key netlab check sent, ${key}, needs ${expected}.`, mistake ? `${mistake}. The value is ${how}` : `compute it from each request's key: ${how}`);
    },
  },
  refuses(
    'refuses a handshake without Sec-WebSocket-Key with a 4xx',
    'without Sec-WebSocket-Key',
    (lines) => lines.filter((line) => !line.startsWith('Sec-WebSocket-Key:')),
    `check the request before answering: without a key there is no accept value to compute. RFC 6455, section 4.2.1: "the server MUST stop processing the client's handshake and return an HTTP response with an appropriate error code (such as 400 Bad Request)" (${LESSON.refused}).`,
  ),
  refuses(
    'refuses a handshake of an unknown version (12) with a 4xx',
    'with Sec-WebSocket-Version: 12',
    (lines) => lines.map((line) => (line.startsWith('Sec-WebSocket-Version:') ? 'Sec-WebSocket-Version: 12' : line)),
    `13 is RFC 6455's only version (some servers also speak 8, an old draft's). For any other, "the server MUST abort the WebSocket handshake ... and instead send an appropriate HTTP error code (such as 426 Upgrade Required) and a |Sec-WebSocket-Version| header field indicating the version(s) the server is capable of understanding" (RFC 6455, section 4.2.2) (${LESSON.refused}).`,
  ),
];

/** A check that sends a handshake broken one way and expects a 4xx answer. */
function refuses(title: string, what: string, edit: (lines: string[]) => string[], hint: string): Check {
  return {
    title,
    async run(ctx) {
      const { answer } = await sendHandshake(ctx, WS_ECHO_SERVE, { edit });
      if (answer.kind === 'answer') {
        const { status, statusText, lines, headers } = answer.head;
        const version = headers.get('sec-websocket-version');
        const said = statusText ? `${status} ${visible(statusText)}` : String(status);
        if (status >= 400 && status < 500) return version ? `${said}, Sec-WebSocket-Version: ${visible(version)}` : said;
        fail(`the server answered "${visible(lines[0]!)}" to a handshake ${what}.`, status === 101 ? hint : `a request the client got wrong gets a 4xx, usually 400 Bad Request. ${hint}`);
      }
      if ((answer.kind === 'timeout' || answer.kind === 'closed') && answer.received.length === 0) {
        const seen = answer.kind === 'timeout' ? `no answer within ${seconds(ctx.waitMs)}` : 'the server closed the connection without an answer';
        fail(`${seen} to a handshake ${what}.`, `answer it at once with a 4xx, such as "HTTP/1.1 400 Bad Request", so the client learns why. ${hint}`);
      }
      fail(noHeadProblem(answer, ctx, `a handshake ${what}`), noHeadHint(answer, ctx));
    },
  };
}

/** A handshake that must succeed: the key sent and the 101's head. */
async function upgradedHead(ctx: CheckContext): Promise<{ key: string; head: ResponseHead }> {
  const { key, answer } = await sendHandshake(ctx, WS_ECHO_SERVE);
  if (answer.kind === 'answer' && answer.head.status === 101) return { key, head: answer.head };
  return fail('the handshake was not answered with 101 this time.', 'see the first check; a server answers every handshake the same way.');
}

/** `no Upgrade header`, `"Upgrade: WebSockets"`, or undefined when the header holds `token`. */
function headerProblem(head: ResponseHead, name: string, token: string): string | undefined {
  const value = head.headers.get(name.toLowerCase());
  if (value === undefined) return `no ${name} header`;
  // Both are token lists (RFC 9110, section 7.6.1 and 7.8), compared without case.
  if (value.split(',').some((item) => item.trim().toLowerCase() === token)) return undefined;
  return `"${name}: ${visible(value)}"`;
}

/** The wrong accept values students compute most, each named; undefined for any other. */
function acceptMistake(got: string, key: string): string | undefined {
  const sha1 = (data: string | Buffer) => createHash('sha1').update(data).digest();
  const digest = sha1(key + WEBSOCKET_GUID);
  if (got.toLowerCase() === digest.toString('hex')) return 'that is the SHA-1 in hex: base64-encode the 20 bytes of the digest, not its 40 hex digits';
  if (got === Buffer.from(digest.toString('hex')).toString('base64')) return 'that is the hex digits in base64: base64-encode the 20 raw bytes (Python: .digest(), not .hexdigest())';
  if (got === sha1(key).toString('base64')) return 'that is the key hashed without the GUID: append it to the key before hashing';
  if (got === sha1(Buffer.concat([Buffer.from(key, 'base64'), Buffer.from(WEBSOCKET_GUID)])).toString('base64')) {
    return 'that is the decoded key hashed: hash the 24 characters of the key as sent, not the 16 bytes they encode';
  }
  if (got === sha1(key + WEBSOCKET_GUID.toLowerCase()).toString('base64')) return 'that is the GUID in lower case: it is in capitals, exactly as RFC 6455 writes it';
  if (got === acceptFor(RFC_EXAMPLE_KEY)) return `that is RFC 6455's example, the accept value of the key ${RFC_EXAMPLE_KEY}: compute it from each request's own key`;
  return undefined;
}

/** Why no HTTP head came back, in one sentence. */
function noHeadProblem(answer: Exclude<HandshakeAnswer, { kind: 'answer' }>, ctx: CheckContext, what: string): string {
  const began = answer.received.length > 0 ? `; it began ${preview(answer.received, 40)}` : '';
  switch (answer.kind) {
    case 'closed':
      return `the server closed the connection without a whole answer to ${what}${began}.`;
    case 'timeout':
      return `no ${answer.received.length > 0 ? 'whole ' : ''}answer to ${what} within ${seconds(ctx.waitMs)}${began}.`;
    case 'not-http':
      if (answer.received.subarray(0, 4).toString('latin1') === 'GET ') return `the server sent ${what} back, as a TCP echo would: ${preview(answer.received, 40)}.`;
      return `the answer to ${what} is not HTTP: it begins ${preview(answer.received, 40)}.`;
    case 'bare-lf':
      return `the answer's lines end with "\\n" alone: ${preview(answer.received, 40)}.`;
  }
}

function noHeadHint(answer: Exclude<HandshakeAnswer, { kind: 'answer' }>, ctx: CheckContext): string {
  const { path } = ctx.target;
  switch (answer.kind) {
    case 'bare-lf':
      return `HTTP ends every line with CR LF ("\\r\\n") and the head with an empty line, "\\r\\n\\r\\n" (${LESSON.byHand}).`;
    case 'not-http':
      return `a WebSocket begins as HTTP: answer the GET with "HTTP/1.1 101 Switching Protocols" before any frame. Is this port a WebSocket server's, not a TCP lab's? (${LESSON.handshake})`;
    default:
      return answer.received.length > 0
        ? `end the answer's head with an empty line, "\\r\\n\\r\\n": that is how the client knows it is whole (${LESSON.byHand}).`
        : `netlab check sent "GET ${path} HTTP/1.1" with Upgrade: websocket; answer it with "HTTP/1.1 101 Switching Protocols" and its headers, or give --path if your endpoint is elsewhere (${LESSON.handshake}).`;
  }
}

/** What a status other than 101 most likely means. */
function statusHint(status: number, ctx: CheckContext): string {
  const { path } = ctx.target;
  if (status === 404) return `netlab check asked for ${path}: serve the WebSocket there, or give its path with --path${path === '/ws' ? ' (such as --path /echo)' : ''}.`;
  if (status === 403) return 'the server refused this client; netlab check sends no Origin header, as any client that is not a browser, and such clients must be let in.';
  if (status >= 200 && status < 400) {
    return `that is a plain HTTP answer: the request reached an HTTP route, not a WebSocket endpoint (FastAPI: @app.websocket("${path}"), not @app.get) (${LESSON.handshake}).`;
  }
  return `the request was a correct RFC 6455 handshake (GET ${path}, Host, Upgrade, Connection, Sec-WebSocket-Key, Sec-WebSocket-Version: 13); accept it with "HTTP/1.1 101 Switching Protocols" (${LESSON.handshake}).`;
}

/** The first line of bytes that arrived after a head (an error answer's body), if any. */
function firstLine(body: Buffer): Buffer | undefined {
  const end = body.indexOf('\n');
  const line = (end < 0 ? body : body.subarray(0, end)).toString('utf8').trim();
  return line ? Buffer.from(line) : undefined;
}
