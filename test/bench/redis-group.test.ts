/**
 * bench/lib/redis-process.js and redis-group.js, the servers of the ws-chat-redis benchmark
 * (lesson 07): a real redis-server on a port of the benchmark's range, spoken to in RESP, and a
 * group of two netlab servers on it that stops every process it started. Like the smoke run,
 * it runs built code (`dist/`; `npm test` builds first). Skipped where redis-server is not
 * installed, except in CI (test/support/redis.ts).
 */
import { fileURLToPath } from 'node:url';
import { expect, it, onTestFinished } from 'vitest';
import { describeWithRedis } from '../support/redis.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { REDIS_PORTS, command, startRedis } = await import(new URL('../../bench/lib/redis-process.js', import.meta.url).href);
const { startRedisGroup } = await import(new URL('../../bench/lib/redis-group.js', import.meta.url).href);

/** Whether a process still runs (not even as a zombie): the stopped group must leave none. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describeWithRedis('the ws-chat-redis benchmark’s Redis', () => {
  it('listens on a port of its range, answers FLUSHALL and deletes the keys of a pattern', async () => {
    const redis = await startRedis({ label: 'test Redis', cwd: REPO_ROOT });
    onTestFinished(() => redis.stop());
    expect(redis.port).toBeGreaterThanOrEqual(REDIS_PORTS.first);
    expect(redis.port).toBeLessThanOrEqual(REDIS_PORTS.last);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);

    expect(await command(redis.port, ['SET', 'netlab:ws-chat:history:bench', 'x'])).toBe('OK');
    expect(await command(redis.port, ['SET', 'other', 'y'])).toBe('OK');
    expect(await redis.deleteKeys('netlab:ws-chat:history:*')).toBe(1);
    expect(await command(redis.port, ['EXISTS', 'other'])).toBe(1);
    expect(await redis.flushAll()).toBe('OK');
    expect(await command(redis.port, ['DBSIZE'])).toBe(0);
    await expect(command(redis.port, ['NO-SUCH-COMMAND'])).rejects.toThrow(/NO-SUCH-COMMAND: ERR unknown command/);
  });

  it('starts two netlab servers on one Redis, and stop() ends all three processes', async () => {
    const args = ['bin/netlab.js', 'ws-chat', 'serve', '--port', '0', '--quiet', '--redis', '{redis}'];
    const group = await startRedisGroup({ label: 'two', cwd: REPO_ROOT, servers: 2, args });
    onTestFinished(() => group.stop());
    expect(group.addresses).toHaveLength(2);
    expect(group.addresses[0].port).not.toBe(group.addresses[1].port);
    expect(group.alive).toBe(true);
    // Both servers have joined the group in Redis (chat-redis-scripts.ts: the `servers` ZSET).
    expect(await command(group.redis.port, ['ZCARD', 'netlab:ws-chat:servers'])).toBe(2);

    const pids = [group.pid, group.redis.pid];
    await Promise.all([group.stop(), group.stop()]);
    expect(group.alive).toBe(false);
    for (const pid of pids) expect(alive(pid), `process ${pid}`).toBe(false);
  });
});
