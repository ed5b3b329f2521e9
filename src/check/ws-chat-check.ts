/**
 * `netlab check ws-chat`: grades a WebSocket chat server (lesson 05) against the lesson's JSON
 * protocol, with two or three real WebSocket clients (ws-chat-probe.ts: the handshake and frames
 * are `netlab check ws-echo`'s business). What a correct server does:
 *
 *   join       {"type":"join","name","room"} → {"type":"joined","name","room"}, then
 *              {"type":"users","users":[names]} (pushed, or in answer to {"type":"users"})
 *   message    {"type":"message","text"} → {"type":"message","from","text"} to everyone in the
 *              sender's room, the sender too (its copy is its receipt), and to no other room
 *   private    {"type":"private","to","text"} → {"type":"private","from","text"} to the
 *              recipient, and to nobody else in the room
 *   errors     invalid JSON, an unknown type, a name already taken → {"type":"error"}, and the
 *              connection stays open and usable
 *
 * Only that is required. netlab's own extras are not: the token, the history, ids, "time",
 * "room" in a message, notices, and the error's "code" (netlab's for a taken name is
 * name-taken); a server may send them, or other messages, and every wait skips what it does not
 * look for. Each check draws fresh names and rooms (alice-1a2b, red-1a2b), so a server that is
 * still forgetting the previous check's clients cannot get in the way, and each client sends
 * a few messages only, well inside netlab's rate limit (chat-server.ts).
 *
 * Leaves out: renames, /me actions, several connections of one user (tokens are netlab's), and
 * limits, which each server chooses.
 */
import { randomBytes } from 'node:crypto';
import { visible } from '../core/text-view.js';
import { describeCloseCode } from '../ws/close-codes.js';
import { fail, seconds, type CheckContext, type LabChecklist } from './checklist.js';
import { ChatProbe, type Received } from './ws-chat-probe.js';

const SERVE = 'netlab ws-chat serve';

/** Where each hint sends the student: the headings of lessons/05-ws-chat.md. */
const LESSON = {
  json: 'lesson 05, "The messages are JSON"',
  twoPeople: 'lesson 05, "Two people, one room"',
  checked: 'lesson 05, "Every field is checked"',
  oneUser: 'lesson 05, "One user, several connections"',
  rooms: 'lesson 05, "Rooms"',
} as const;

/** The most of a received message a failure quotes. */
const SHOWN_CHARS = 100;

