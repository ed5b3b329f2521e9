/**
 * The interactive life of a line-based client (tcp-echo and tcp-chat `connect`): read what the
 * user types (or what is piped in), send it, show what arrives above the prompt, and leave
 * cleanly on "exit", /quit, Ctrl+D or Ctrl+C. What differs between labs comes in as hooks:
 * the echo client waits for its echo, the chat client says /quit before it goes.
 *
 * A connection the server ends or resets while the user is still talking is an error with a
 * sentence and a hint (exit 1); leaving because the user asked is success (exit 0).
 */
import { NetlabError, type ErrorContext } from './errors.js';
import { networkError, onClientInterrupt } from './commands.js';
import type { Output } from './output.js';
import { Prompt } from './prompt.js';
import { ReceivedLines } from './received-lines.js';
import { bytes, visible } from './text-view.js';

/** The part of a TCP client a session needs (see src/tcp/tcp-client.ts). */
export interface SessionConnection {
  readonly remote: string;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  on(event: 'close', listener: (error: Error | undefined) => void): unknown;
  send(data: string): Promise<void>;
  destroy(): void;
}

export interface SessionHooks {
  /** How a received line is shown (after control characters were made visible). */
  show?: (line: string) => string;
  /** A typed line that ends the session without being sent ("exit" for the echo client). */
  isExit?: (line: string) => boolean;
  /** A typed line that ends the session after it is sent (/quit for the chat client). */
  isQuit?: (line: string) => boolean;
  /** Sends one line, newline included; `client.send` unless the echo client's --write-size or --burst say otherwise. */
  send?: (text: string, interactive: boolean) => Promise<void>;
  /** Runs after each line is sent; the echo client waits for the echo when input is piped. */
  afterSend?: (interactive: boolean) => Promise<void>;
  /** Leaves once the user is done: send what is left, close, and wait for the server. */
  leave: (quitSent: boolean) => Promise<void>;
}

export async function runClientSession(client: SessionConnection, output: Output, ctx: ErrorContext, hooks: SessionHooks): Promise<void> {
  // One count for both kinds of Ctrl+C: a signal, or a key a raw-mode terminal handed readline.
  const interrupts = onClientInterrupt(() => prompt.close());
  const prompt = new Prompt({ input: process.stdin, stdout: process.stdout, stderr: process.stderr, onInterrupt: interrupts.trigger });
  const received = new ReceivedLines((line) => output.received(hooks.show ? hooks.show(line) : line));
  let leaving = false;
  let lost: Error | undefined;

  client.on('data', (chunk) => received.push(chunk));
  client.on('end', () => {
    if (leaving) return;
    received.flush();
    lost = new NetlabError(
      'NETLAB_ERR_SERVER_CLOSED',
      `the server at ${client.remote} closed the connection.`,
      `it may have stopped or dropped you; start it with \`${ctx.serveCommand}\`.`,
    );
    prompt.close();
  });
  client.on('close', (err) => {
    received.flush();
    if (!leaving && err) lost ??= networkError(err, ctx);
    prompt.close();
  });

  output.attach(prompt);
  try {
    let quitSent = false;
    prompt.ready();
    for await (const line of prompt) {
      if (!prompt.interactive) output.sent(visible(line));
      if (hooks.isExit?.(line)) break;
      await (hooks.send ? hooks.send(`${line}\n`, prompt.interactive) : client.send(`${line}\n`));
      if (hooks.isQuit?.(line)) {
        quitSent = true;
        break;
      }
      await hooks.afterSend?.(prompt.interactive);
      prompt.ready();
    }
    if (lost) throw lost;
    leaving = true;
    await hooks.leave(quitSent);
    received.flush();
    output.note(`disconnected · sent ${bytes(client.bytesSent)}, received ${bytes(client.bytesReceived)}`);
  } finally {
    received.flush();
    interrupts.dispose();
    output.attach(undefined);
    prompt.close();
    client.destroy();
  }
}
