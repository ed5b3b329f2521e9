/**
 * A server made of several processes, for the benchmark of lesson 07 (ws-chat-redis.js): a
 * Redis of its own (redis-process.js) and `servers` netlab ws-chat servers that share the chat
 * through it (`--redis redis://127.0.0.1:PORT`). compare.js measures one handle per server of
 * a run; this one looks like a single server's (server-process.js), with a few fields more:
 *
 *   addresses       `[{ host, port }]`, one per netlab server, for a load that spreads its
 *                   clients over them (openRoom() in ws-chat-load.js)
 *   redis           the Redis handle: `url`, `cpuMs()`, `flushAll()`, `deleteKeys(pattern)`
 *   serversCpuMs()  the netlab servers' CPU, without Redis's
 *   cpuMs()         every process of the group, Redis included: what compare.js's noise gauge
 *                   counts as the run's own, rather than as a neighbour's
 *
 * Each group has its own Redis because two groups cannot share one. Every server publishes on
 * one pub/sub channel and reads it (`netlab:ws-chat:events`, chat-cluster.ts), the CLI has no
 * option to change its prefix, and Redis's pub/sub ignores database numbers (`/1`): one
 * group's messages would reach the other group's room of the same name, and every idle server
 * would parse every message of the one being measured.
 *
 * Leaves out: starting the servers at once (sequentially, as compare.js does, so that two
 * servers compiling their code do not slow each other's start) and restarting one mid-run.
 */
import { startRedis } from './redis-process.js';
import { startServer } from './server-process.js';

/**
 * Starts the group: Redis first, then each netlab server with `{redis}` in its `args` replaced
 * by Redis's URL. Resolves once every server listens; if one fails, stops the rest and rejects.
 *
 * @param spec a server spec (server-process.js) plus `servers`, how many netlab servers.
 */
export async function startRedisGroup(spec) {
  const { label, cwd, servers: count } = spec;
  const redis = await startRedis({ label: `${label}: Redis`, cwd });
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const args = spec.args.map((arg) => arg.replaceAll('{redis}', redis.url));
      servers.push(await startServer({ ...spec, label: `${label}: server ${i + 1}`, args }));
    }
  } catch (err) {
    await Promise.all(servers.map((server) => server.stop()));
    await redis.stop();
    throw err;
  }
  const serversCpuMs = () => servers.reduce((sum, server) => sum + server.cpuMs(), 0);
  let stopping;
  return {
    label,
    spec,
    host: servers[0].host,
    port: servers[0].port,
    pid: servers[0].pid,
    addresses: servers.map(({ host, port }) => ({ host, port })),
    redis,
    serversCpuMs,
    cpuMs: () => serversCpuMs() + redis.cpuMs(),
    /** True while every process of the group is alive. */
    get alive() {
      return redis.alive && servers.every((server) => server.alive);
    },
    /** The servers first, so that each leaves the group cleanly; then Redis. Safe to call twice. */
    stop() {
      stopping ??= (async () => {
        await Promise.all(servers.map((server) => server.stop()));
        await redis.stop();
      })();
      return stopping;
    },
  };
}
