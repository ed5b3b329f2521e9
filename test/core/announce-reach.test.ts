import { describe, expect, it } from 'vitest';
import { announceReach } from '../../src/core/commands.js';
import { Output } from '../../src/core/output.js';

function collect() {
  const lines = { stdout: '', stderr: '' };
  const output = new Output(
    { stdout: { write: (t: string) => ((lines.stdout += t), true) }, stderr: { write: (t: string) => ((lines.stderr += t), true) } } as never,
    { color: false, env: {} },
  );
  return { output, lines };
}

describe('announceReach', () => {
  it('says nothing for a server on loopback', () => {
    const { output, lines } = collect();
    announceReach(output, '127.0.0.1', 12346, 'netlab tcp-chat connect', [{ address: '192.168.1.20', interface: 'wlan0' }]);
    expect(lines).toEqual({ stdout: '', stderr: '' });
  });

  it('warns, and prints the exact command students type, on stderr', () => {
    const { output, lines } = collect();
    announceReach(output, '0.0.0.0', 12346, 'netlab tcp-chat connect', [{ address: '192.168.1.20', interface: 'wlan0' }]);
    expect(lines.stdout).toBe('');
    expect(lines.stderr).toBe(
      'warning: listening on every network interface: anyone on this network can connect.\n' +
        'students connect with: netlab tcp-chat connect --host 192.168.1.20 --port 12346\n',
    );
  });

  it('names the interface of each address when there are several, and takes a URL form', () => {
    const { output, lines } = collect();
    const addresses = [
      { address: '192.168.1.20', interface: 'wlan0' },
      { address: '10.0.0.7', interface: 'eth0' },
    ];
    announceReach(output, '0.0.0.0', 8000, (a) => `netlab ws-echo connect ws://${a}:8000/ws`, addresses);
    expect(lines.stderr.split('\n').slice(1, 3)).toEqual([
      'students connect with (wlan0): netlab ws-echo connect ws://192.168.1.20:8000/ws',
      'students connect with (eth0): netlab ws-echo connect ws://10.0.0.7:8000/ws',
    ]);
  });

  it('says so when the machine has no address besides loopback', () => {
    const { output, lines } = collect();
    announceReach(output, '0.0.0.0', 12345, 'netlab tcp-echo connect', []);
    expect(lines.stderr).toContain('this machine has no network address besides loopback right now.');
  });
});