/** The ws-chat checklist, in the order `netlab check ws-chat` runs it: the join first. */
export const wsChatChecklist: LabChecklist = {
  lab: 'ws-chat',
  summary: "lesson 05's JSON: join, users, rooms, private, errors, unique names",
  serveCommand: SERVE,
  checks: [
    {
      title: 'answers a join with "joined", naming the user and the room',
      essential: true,
      async run(ctx) {
        const { tag } = fresh();
        const alice = await ChatProbe.open(ctx, SERVE, `alice-${tag}`);
        await join(ctx, alice, `red-${tag}`);
      },
    },
    {
      title: 'sends the room\'s users after a join ("users")',
      async run(ctx) {
        const { tag, room } = fresh();
        const [alice, bob] = await joined(ctx, room, `alice-${tag}`, `bob-${tag}`);
        const names = [alice.name, bob.name];
        const full = (r: Received) => r.json?.type === 'users' && Array.isArray(r.json.users) && names.every((name) => (r.json!.users as unknown[]).includes(name));
        if (await bob.waitFor(full, ctx.waitMs)) return;
        bob.send({ type: 'users' });
        if (await bob.waitFor(full, ctx.waitMs)) return 'in answer to {"type":"users"}';
        const hint = `after each join, send ${JSON.stringify({ type: 'users', room, users: names })}: everyone in the room, as a list of names (netlab also answers {"type":"users"} with it) (${LESSON.json}).`;
        const last = bob.received.findLast((r) => r.json?.type === 'users');
        if (last) fail(`${bob.name} got ${shown(last)}, which should list ${names.join(' and ')}.`, hint);
        fail(`${bob.name} got no {"type":"users"} message, neither after joining ${room} nor in answer to {"type":"users"}.`, hint);
      },
    },
    {
      title: 'delivers a message to the others in the room ("message", from, text)',
      async run(ctx) {
        const { tag, room } = fresh();
        const [alice, bob] = await joined(ctx, room, `alice-${tag}`, `bob-${tag}`);
        const text = `hello from ${alice.name}`;
        alice.send({ type: 'message', text });
        const got = await bob.waitFor((r) => mentions(r, text), ctx.waitMs);
        const hint = messageHint('message', room, alice.name, text, `send it to every connection in the room (${LESSON.json})`);
        if (!got) fail(`${bob.name}, in ${alice.name}'s room, got nothing within ${seconds(ctx.waitMs)} of ${alice.name}'s ${JSON.stringify({ type: 'message', text })}${closedNote(bob)}.`, hint);
        const problem = shapeProblem(got, 'message', alice.name, text);
        if (problem) fail(`${bob.name} got ${shown(got)}: ${problem}.`, hint);
      },
    },
    {
      title: 'sends the sender its own copy of each message',
      async run(ctx) {
        const { tag, room } = fresh();
        const [alice] = await joined(ctx, room, `alice-${tag}`);
        const text = `a copy for ${alice.name}`;
        alice.send({ type: 'message', text });
        const got = await alice.waitFor((r) => mentions(r, text), ctx.waitMs);
        const why = `send it to every connection in the room, the sender's too: its copy is its receipt, the proof that the server has the message (${LESSON.twoPeople})`;
        const hint = messageHint('message', room, alice.name, text, why);
        if (!got) fail(`${alice.name}, alone in ${room}, sent ${JSON.stringify({ type: 'message', text })} and got no copy of it within ${seconds(ctx.waitMs)}${closedNote(alice)}.`, hint);
        const problem = shapeProblem(got, 'message', alice.name, text);
        if (problem) fail(`${alice.name}'s copy is ${shown(got)}: ${problem}.`, hint);
      },
    },
    {
      title: 'keeps rooms apart: a message reaches only its own room',
      async run(ctx) {
        const { tag } = fresh();
        const [red, blue] = [`red-${tag}`, `blue-${tag}`];
        const [alice, carol] = await joined(ctx, red, `alice-${tag}`, `carol-${tag}`);
        const [bob] = await joined(ctx, blue, `bob-${tag}`);
        const text = `only for ${red}`;
        alice.send({ type: 'message', text });
        if (!(await carol.waitFor((r) => mentions(r, text), ctx.waitMs))) {
          fail(`${carol.name}, in ${red} with ${alice.name}, got nothing of the message ${alice.name} sent there, so rooms cannot be told apart.`, 'make the check "delivers a message to the others in the room" pass first.');
        }
        await settle(ctx, bob);
        const leaked = bob.received.find((r) => mentions(r, text));
        if (!leaked) return;
        fail(
          `${bob.name}, in ${blue}, got ${alice.name}'s message to ${red}: ${shown(leaked)}.`,
          `a message goes only to the connections in the sender's room: keep the connections of each room apart (a map of room → connections), and a connection in one room at a time (${LESSON.rooms}).`,
        );
      },
    },
    {
      title: 'delivers a private message to its recipient only ("private")',
      async run(ctx) {
        const { tag, room } = fresh();
        const [alice, bob, carol] = await joined(ctx, room, `alice-${tag}`, `bob-${tag}`, `carol-${tag}`);
        const text = `psst, ${bob.name}`;
        alice.send({ type: 'private', to: bob.name, text });
        const got = await bob.waitFor((r) => mentions(r, text), ctx.waitMs);
        const hint = messageHint('private', room, alice.name, text, `send it to the recipient's connections only ("to" and "time" may come too; netlab also sends the sender a copy) (${LESSON.json} and "One user, several connections")`);
        const sent = JSON.stringify({ type: 'private', to: bob.name, text });
        if (!got) fail(`${bob.name} got nothing within ${seconds(ctx.waitMs)} of ${alice.name}'s ${sent}${closedNote(bob)}.`, hint);
        const problem = shapeProblem(got, 'private', alice.name, text);
        if (problem) fail(`${bob.name} got ${shown(got)}: ${problem}.`, hint);
        await settle(ctx, carol);
        const leaked = carol.received.find((r) => mentions(r, text));
        if (leaked) fail(`${carol.name}, who is in the room but not the recipient, got it too: ${shown(leaked)}.`, hint);
      },
    },
    {
      title: 'refuses a name already taken with an "error"',
      async run(ctx) {
        const { tag, room } = fresh();
        const [alice] = await joined(ctx, room, `alice-${tag}`);
        const other = await ChatProbe.open(ctx, SERVE, alice.name);
        other.send({ type: 'join', name: alice.name, room });
        const answer = await other.waitFor((r) => r.json?.type === 'joined' || r.json?.type === 'error', ctx.waitMs);
        if (answer?.json?.type === 'error') return typeof answer.json.code === 'string' ? `"code":"${visible(answer.json.code)}"` : undefined;
        const hint = `names are unique: answer a join whose name is taken with {"type":"error","code":"name-taken","text":"…"} (netlab's code; any "error" passes), keep the connection open, and leave the name to its holder (${LESSON.oneUser}).`;
        const what = `a second connection joining as ${alice.name} (a name in use)`;
        if (answer) fail(`${what} got ${shown(answer)}: two users now share the name.`, hint);
        if (other.closed) fail(`${what} was closed, ${describeCloseCode(other.closed.code)}, without an "error" message.`, hint);
        fail(`${what} got no answer within ${seconds(ctx.waitMs)}.`, hint);
      },
    },
    {
      title: 'answers invalid JSON with an "error" and keeps the connection',
      run: (ctx) => answersWithError(ctx, 'not JSON {', 'a message that is not JSON', 'bad-json'),
    },
    {
      title: 'answers an unknown type with an "error" and keeps the connection',
      run: (ctx) => answersWithError(ctx, JSON.stringify({ type: 'shout', text: 'hi' }), 'a message of an unknown type', 'unknown-type'),
    },
  ],
};

