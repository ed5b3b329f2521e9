/**
 * What a ws-chat user types and sees (src/ws/chat-view.ts, lesson 05): typed lines become
 * requests, the server's JSON becomes tcp-chat's lines, and a join's three messages one line.
 */
import { describe, expect, it } from 'vitest';
import { JoinView, parseChatInput, requestFor, showServerMessage } from '../../src/ws/chat-view.js';

describe('parseChatInput and requestFor', () => {
  it('turns each command into its request', () => {
    const request = (line: string) => requestFor(parseChatInput(line));
    expect(request('hello')).toEqual({ type: 'message', text: 'hello' });
    expect(request('/me waves')).toEqual({ type: 'message', text: 'waves', action: true });
    expect(request('/msg bob psst now')).toEqual({ type: 'private', to: 'bob', text: 'psst now' });
    expect(request('/nick al')).toEqual({ type: 'rename', name: 'al' });
    expect(request('/join games')).toEqual({ type: 'join', room: 'games' });
    expect(request('/JOIN games')).toEqual({ type: 'join', room: 'games' });
    expect(request('/who')).toEqual({ type: 'users' });
    expect(request('//join is a message')).toEqual({ type: 'message', text: '/join is a message' });
  });

  it('answers /help, /quit and mistakes itself, sending nothing', () => {
    for (const line of ['/help', '/quit', '/join', '/joinery', '/msg bob', '', '   ']) expect(requestFor(parseChatInput(line))).toBeUndefined();
    expect(parseChatInput('/join')).toEqual({ kind: 'invalid', reason: 'usage: /join ROOM' });
  });
});

describe('showServerMessage', () => {
  const time = '2026-12-01T10:00:00.000Z';

  it("shows others' messages in tcp-chat's shapes, and hides our own receipts", () => {
    expect(showServerMessage({ type: 'message', room: 'lobby', from: 'bob', text: 'hi', time }, 'alice')).toEqual(['bob: hi']);
    expect(showServerMessage({ type: 'message', room: 'lobby', from: 'bob', text: 'waves', time, action: true }, 'alice')).toEqual(['* bob waves']);
    expect(showServerMessage({ type: 'message', room: 'lobby', from: 'alice', text: 'hi', time, id: '3' }, 'alice')).toEqual([]);
    expect(showServerMessage({ type: 'private', from: 'bob', to: 'alice', text: 'psst', time }, 'alice')).toEqual(['bob (private): psst']);
    expect(showServerMessage({ type: 'private', from: 'alice', to: 'bob', text: 'psst', time }, 'alice')).toEqual(['(private to bob) psst']);
    expect(showServerMessage({ type: 'notice', text: 'carol joined lobby (3 here)' }, 'alice')).toEqual(['*** carol joined lobby (3 here)']);
    expect(showServerMessage({ type: 'error', code: 'bad-json', text: 'not JSON' }, 'alice')).toEqual(['*** error: not JSON']);
  });

  it('makes control characters visible, whatever the server sent', () => {
    const lines = showServerMessage({ type: 'message', room: 'lobby', from: 'b\u001b[2Jb', text: 'x\u0007\u009b', time }, 'alice');
    expect(lines).toEqual(['b\\x1b[2Jb: x\\x07\\x9b']);
  });

  it("says a join once it has all three of its messages, history below", () => {
    const view = new JoinView();
    expect(view.show({ type: 'joined', name: 'bob', room: 'lobby', token: 'f'.repeat(32) }, 'bob')).toEqual([]);
    const history = [{ type: 'message' as const, room: 'lobby', from: 'alice', text: 'earlier', time }];
    expect(view.show({ type: 'history', room: 'lobby', messages: history }, 'bob')).toEqual([]);
    expect(view.show({ type: 'users', room: 'lobby', users: ['alice', 'bob'] }, 'bob')).toEqual([
      '*** you are bob in lobby · 2 here: alice, bob',
      '*** the last message in lobby:',
      '  alice: earlier',
    ]);
    // Later users lists are answers to /who.
    expect(view.show({ type: 'users', room: 'lobby', users: ['bob'] }, 'bob')).toEqual(['*** 1 here in lobby: bob']);
  });

  it('shows only what is new in the history of a rejoin, so a reconnect repeats nothing', () => {
    const view = new JoinView();
    const line = (from: string, text: string, second: number) => ({ type: 'message' as const, room: 'lobby', from, text, time: `2026-12-01T10:00:0${second}.000Z` });
    const join = (history: ReturnType<typeof line>[]) => {
      view.show({ type: 'joined', name: 'bob', room: 'lobby', token: 'f'.repeat(32) }, 'bob');
      view.show({ type: 'history', room: 'lobby', messages: history }, 'bob');
      return view.show({ type: 'users', room: 'lobby', users: ['alice', 'bob'] }, 'bob');
    };
    expect(join([line('alice', 'one', 1)])).toHaveLength(3);
    view.show({ ...line('alice', 'two', 2) }, 'bob');
    view.show({ ...line('bob', 'mine', 3), id: '1' }, 'bob');
    expect(join([line('alice', 'one', 1), line('alice', 'two', 2), line('bob', 'mine', 3), line('alice', 'while away', 4)])).toEqual([
      '*** you are bob in lobby · 2 here: alice, bob',
      '*** the last message in lobby:',
      '  alice: while away',
    ]);
  });
});
