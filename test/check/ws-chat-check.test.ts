/**
 * The ws-chat checklist (src/check/ws-chat-check.ts) against netlab's own chat server, with its
 * real rate limits and name rules, and a minimal chat that speaks only lesson 05's protocol
 * (no tokens, history or ids), which must both pass every check; against that chat broken one
 * way at a time (test/check/fixtures/ws-chat-minimal.mjs MISTAKE), which must fail the right
 * check with the right hint; and once through the built binary.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { wsChatChecklist } from '../../src/check/ws-chat-check.js';
import { startWsChatServer } from '../../src/ws/chat-server.js';
import { startWsEchoServer } from '../../src/ws/echo-server.js';
import { freePort, runCli } from '../cli/run-cli.js';
import { checkPort, failure, onlyFailing, resultFor, startFixture } from './fixture-server.js';

const TITLES = {
  join: 'answers a join with "joined", naming the user and the room',
  users: 'sends the room\'s users after a join ("users")',
  message: 'delivers a message to the others in the room ("message", from, text)',
  ownCopy: 'sends the sender its own copy of each message',
  rooms: 'keeps rooms apart: a message reaches only its own room',
  private: 'delivers a private message to its recipient only ("private")',
  nameTaken: 'refuses a name already taken with an "error"',
  badJson: 'answers invalid JSON with an "error" and keeps the connection',
  unknownType: 'answers an unknown type with an "error" and keeps the connection',
};

/** Every check passes except the ones named, which fail. */
const expectOnlyFailures = onlyFailing(TITLES);

/** netlab's chat server as `netlab ws-chat serve` runs it: default rate limit, queue and names. */
async function netlabServer(): Promise<number> {
  const server = await startWsChatServer({ host: '127.0.0.1', port: 0, path: '/ws' });
  onTestFinished(() => server.close());
  return server.port;
}

/** The minimal chat, broken by `mistake` (or not at all). */
async function minimalChat(mistake?: string): Promise<number> {
  return (await startFixture('ws-chat-minimal.mjs', mistake ? [mistake] : [])).port;
}