/** A tag for this check's names and rooms, and its room. */
function fresh(): { tag: string; room: string } {
  const tag = randomBytes(2).toString('hex');
  return { tag, room: `red-${tag}` };
}

/** Opens one client per name and joins each to `room`, in order. */
async function joined<Names extends string[]>(ctx: CheckContext, room: string, ...names: Names): Promise<{ [K in keyof Names]: ChatProbe }> {
  const clients: ChatProbe[] = [];
  for (const name of names) {
    const client = await ChatProbe.open(ctx, SERVE, name);
    await join(ctx, client, room);
    clients.push(client);
  }
  return clients as { [K in keyof Names]: ChatProbe };
}

/** Sends a join and waits for its "joined"; fails with what came instead. */
async function join(ctx: CheckContext, client: ChatProbe, room: string): Promise<void> {
  const request = { type: 'join', name: client.name, room };
  client.send(request);
  const answer = await client.waitFor((r) => r.json?.type === 'joined' || r.json?.type === 'error', ctx.waitMs);
  const expected = JSON.stringify({ type: 'joined', name: client.name, room });
  const hint = `answer a join with ${expected} (netlab adds a "token", which is not required), then the room's users (${LESSON.json}).`;
  const sent = JSON.stringify(request);
  if (answer?.json?.type === 'error') fail(`the server refused ${sent} with ${shown(answer)}.`, `a join with a name and a room of letters, digits and "-" must be accepted. ${hint}`);
  if (!answer) {
    if (client.closed) fail(`the server closed the connection, ${describeCloseCode(client.closed.code)}, after ${sent}.`, hint);
    const other = client.received[0];
    fail(`no {"type":"joined"} answer to ${sent} within ${seconds(ctx.waitMs)}${other ? `; the server sent ${shown(other)}` : ''}.`, hint);
  }
  const wrong = (['name', 'room'] as const).filter((field) => answer.json![field] !== request[field]);
  if (wrong.length > 0) fail(`the answer to ${sent} is ${shown(answer)}, without ${wrong.map((f) => `"${f}":"${request[f]}"`).join(' and ')}.`, hint);
}

