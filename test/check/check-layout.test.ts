import { describe, expect, it } from 'vitest';
import { resultLines } from '../../src/check/check-command.js';

describe('resultLines', () => {
  it('puts a pass detail after the title when it fits, else on a line of its own', () => {
    const pass = { title: 'echoes long messages', status: 'pass', detail: '300 bytes and 65,536' } as const;
    expect(resultLines(pass, 80)).toEqual([{ mark: 'pass', text: 'echoes long messages (300 bytes and 65,536)' }]);
    expect(resultLines(pass, 40)).toEqual([{ mark: 'pass', text: 'echoes long messages' }, { text: '    300 bytes and 65,536' }]);
  });

  it('leaves a pass without detail as it is, however narrow', () => {
    const pass = { title: 'echoes each piece as it arrives, without waiting for a newline', status: 'pass' } as const;
    expect(resultLines(pass, 40)).toEqual([{ mark: 'pass', text: pass.title }]);
  });

  it('wraps a failure under its title, the hint hanging under "hint: "', () => {
    const failed = { title: 'serves several clients at once', status: 'fail', problem: 'none of them got an echo in 2 s.', hint: 'serve each client in a thread of its own: lesson 01, "One client at a time".' } as const;
    expect(resultLines(failed, 44)).toEqual([
      { mark: 'fail', text: 'serves several clients at once' },
      { text: '    none of them got an echo in 2 s.' },
      { text: '    hint: serve each client in a thread of' },
      { text: '          its own: lesson 01, "One client at' },
      { text: '          a time".' },
    ]);
  });

  it('marks a check that did not run', () => {
    expect(resultLines({ title: 'echoes', status: 'skipped', reason: 'x' }, 80)).toEqual([{ mark: 'skipped', text: 'echoes (not run)' }]);
  });
});
