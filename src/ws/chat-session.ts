/**
 * `netlab ws-chat connect`'s life once it is in the room (lesson 05): each typed (or piped)
 * line is a message or a command (chat-view.ts); what the server sends is shown above the
 * prompt; when the connection drops, chat-client.ts reconnects and this says what it does:
 *
 *   connection lost: 1001 (going away) "server shutting down"
 *   reconnecting in 0.4 s (attempt 1)
 *   attempt 1 failed (connection refused); reconnecting in 1.6 s (attempt 2)
 *   reconnected (attempt 2); rejoining lobby as alice
 *
 * Piped input is sent a line at a time, each after the previous one's receipt, so a scripted
 * run reads like a person typing, and nothing piped is lost while the client reconnects.
 * /quit, Ctrl+D or Ctrl+C leave with close 1000 (exit 0), without waiting for a server that is
 * away (what was not sent is counted); giving up is exit 1.
 */
import type { NetlabError } from '../core/errors.js';
import { onClientInterrupt } from '../core/commands.js';
import type { Output } from '../core/output.js';
import { Prompt } from '../core/prompt.js';
import { count, visible } from '../core/text-view.js';
import { colorNames } from '../tcp/chat-commands.js';
import { describeCloseCode } from './close-codes.js';
import { describeFailure, type ChatClient } from './chat-client.js';
import { MAX_QUEUED_MESSAGES } from './chat-outbox.js';
import { MAX_TEXT_CHARS } from './chat-protocol.js';
import { JoinView, WS_HELP_LINES, parseChatInput, requestFor } from './chat-view.js';

export async function runChatSession(client: ChatClient, output: Output): Promise<void> {
  let interrupted!: () => void;
  const interrupt = new Promise<void>((resolve) => (interrupted = resolve));
  const interrupts = onClientInterrupt(() => {
    prompt.close();
    interrupted();
  });
  /** Waits for the server's receipts, until a Ctrl+C says not to. */
  const settled = () => Promise.race([client.settled(), interrupt]);
  const prompt = new Prompt({ input: process.stdin, stdout: process.stdout, stderr: process.stderr, onInterrupt: interrupts.trigger });
  const view = new JoinView();
  let ended: NetlabError | undefined;

  client.on('message', (message) => {
    for (const line of view.show(message, client.currentName)) output.received(colorNames(line, output));
  });
  client.on('lost', (code, reason) => output.note(`connection lost: ${describeCloseCode(code)}${reason ? ` "${visible(reason)}"` : ''}`));
  client.on('retrying', (attempt, delayMs, failure) => {
    const next = `reconnecting in ${seconds(delayMs)} (attempt ${attempt})`;
    output.note(failure ? `attempt ${attempt - 1} failed (${describeFailure(failure)}); ${next}` : next);
  });
  client.on('reconnected', (attempt) => output.note(`reconnected (attempt ${attempt}); rejoining ${client.currentRoom} as ${client.currentName ?? 'a guest'}`));
  client.on('restored', (sent) => sent > 0 && output.note(`sent ${count(sent, 'queued message')}`));
  client.on('nameLost', (name) => output.note(`${name} was taken while we were away; joining as a guest (/nick changes it)`));
  client.on('ended', (err) => {
    ended = err;
    prompt.close();
  });

  output.attach(prompt);
  try {
    // The listeners are on: now the join, so no answer to it is missed. Ctrl+C may end the wait.
    if ((await Promise.race([client.join().then(() => 'joined'), interrupt])) !== 'joined') return;
    prompt.ready();
    for await (const line of prompt) {
      if (ended) break;
      if (!prompt.interactive) output.sent(visible(line));
      const input = parseChatInput(line);
      if (input.kind === 'quit') break;
      if (input.kind === 'help') WS_HELP_LINES.forEach((help) => output.received(`*** ${help}`));
      else if (input.kind === 'invalid') output.received(`*** error: ${input.reason}`);
      const request = requestFor(input);
      const tooLong = request && 'text' in request && [...request.text].length > MAX_TEXT_CHARS;
      if (tooLong) output.received(`*** error: a message has at most ${MAX_TEXT_CHARS} characters; this one was not sent`);
      else if (request) {
        const outcome = client.send(request);
        if (outcome === 'queued') output.note(`not connected: queued (${client.waiting} waiting), sent once we are back`);
        if (outcome === 'full') output.note(`not sent: ${MAX_QUEUED_MESSAGES} messages are already waiting for the connection`);
        // Piped: one line at a time, each once the server has it (or we gave up).
        if (!prompt.interactive) await settled();
      }
      prompt.ready();
    }
    if (ended) throw ended;
    // Piped input is delivered, through reconnects if need be. A person who leaves waits only
    // for receipts already on their way, not for a server that is away.
    if (!prompt.interactive || client.connected) await settled();
    if (ended) throw ended;
    const unsent = client.unconfirmedCount;
    await client.close();
    if (unsent > 0) output.note(`${count(unsent, 'message')} not confirmed by the server, maybe not sent`);
    const { sent, received, reconnects } = client.totals;
    const again = reconnects > 0 ? `, reconnected ${reconnects === 1 ? 'once' : `${reconnects} times`}` : '';
    output.note(`left · sent ${count(sent, 'message')}, received ${received}${again}`);
  } finally {
    interrupts.dispose();
    output.attach(undefined);
    prompt.close();
    void client.close();
  }
}

/** `0.4 s`, `12 s`. */
function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

