/**
 * A real Redis for the tests of lesson 07 (ws-chat --redis): Debian's redis-server on a free
 * loopback port, with no persistence, so a restart comes back empty as a crashed Redis with no
 * snapshot would. Without redis-server the tests are skipped on a developer's machine and fail
 * in CI, where they must never be skipped (`apt-get install redis-server`; .ci/run does so).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { describe } from 'vitest';
import { freePort } from './free-port.js';

export const HAVE_REDIS = spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0;

/** `describe`, skipped where there is no redis-server, except in CI (where it then fails). */
export const describeWithRedis = HAVE_REDIS || process.env.CI ? describe : describe.skip;

/** Hang guard for Redis starting or stopping (not a performance threshold). */
const READY_TIMEOUT_MS = 10_000;

export class RedisProcess {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  /** `redis://127.0.0.1:PORT` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a redis-server on a free port; resolves once it accepts connections. */
  static async start(): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort());
    await redis.run();
    return redis;
  }

  /** Stops it at once (SIGKILL: no goodbye to its clients, no snapshot); resolves when it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }

  /** Starts it again on the same port, empty. */
  async restart(): Promise<void> {
    await this.kill();
    await this.run();
  }

  private async run(): Promise<void> {
    if (!HAVE_REDIS) throw new Error('redis-server is not installed: `apt-get install redis-server` (.ci/run does so in CI)');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice'];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within ${READY_TIMEOUT_MS} ms:\n${output}`)), READY_TIMEOUT_MS);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${output}`));
      });
    });
    child.stdout!.resume();
  }
}
