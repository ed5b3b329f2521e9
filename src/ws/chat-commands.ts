/**
 * `netlab ws-chat serve` and `netlab ws-chat connect` (lesson 05): options in, modules
 * started, their events out as lines. The server is chat-server.ts (with chat-manager.ts and
 * chat-protocol.ts) on ws-listener.ts; the client is chat-client.ts with chat-session.ts.
 */
import { Command, Option } from 'commander';
import { addAddressOptions, argParser, networkError, outputFor, showLiveCount, untilInterrupted } from '../core/commands.js';
import { count } from '../core/text-view.js';
import { NetlabError, UsageError } from '../core/errors.js';
import { defaultPort, parseInteger } from '../core/options.js';
import type { Output } from '../core/output.js';
import { logWsChatServer, wsChatTotals } from './chat-log.js';
import { ClusterChatManager, PRESENCE_TIMEOUT_MS, RedisUnreachableError, withoutPassword } from './chat-cluster.js';
import { MAX_MESSAGE_BYTES, MAX_QUEUE_BYTES, RATE_LIMIT, startWsChatServer } from './chat-server.js';
import { addWsListenerOptions, announceWsServer, wsListenerSettings, type WsServeOptions } from './echo-commands.js';
import { connectCommand } from './chat-connect-command.js';

interface ServeOptions extends WsServeOptions {
  maxQueue: number;
  rate: number;
  redis?: string;
  redisTimeout: number;
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
    .addOption(
      new Option('--redis <url>', 'share rooms, users and history with other servers through this Redis (lesson 07), redis://HOST:PORT').argParser(
        argParser(parseRedisUrl),
      ),
    )
    .addOption(
      new Option('--redis-timeout <seconds>', "with --redis: seconds a silent server's users stay listed, 1 to 300")
        .default(PRESENCE_TIMEOUT_MS / 1000)
        .argParser(argParser((v) => parseInteger('--redis-timeout', v, 1, 300))),
    )
    .addHelpText(
      'after',
      `
Examples:
  netlab ws-chat serve                        ws://127.0.0.1:${defaultPort('ws-chat')}/ws, page at http://127.0.0.1:${defaultPort('ws-chat')}/
  netlab ws-chat serve --lan --quiet          the whole classroom in one chat
  netlab ws-chat serve --rate 2               see the rate limit at work
  netlab ws-chat serve --redis redis://127.0.0.1:6379
                                    one chat, several servers (lesson 07)
  netlab ws-chat serve --port 8011 --redis redis://127.0.0.1:6379
                                    a second server of that chat`,
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
    ...(opts.redis === undefined ? {} : { redis: { url: opts.redis, timeoutMs: opts.redisTimeout * 1000 } }),
  }).catch((err: unknown) => {
    if (err instanceof RedisUnreachableError) {
      const port = new URL(err.url).port || '6379';
      throw new NetlabError('NETLAB_ERR_REDIS', `${err.message}.`, `is redis-server running? Start one with \`redis-server --port ${port}\`, or leave out --redis for one server on its own`);
    }
    throw networkError(err, { operation: 'listen', host: opts.host, port: opts.port });
  });
  // Before the listening line: see untilInterrupted.
  const stopped = untilInterrupted(output, () => server.close());
  announceWsServer(output, 'ws-chat', server, opts);
  if (server.manager instanceof ClusterChatManager) {
    const others = server.manager.groupSize - 1;
    output.event(`sharing the chat through Redis at ${withoutPassword(opts.redis ?? '')} · ${others === 0 ? 'the first server of the group' : `${count(others, 'other server')} in the group`}`);
  }
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

/** `redis://127.0.0.1:6379`: what node-redis takes; anything else is a usage error. */
export function parseRedisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--redis must be a URL such as redis://127.0.0.1:6379, not ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UsageError(`--redis must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379, not ${JSON.stringify(value)}`);
  }
  if (url.hostname === '') throw new UsageError(`--redis must name a host, as in redis://127.0.0.1:6379, not ${JSON.stringify(value)}`);
  return value;
}
