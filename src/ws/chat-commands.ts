/**
 * `netlab ws-chat serve` and `netlab ws-chat connect` (lesson 05): options in, modules
 * started, their events out as lines. The server is chat-server.ts (with chat-manager.ts and
 * chat-protocol.ts) on ws-listener.ts; the client is chat-client.ts with chat-session.ts.
 */
import { Command, Option } from 'commander';
import { addAddressOptions, argParser, networkError, outputFor, showLiveCount, untilInterrupted } from '../core/commands.js';
import { count } from '../core/text-view.js';
import { defaultPort, parseInteger } from '../core/options.js';
import type { Output } from '../core/output.js';
import { logWsChatServer, wsChatTotals } from './chat-log.js';
import { MAX_MESSAGE_BYTES, MAX_QUEUE_BYTES, RATE_LIMIT, startWsChatServer } from './chat-server.js';
import { addWsListenerOptions, announceWsServer, wsListenerSettings, type WsServeOptions } from './echo-commands.js';
import { connectCommand } from './chat-connect-command.js';

interface ServeOptions extends WsServeOptions {
  maxQueue: number;
  rate: number;
}

export function wsChatCommand(): Command {
  const cmd = new Command('ws-chat').description('lesson 05: a WebSocket chat with rooms, users, a browser page, and a client that reconnects');

  const serve = new Command('serve').description('a JSON chat over WebSocket, with rooms; serve the chat page at /');
  addWsListenerOptions(addAddressOptions(serve, 'ws-chat', 'server'))
    .addOption(
      new Option('--max-message <bytes>', 'largest message a client may send, 256 to 1048576; bigger closes 1009')
        .default(MAX_MESSAGE_BYTES)
        .argParser(argParser((v) => parseInteger('--max-message', v, 256, 1024 * 1024))),
    )
    .addOption(
      new Option('--max-queue <kib>', 'KiB waiting for a client before it counts as not reading, 1 to 65536')
        .default(MAX_QUEUE_BYTES / 1024)
        .argParser(argParser((v) => parseInteger('--max-queue', v, 1, 65536))),
    )
    .addOption(
      new Option('--rate <messages>', 'messages per second a client may send before it is slowed down, 1 to 100000')
        .default(RATE_LIMIT.perSecond)
        .argParser(argParser((v) => parseInteger('--rate', v, 1, 100_000))),
    )
    .addOption(new Option('--quiet', 'log connections, joins and leaves, not every message'))
    .addHelpText(
      'after',
      `
Examples:
  netlab ws-chat serve                        ws://127.0.0.1:${defaultPort('ws-chat')}/ws, page at http://127.0.0.1:${defaultPort('ws-chat')}/
  netlab ws-chat serve --lan --quiet          the whole classroom in one chat
  netlab ws-chat serve --rate 2               see the rate limit at work`,
    )
    .action((opts: ServeOptions, command: Command) => serveWsChat(opts, outputFor(command)));

  return cmd
    .addCommand(serve)
    .addCommand(connectCommand())
    .addHelpText('after', '\nExamples:\n  netlab ws-chat serve\n  netlab ws-chat connect --name alice      (in a second terminal, or open the page)');
}

async function serveWsChat(opts: ServeOptions, output: Output): Promise<void> {
  const server = await startWsChatServer({
    ...wsListenerSettings(opts, output),
    maxMessageBytes: opts.maxMessage,
    maxQueueBytes: opts.maxQueue * 1024,
    rate: { perSecond: opts.rate, burst: opts.rate * 2 },
  }).catch((err: unknown) => {
    throw networkError(err, { operation: 'listen', host: opts.host, port: opts.port });
  });
  // Before the listening line: see untilInterrupted.
  const stopped = untilInterrupted(output, () => server.close());
  announceWsServer(output, 'ws-chat', server, opts);
  logWsChatServer(server, output, { quiet: opts.quiet });
  const { manager } = server;
  const endCount = showLiveCount(
    output,
    server,
    ['join', 'leave', 'message'],
    () => `${count(manager.userCount, 'user')} online in ${count(manager.roomCount, 'room')} · ${count(manager.totals.messages, 'message')}`,
  );

  await stopped;
  endCount();
  output.event(`ws-chat server stopped · ${wsChatTotals(server)}`);
}