/** Waits until `client` has surely been sent whatever was sent before: its own next message is back (or a wait has passed). */
async function settle(ctx: CheckContext, client: ChatProbe): Promise<void> {
  const text = `sync ${client.name} ${randomBytes(2).toString('hex')}`;
  client.send({ type: 'message', text });
  await client.waitFor((r) => mentions(r, text), ctx.waitMs);
}

/** Sends something wrong; expects an "error", then the connection still carrying a message. */
async function answersWithError(ctx: CheckContext, bad: string, what: string, netlabCode: string): Promise<string | undefined> {
  const { tag, room } = fresh();
  const [alice, bob] = await joined(ctx, room, `alice-${tag}`, `bob-${tag}`);
  const since = alice.received.length;
  alice.send(bad);
  const error = await alice.waitFor((r) => r.json?.type === 'error', ctx.waitMs, since);
  const hint = `answer it with {"type":"error","code":"${netlabCode}","text":"…"} (netlab's code; any "error" passes) and keep the connection: one wrong message is one wrong message. Catch the parser's exception (JSON.parse in try/catch, json.JSONDecodeError in Python): one that escapes can end the connection or the server (${LESSON.checked}).`;
  if (!error) {
    if (alice.closed) fail(`the server closed the connection, ${describeCloseCode(alice.closed.code)}${alice.closed.reason ? ` "${visible(alice.closed.reason)}"` : ''}, after ${what}, "${visible(bad)}".`, hint);
    const other = alice.received[since];
    fail(`no {"type":"error"} answer to ${what}, "${visible(bad)}", within ${seconds(ctx.waitMs)}${other ? `; the server sent ${shown(other)}` : ''}.`, hint);
  }
  const text = `still here, ${alice.name}`;
  alice.send({ type: 'message', text });
  if (!(await bob.waitFor((r) => mentions(r, text), ctx.waitMs))) {
    fail(`after the error, ${alice.name}'s next message did not reach ${bob.name} within ${seconds(ctx.waitMs)}${closedNote(alice)}.`, hint);
  }
  return typeof error.json!.code === 'string' ? `"code":"${visible(error.json!.code)}"` : undefined;
}

/** Whether a received message carries `text`, whatever its shape. */
function mentions(r: Received, text: string): boolean {
  return r.json?.text === text || r.text.includes(text);
}

/** What is wrong with a chat line that carries the right text; undefined when it is right. */
function shapeProblem(r: Received, type: 'message' | 'private', from: string, text: string): string | undefined {
  if (!r.json) return r.binary ? "the lesson's messages are JSON in text messages" : 'plain text, not JSON';
  const wrong: string[] = [];
  if (r.json.type !== type) wrong.push(`"type":"${type}"`);
  if (r.json.from !== from) wrong.push(`"from":"${from}"`);
  if (r.json.text !== text) wrong.push(`"text":"${text}"`);
  return wrong.length ? `without ${wrong.join(', ')}` : undefined;
}

function messageHint(type: 'message' | 'private', room: string, from: string, text: string, why: string): string {
  const shape = JSON.stringify({ type, from, text });
  return `a ${type === 'message' ? `message in ${room}` : 'private message'} goes out as one text message of JSON, ${shape}${type === 'message' ? ' ("room" and "time" may come too)' : ''}; ${why}.`;
}

/** A received message quoted safely (JSON as it is, anything else in quotes), cut to SHOWN_CHARS. */
function shown(r: Received): string {
  const text = visible(r.text);
  const cut = text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
  return r.json ? cut : `${r.binary ? 'a binary message ' : ''}"${cut}"`;
}

/** ` (the connection closed: 1006 …)` when the client's connection is gone. */
function closedNote(client: ChatProbe): string {
  return client.closed ? ` (the connection closed: ${describeCloseCode(client.closed.code)})` : '';
}
