/**
 * `netlab ws-echo connect`'s life once the handshake is done (lesson 04): each line typed (or
 * piped) is one message; each message that arrives is shown, text as text and binary as hex;
 * "exit", Ctrl+D or Ctrl+C start the close handshake, and the command ends once the server has
 * answered it. A server that closes first is an error with its close code in words (exit 1).
 *
 * Piped input goes one message per reply (or timeout), so a scripted run reads like a person
 * typing: `> a`, `< a`, `> b`, `< b`.
 */
import { NetlabError } from '../core/errors.js';
import { onClientInterrupt } from '../core/commands.js';
import type { Output } from '../core/output.js';
import { Prompt } from '../core/prompt.js';
import { bytes, count, hex, visible } from '../core/text-view.js';
import { closeHint, describeCloseCode } from './close-codes.js';
import { CLOSE_TIMEOUT_MS, type WsClient } from './ws-client.js';

/** How long a piped line waits for its reply before the next one is sent anyway. */
export const REPLY_WAIT_MS = 5000;
/** How much of a long text message a `<` line shows. */
const SHOWN_TEXT_CHARS = 200;

export interface WsSessionOptions {
  /** Send each line as a binary message instead of text. */
  binary?: boolean;
  /** The command that starts the server, for the hint when it goes away. */
  serveCommand: string;
}

export async function runWsSession(client: WsClient, output: Output, options: WsSessionOptions): Promise<void> {
  const interrupts = onClientInterrupt(() => prompt.close());
  const prompt = new Prompt({ input: process.stdin, stdout: process.stdout, stderr: process.stderr, onInterrupt: interrupts.trigger });
  let leaving = false;
  let lost: NetlabError | undefined;
  let wake: (() => void) | undefined;

  client.on('message', (data, isBinary) => {
    output.received(showMessage(data, isBinary));
    wake?.();
  });
  client.on('close', (code, reason) => {
    wake?.();
    if (leaving) return;
    const why = reason ? ` "${visible(reason)}"` : '';
    lost = new NetlabError('NETLAB_ERR_SERVER_CLOSED', `closed by the server: ${describeCloseCode(code)}${why}.`, closeHint(code, options.serveCommand));
    prompt.close();
  });
  client.on('error', (err) => output.debug(`websocket error: ${err.message}`));
  client.resume();

  /** Resolves once every message sent has had a reply, the connection closed, or `ms` passed. */
  const replies = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const done = () => client.totals.messagesReceived >= client.totals.messagesSent || !client.open;
      const timer = setTimeout(() => finish(), ms);
      const finish = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve(client.totals.messagesReceived >= client.totals.messagesSent);
      };
      wake = () => done() && finish();
      if (done()) finish();
    });

  output.attach(prompt);
  try {
    prompt.ready();
    for await (const line of prompt) {
      // Lines already read when the server closed are not sent (the prompt stops reading).
      if (lost) break;
      if (!prompt.interactive) output.sent(visible(line));
      if (line.trim() === 'exit') break;
      try {
        await client.send(options.binary ? Buffer.from(line) : line);
      } catch (err) {
        throw lost ?? new NetlabError('NETLAB_ERR_SEND', `the message could not be sent: ${(err as Error).message}.`);
      }
      if (!prompt.interactive && !(await replies(REPLY_WAIT_MS)) && client.open) {
        output.note(`no reply within ${REPLY_WAIT_MS / 1000} s; sending the next line anyway`);
      }
      prompt.ready();
    }
    if (lost) throw lost;
    if (!prompt.interactive) await replies(REPLY_WAIT_MS);
    leaving = true;
    const { code, reason } = await client.close(1000);
    if (code === 1006) {
      throw new NetlabError(
        'NETLAB_ERR_NO_CLOSE',
        `the server did not answer our close frame within ${CLOSE_TIMEOUT_MS / 1000} s: ${describeCloseCode(code)}.`,
        'a WebSocket server answers every close frame; is this one stuck?',
      );
    }
    const why = reason ? ` "${visible(reason)}"` : '';
    const { messagesSent, messagesReceived } = client.totals;
    output.note(`closed · ${describeCloseCode(code)}${why} · sent ${count(messagesSent, 'message')}, received ${messagesReceived}`);
  } finally {
    interrupts.dispose();
    output.attach(undefined);
    prompt.close();
    if (!leaving) client.terminate();
  }
}

/** A received message as its `<` line shows it. */
export function showMessage(data: Buffer, isBinary: boolean): string {
  if (isBinary) return data.length === 0 ? 'binary 0 bytes' : `binary ${bytes(data.length)}: ${hex(data, 32)}`;
  if (data.length === 0) return '(empty message)';
  const text = visible(data.toString('utf8'));
  return text.length <= SHOWN_TEXT_CHARS ? text : `${text.slice(0, SHOWN_TEXT_CHARS)}… (${bytes(data.length)})`;
}
