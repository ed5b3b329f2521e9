import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { LAN_HOST, addAddressOptions } from '../../src/core/commands.js';
import { UsageError } from '../../src/core/errors.js';

/** The options a serve command's action would get for `args`; nothing listens. */
async function serveOptions(args: string[]): Promise<{ host: string; lan?: boolean }> {
  let got: { host: string; lan?: boolean } | undefined;
  const cmd = addAddressOptions(new Command('serve'), 'tcp-chat', 'server')
    .exitOverride()
    .action((opts: { host: string }) => void (got = opts));
  await cmd.parseAsync(args, { from: 'user' });
  return got!;
}

describe('--lan', () => {
  it('is --host 0.0.0.0 by a friendlier name', async () => {
    expect((await serveOptions(['--lan'])).host).toBe(LAN_HOST);
    expect((await serveOptions([])).host).toBe('127.0.0.1');
    expect((await serveOptions(['--lan', '--host', '0.0.0.0'])).host).toBe(LAN_HOST);
    expect((await serveOptions(['--host', '::', '--lan'])).host).toBe('::');
  });

  it('is a usage error beside a --host of its own', async () => {
    await expect(serveOptions(['--host', '127.0.0.1', '--lan'])).rejects.toThrow(UsageError);
    await expect(serveOptions(['--lan', '--host', '10.0.0.5'])).rejects.toThrow('it cannot be used with --host 10.0.0.5');
  });

  it('is a server option only: a client names the host it connects to', () => {
    const connect = addAddressOptions(new Command('connect'), 'tcp-chat', 'client');
    expect(connect.options.map((o) => o.long)).not.toContain('--lan');
  });
});