describe('netlab check ws-chat', () => {
  it("passes every check against netlab's own chat server, within its rate limit", async () => {
    const results = await checkPort(wsChatChecklist, await netlabServer());
    expectOnlyFailures(results, []);
    expect(resultFor(results, TITLES.nameTaken)).toMatchObject({ detail: '"code":"name-taken"' });
    expect(resultFor(results, TITLES.badJson)).toMatchObject({ detail: '"code":"bad-json"' });
  });

  it("passes every check against a chat that speaks only the lesson's protocol, without tokens, history or ids", async () => {
    const results = await checkPort(wsChatChecklist, await minimalChat());
    expectOnlyFailures(results, []);
  });

  it('fails the join with "connection refused" when nothing listens, and skips the rest', async () => {
    const results = await checkPort(wsChatChecklist, await freePort());
    const first = failure(results, TITLES.join);
    expect(first.problem).toContain('connection refused');
    expect(first.hint).toContain('netlab ws-chat serve');
    expect(results.slice(1).every((r) => r.status === 'skipped')).toBe(true);
  });

  it('fails the join of an echo server, quoting what came back and the "joined" it expected', async () => {
    const echo = await startWsEchoServer({ host: '127.0.0.1', port: 0, path: '/ws' });
    onTestFinished(() => echo.close());
    const results = await checkPort(wsChatChecklist, echo.port);
    const { problem, hint } = failure(results, TITLES.join);
    expect(problem).toMatch(/^no \{"type":"joined"\} answer to \{"type":"join","name":"alice-\w{4}","room":"red-\w{4}"\} within 1 s; the server sent \{"type":"join",/);
    expect(hint).toMatch(/^answer a join with \{"type":"joined","name":"alice-\w{4}","room":"red-\w{4}"\}/);
    expect(hint).toContain('lesson 05, "The messages are JSON"');
    expect(results.slice(1).every((r) => r.status === 'skipped')).toBe(true);
  });

  it('fails the chat lines of a server that sends plain text, quoting the JSON shape they need', async () => {
    const results = await checkPort(wsChatChecklist, await minimalChat('plain-text'));
    expectOnlyFailures(results, [TITLES.message, TITLES.ownCopy, TITLES.private]);
    const { problem, hint } = failure(results, TITLES.message);
    expect(problem).toMatch(/^bob-(\w{4}) got "alice-\1: hello from alice-\1": plain text, not JSON\.$/);
    expect(hint).toMatch(/\{"type":"message","from":"alice-\w{4}","text":"hello from alice-\w{4}"\}/);
    expect(failure(results, TITLES.private).hint).toMatch(/\{"type":"private","from":"alice-\w{4}","text":"psst, bob-\w{4}"\}/);
  });

  it("fails only the sender's copy of a server that sends a message to the others only", async () => {
    const results = await checkPort(wsChatChecklist, await minimalChat('no-own-copy'));
    expectOnlyFailures(results, [TITLES.ownCopy]);
    const { problem, hint } = failure(results, TITLES.ownCopy);
    expect(problem).toContain('and got no copy of it within 1 s');
    expect(hint).toContain('lesson 05, "Two people, one room"');
  });

  it('fails only the rooms check of a server that sends every message to everyone', async () => {
    const results = await checkPort(wsChatChecklist, await minimalChat('no-rooms'));
    expectOnlyFailures(results, [TITLES.rooms]);
    const { problem, hint } = failure(results, TITLES.rooms);
    expect(problem).toMatch(/^bob-(\w{4}), in blue-\1, got alice-\1's message to red-\1: \{"type":"message",/);
    expect(hint).toContain('lesson 05, "Rooms"');
  });

  it('fails only the private check of a server that sends private messages to the whole room', async () => {
    const results = await checkPort(wsChatChecklist, await minimalChat('private-to-all'));
    expectOnlyFailures(results, [TITLES.private]);
    expect(failure(results, TITLES.private).problem).toMatch(/^carol-\w{4}, who is in the room but not the recipient, got it too: \{"type":"private",/);
  });

  it('fails only the name check of a server that gives a name out twice', async () => {
    const results = await checkPort(wsChatChecklist, await minimalChat('duplicate-names'));
    expectOnlyFailures(results, [TITLES.nameTaken]);
    const { problem, hint } = failure(results, TITLES.nameTaken);
    expect(problem).toMatch(/^a second connection joining as alice-\w{4} \(a name in use\) got \{"type":"joined",.*: two users now share the name\.$/);
    expect(hint).toContain('{"type":"error","code":"name-taken","text":"…"}');
    expect(hint).toContain('lesson 05, "One user, several connections"');
  });

  it('fails the join of a chat that sends a message over 1 MiB, saying so, and reads none of it', async () => {
    // With ws's default limit, 100 MiB a message, and every message kept, a server sending
    // 50 MB frames drove the checker past a gigabyte.
    const results = await checkPort(wsChatChecklist, await minimalChat('huge-joined'));
    const { problem, hint } = failure(results, TITLES.join);
    expect(problem).toMatch(/^the server sent alice-\w{4} a message over 1 MiB, more than netlab check accepts, so it closed the connection \(1009, message too big\)\.$/);
    expect(hint).toContain('lesson 05, "Limits"');
    expect(results.slice(1).every((r) => r.status === 'skipped')).toBe(true);
  });

  it('stops keeping the messages of a chat that floods each client, and fails the checks that wait past them', async () => {
    const results = await checkPort(wsChatChecklist, await minimalChat('notice-flood'));
    // The join's answers come before the flood; a message sent after it arrives after 2,000 notices.
    expectOnlyFailures(results, [TITLES.message, TITLES.ownCopy, TITLES.rooms, TITLES.private, TITLES.badJson, TITLES.unknownType]);
    const { problem, hint } = failure(results, TITLES.message);
    expect(problem).toMatch(/^the server sent bob-\w{4} more than 1,000 messages in one check, which has it receive a dozen or so; netlab check stopped reading there\.$/);
    expect(hint).toContain('lesson 05, "The messages are JSON"');
  });

  it('fails only the invalid-JSON check of a server that closes the connection on it', async () => {
    const results = await checkPort(wsChatChecklist, await minimalChat('close-on-bad-json'));
    expectOnlyFailures(results, [TITLES.badJson]);
    const { problem, hint } = failure(results, TITLES.badJson);
    expect(problem).toBe('the server closed the connection, 1003 (unsupported data) "invalid JSON", after a message that is not JSON, "not JSON {".');
    expect(hint).toContain('keep the connection');
    expect(hint).toContain('lesson 05, "Every field is checked"');
  });
});

describe('netlab check ws-chat, the built binary', () => {
  it("exits 0 with a ✓ for every check against netlab's own server", async () => {
    const port = await netlabServer();
    const { code, stdout } = await runCli(['check', 'ws-chat', '--port', String(port), '--wait', '1000']);
    expect(code, stdout).toBe(0);
    for (const title of Object.values(TITLES)) expect(stdout).toContain(`✓ ${title}`);
    expect(stdout).toContain(`all ${Object.keys(TITLES).length} checks passed`);
  });

  it('exits 1 with ✗, the problem and a hint: line for the failed check', async () => {
    const port = await minimalChat('no-rooms');
    const { code, stdout } = await runCli(['check', 'ws-chat', '--port', String(port), '--wait', '1000']);
    expect(code, stdout).toBe(1);
    expect(stdout).toMatch(new RegExp(`✗ ${TITLES.rooms}\\n {4}bob-\\w{4}, in blue-\\w{4}, got [^]*?\\n {4}hint: a message goes only to the connections in the sender's room`));
    expect(stdout).toContain(`8 of ${Object.keys(TITLES).length} checks passed; 1 failed`);
  });
});
