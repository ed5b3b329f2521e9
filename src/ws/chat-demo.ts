/**
 * `netlab demo ws-chat`: lesson 05 in one terminal, for a projector. A ws-chat server on a
 * free port and two clients in this process, alice in the lobby and bob in games; every line
 * is tagged with the side that printed it.
 *
 * The script: each talks in their own room (neither hears the other), bob comes to the lobby
 * and gets its history, a private message, then the server restarts on the same port. Nobody
 * tells the clients what to do: they see the close, back off, reconnect, rejoin with their
 * name and room, and alice's message typed during the outage arrives once she is back.
 * With --slow it waits before each join, each typed line, the restart and the goodbyes.
 */
import { once } from 'node:events';
import type { Output } from '../core/output.js';
import type { DemoPace } from '../lessons/demo-pace.js';
import { describeCloseCode } from './close-codes.js';
import { logWsChatServer, wsChatTotals } from './chat-log.js';
import { describeFailure, openChatClient, type ChatClient, type ChatRequest } from './chat-client.js';
import { startWsChatServer, type WsChatServer } from './chat-server.js';
import { JoinView } from './chat-view.js';

const SERVER = 'server';

/** Short delays, so the room does not wait long on the projector; the shape is the real one. */
const DEMO_BACKOFF = { firstMs: 400, maxMs: 3000 };
/** How long the server stays down: long enough to see a failed attempt or two. */
const DOWNTIME_MS = 1500;

export async function runWsChatDemo(output: Output, pace: DemoPace): Promise<void> {
  let server = await start(0, output);
  const port = server.port;
  await pace.step();
  const alice = await join(server.url, 'alice', 'lobby', output);
  await pace.step();
  const bob = await join(server.url, 'bob', 'games', output);
  try {
    await say(alice, 'alice', { type: 'message', text: 'anyone in the lobby?' }, output, pace);
    await say(bob, 'bob', { type: 'message', text: 'games is quiet too' }, output, pace);
    await say(bob, 'bob', { type: 'join', room: 'lobby' }, output, pace);
    await say(bob, 'bob', { type: 'message', text: 'found you' }, output, pace);
    await say(bob, 'bob', { type: 'private', to: 'alice', text: 'the server restarts now' }, output, pace);

    await pace.step();
    output.event('restarting: close() sends every client 1001 "server shutting down"', SERVER);
    const lost = Promise.all([once(alice, 'lost'), once(bob, 'lost')]);
    await server.close();
    output.event(`ws-chat server stopped · ${wsChatTotals(server)}`, SERVER);
    await lost;
    await say(alice, 'alice', { type: 'message', text: 'typed while the server was down' }, output, pace);
    await new Promise((resolve) => setTimeout(resolve, DOWNTIME_MS));
    await pace.step();
    const restored = Promise.all([once(alice, 'restored'), once(bob, 'restored')]);
    server = await start(port, output);
    await restored;
    await alice.settled();
    await say(bob, 'bob', { type: 'message', text: 'got it, we are both back' }, output, pace);
    await new Promise((resolve) => setImmediate(resolve));
    await pace.step();
  } finally {
    await Promise.all([alice.close(), bob.close()]);
    await server.close();
  }
  output.event(`ws-chat server stopped · ${wsChatTotals(server)}`, SERVER);
  output.note('try it in three terminals: `netlab ws-chat serve`, then `netlab ws-chat connect --name you` twice, or open the page (lesson 05)');
}

async function start(port: number, output: Output): Promise<WsChatServer> {
  const server = await startWsChatServer({ host: '127.0.0.1', port, path: '/ws' });
  output.event(`ws-chat server listening on 127.0.0.1:${server.port} · ${server.url} · ${server.pageUrl}`, SERVER);
  logWsChatServer(server, output, { tag: SERVER, quiet: true });
  return server;
}

/** A client, its events shown as its lines; resolves once it is in the room. */
async function join(url: string, name: string, room: string, output: Output): Promise<ChatClient> {
  const client = await openChatClient({ url, name, room, backoff: DEMO_BACKOFF });
  const view = new JoinView();
  client.on('message', (message) => view.show(message, client.currentName).forEach((line) => output.received(line, name)));
  client.on('lost', (code, reason) => output.note(`connection lost: ${describeCloseCode(code)}${reason ? ` "${reason}"` : ''}`, name));
  client.on('retrying', (attempt, delayMs, failure) => {
    const next = `reconnecting in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt})`;
    output.note(failure ? `attempt ${attempt - 1} failed (${describeFailure(failure)}); ${next}` : next, name);
  });
  client.on('reconnected', (attempt) => output.note(`reconnected (attempt ${attempt}); rejoining ${client.currentRoom} as ${name}`, name));
  client.on('restored', (sent) => sent > 0 && output.note(`sent ${sent === 1 ? '1 queued message' : `${sent} queued messages`}`, name));
  client.on('ended', (err) => output.error(err.message, err.hint));
  await client.join();
  return client;
}

/** After the pace, sends one request as typed, and waits for the server's answer to it. */
async function say(client: ChatClient, name: string, request: ChatRequest, output: Output, pace: DemoPace): Promise<void> {
  await pace.step();
  const typed =
    request.type === 'message'
      ? request.text
      : request.type === 'join'
        ? `/join ${request.room}`
        : request.type === 'private'
          ? `/msg ${request.to} ${request.text}`
          : request.type;
  output.sent(typed, name);
  if (client.send(request) === 'queued') output.note(`not connected: queued (${client.waiting} waiting), sent once we are back`, name);
  else await client.settled();
  // Let the other side's deliveries print before the next line is typed.
  await new Promise((resolve) => setTimeout(resolve, 20));
}
