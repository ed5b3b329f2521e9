/**
 * How `netlab bench` words a failed run (src/bench/bench-process.ts): run.js's `bench: …` line
 * becomes the sentence of netlab's `error:` line, the lines after it the details above it.
 */
import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../src/bench/bench-process.js';

describe('describeFailure', () => {
  it("makes run.js's message the sentence, with a full stop, and keeps the server's command and stderr as details", () => {
    const failure = describeFailure('udp-echo', [
      'bench: netlab --quiet: exited (code 1) before listening',
      '  command: node bin/netlab.js udp-echo serve --port 0 --quiet',
      '  stderr: error: port 0 on 127.0.0.1 is already in use by another program.',
      '',
    ]);
    expect(failure.sentence).toBe('the udp-echo benchmark failed: netlab --quiet: exited (code 1) before listening.');
    expect(failure.details).toEqual([
      '  command: node bin/netlab.js udp-echo serve --port 0 --quiet',
      '  stderr: error: port 0 on 127.0.0.1 is already in use by another program.',
    ]);
  });

  it('does not add a second full stop, and says so when run.js gave no reason', () => {
    expect(describeFailure('ws-chat', ['bench: a client saw a message twice.']).sentence).toBe('the ws-chat benchmark failed: a client saw a message twice.');
    expect(describeFailure('ws-chat', ['bench: ']).sentence).toBe('the ws-chat benchmark failed: bench/run.js gave no reason.');
  });
});
