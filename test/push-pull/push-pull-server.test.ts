/**
 * The push-pull server (src/push-pull/push-pull-server.ts) on loopback: every transport delivers
 * every event in order; a long poll returns on an event and on its timeout; SSE resumes from
 * Last-Event-ID with nothing lost; refusals; and close() finishing what is open.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EventFeed, type FeedEvent } from '../../src/push-pull/event-feed.js';
import { startPushPullServer, type PushPullServer, type PushPullServerOptions } from '../../src/push-pull/push-pull-server.js';
import { SseReader, type SseEvent } from '../../src/push-pull/sse.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: Partial<PushPullServerOptions> = {}): Promise<{ s: PushPullServer; feed: EventFeed }> {
  const feed = options.feed ?? new EventFeed();
  const s = await startPushPullServer({ host: '127.0.0.1', port: 0, feed, ...options });
  cleanups.push(() => s.close());
  return { s, feed };
}

interface PollAnswer {
  latest: number;
  missed: number;
  events: FeedEvent[];
}

async function poll(s: PushPullServer, path: string): Promise<PollAnswer> {
  const res = await fetch(`${s.url}${path}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as PollAnswer;
}

/** Resolves once `check()` is true, polling every few ms (the test's timeout is the hang guard). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 2));
}

/** An SSE stream opened with http.get, read with SseReader. */
async function sse(s: PushPullServer, headers: Record<string, string> = {}): Promise<{ events: SseEvent[]; res: http.IncomingMessage; reader: SseReader; close: () => void }> {
  const reader = new SseReader();
  const events: SseEvent[] = [];
  const req = http.get(`${s.url}/events`, { headers });
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => req.once('response', resolve).once('error', reject));
  res.on('data', (chunk: Buffer) => events.push(...reader.push(chunk)));
  const close = () => req.destroy();
  cleanups.push(close);
  return { events, res, reader, close };
}

async function ws(s: PushPullServer, query = ''): Promise<{ messages: unknown[]; socket: WebSocket }> {
  const socket = new WebSocket(`ws://127.0.0.1:${s.port}/ws${query}`);
  const messages: unknown[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  cleanups.push(() => socket.terminate());
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return { messages, socket };
}

describe('short polling, GET /poll', () => {
  it('answers at once with the events after the id the client gives, and the latest id', async () => {
    const { s, feed } = await server();
    expect(await poll(s, '/poll')).toEqual({ latest: 0, missed: 0, events: [] });
    for (const text of ['a', 'b', 'c']) feed.publish(text, 'tick');
    expect((await poll(s, '/poll?after=0')).events.map((e) => e.text)).toEqual(['a', 'b', 'c']);
    const answer = await poll(s, '/poll?after=2');
    expect(answer).toMatchObject({ latest: 3, missed: 0, events: [{ id: 3, source: 'tick', text: 'c' }] });
  });

  it('tells a client that was away too long how many events it missed', async () => {
    const { s, feed } = await server({ feed: new EventFeed(Date.now, 2) });
    for (let i = 0; i < 5; i++) feed.publish(`e${i}`, 'tick');
    expect(await poll(s, '/poll?after=1')).toMatchObject({ latest: 5, missed: 2, events: [{ id: 4 }, { id: 5 }] });
  });
});

describe('long polling, GET /long-poll', () => {
  it('answers at once when there is news already', async () => {
    const { s, feed } = await server();
    feed.publish('a', 'tick');
    expect((await poll(s, '/long-poll?after=0')).events.map((e) => e.id)).toEqual([1]);
  });

  it('holds the request until an event comes, then answers with it', async () => {
    const { s, feed } = await server();
    feed.publish('old', 'tick');
    const answer = poll(s, '/long-poll?after=1');
    await until(() => feed.subscriberCount === 1);
    feed.publish('new', 'instructor');
    expect(await answer).toMatchObject({ latest: 2, events: [{ id: 2, source: 'instructor', text: 'new' }] });
    expect(feed.subscriberCount).toBe(0);
  });

  it('answers with no events when its timeout passes first', async () => {
    const { s, feed } = await server({ longPollTimeoutMs: 30 });
    expect(await poll(s, '/long-poll?after=0')).toEqual({ latest: 0, missed: 0, events: [] });
    expect(feed.subscriberCount).toBe(0);
  });

  it('forgets a long poll whose client gave up', async () => {
    const { s, feed } = await server();
    const controller = new AbortController();
    const answer = fetch(`${s.url}/long-poll`, { signal: controller.signal }).catch(() => 'aborted');
    await until(() => feed.subscriberCount === 1);
    controller.abort();
    expect(await answer).toBe('aborted');
    await until(() => feed.subscriberCount === 0);
  });
});

describe('Server-Sent Events, GET /events', () => {
  it('sends a retry hint, then each event with its id and source as it is published', async () => {
    const { s, feed } = await server();
    const stream = await sse(s);
    expect(stream.res.headers['content-type']).toMatch(/^text\/event-stream/);
    await until(() => feed.subscriberCount === 1);
    feed.publish('a', 'tick');
    feed.publish('b', 'instructor');
    await until(() => stream.events.length === 2);
    expect(stream.events.map((e) => [e.type, e.lastEventId, JSON.parse(e.data).text])).toEqual([
      ['tick', '1', 'a'],
      ['instructor', '2', 'b'],
    ]);
    expect(stream.reader.retryMs).toBe(2000);
  });

  it('resumes after Last-Event-ID with nothing lost and nothing twice', async () => {
    const { s, feed } = await server();
    const first = await sse(s);
    await until(() => feed.subscriberCount === 1);
    feed.publish('1', 'tick');
    feed.publish('2', 'tick');
    await until(() => first.events.length === 2);
    first.close();
    await until(() => feed.subscriberCount === 0);
    feed.publish('3', 'tick'); // while the client is away
    const again = await sse(s, { 'Last-Event-ID': first.events.at(-1)!.lastEventId });
    await until(() => feed.subscriberCount === 1);
    feed.publish('4', 'tick');
    await until(() => again.events.length === 2);
    expect(again.events.map((e) => e.lastEventId)).toEqual(['3', '4']);
  });

  it('says how many events a reconnecting client missed when they are no longer kept', async () => {
    const { s, feed } = await server({ feed: new EventFeed(Date.now, 2) });
    for (let i = 0; i < 5; i++) feed.publish(`e${i}`, 'tick');
    const stream = await sse(s, { 'Last-Event-ID': '1' });
    await until(() => stream.events.length === 3);
    expect(stream.events[0]).toMatchObject({ type: 'missed', data: '{"missed":2}' });
    expect(stream.events.slice(1).map((e) => e.lastEventId)).toEqual(['4', '5']);
  });
});

describe('WebSocket, /ws', () => {
  it('sends what came after ?after=, then each event as a JSON message', async () => {
    const { s, feed } = await server();
    feed.publish('a', 'tick');
    feed.publish('b', 'tick');
    const client = await ws(s, '?after=1');
    await until(() => feed.subscriberCount === 1);
    feed.publish('c', 'instructor');
    await until(() => client.messages.length === 2);
    expect(client.messages).toMatchObject([
      { id: 2, text: 'b', source: 'tick' },
      { id: 3, text: 'c', source: 'instructor' },
    ]);
  });

  it('refuses a wrong path (404) and a page from another origin (403)', async () => {
    const { s } = await server();
    for (const [url, origin, status] of [
      [`ws://127.0.0.1:${s.port}/nope`, undefined, 404],
      [`ws://127.0.0.1:${s.port}/ws`, 'http://evil.example', 403],
    ] as const) {
      const socket = new WebSocket(url, { origin });
      cleanups.push(() => socket.terminate());
      const res = await new Promise<http.IncomingMessage>((resolve) => socket.once('unexpected-response', (_req, r) => resolve(r)));
      socket.on('error', () => {});
      expect(res.statusCode).toBe(status);
    }
  });
});

describe('all four at once', () => {
  it('delivers every event to every transport, in order', async () => {
    const { s, feed } = await server();
    const stream = await sse(s);
    const client = await ws(s);
    await until(() => feed.subscriberCount === 2);
    const longPolled: number[] = [];
    const polled: number[] = [];
    const total = 30;
    // The pulling clients, each asking after the last id it saw, until they have everything.
    const longPoller = (async () => {
      while (longPolled.length < total) longPolled.push(...(await poll(s, `/long-poll?after=${longPolled.at(-1) ?? 0}`)).events.map((e) => e.id));
    })();
    const poller = (async () => {
      while (polled.length < total) {
        polled.push(...(await poll(s, `/poll?after=${polled.at(-1) ?? 0}`)).events.map((e) => e.id));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    for (let i = 1; i <= total; i++) {
      feed.publish(`event ${i}`, 'tick');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all([longPoller, poller, until(() => stream.events.length === total && client.messages.length === total)]);
    const ids = Array.from({ length: total }, (_, i) => i + 1);
    expect(longPolled).toEqual(ids);
    expect(polled).toEqual(ids);
    expect(stream.events.map((e) => Number(e.lastEventId))).toEqual(ids);
    expect(client.messages.map((m) => (m as FeedEvent).id)).toEqual(ids);
  });
});

describe('refusals and closing', () => {
  // Caught a bug: a stream pipelined behind another never began, so it never closed, and kept
  // its subscription and its place among the streams after the connection was gone.
  it('refuses a held request pipelined behind a stream, and forgets the stream when its connection goes', async () => {
    const { s, feed } = await server();
    const refused = new Promise((resolve) => s.once('refused', (_remote, status) => resolve(status)));
    const socket = net.connect(s.port, '127.0.0.1');
    cleanups.push(() => socket.destroy());
    socket.on('error', () => {});
    const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    socket.write(get('/events') + get('/events') + get('/long-poll'));
    expect(await refused).toBe(400);
    await until(() => feed.subscriberCount === 1);
    socket.destroy();
    await until(() => feed.subscriberCount === 0);
    // Its place among the streams is free again: a new stream is served.
    const stream = await sse(s);
    expect(stream.res.statusCode).toBe(200);
  });

  it('answers 404 for an unknown path and 405 for another method on a transport', async () => {
    const { s } = await server();
    const notFound = await fetch(`${s.url}/nowhere`);
    expect(notFound.status).toBe(404);
    const post = await fetch(`${s.url}/poll`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('answers held long polls, ends streams and closes WebSockets with 1001 when it stops', async () => {
    const { s, feed } = await server();
    const held = poll(s, '/long-poll');
    const stream = await sse(s);
    const client = await ws(s);
    await until(() => feed.subscriberCount === 3);
    const streamEnded = new Promise((resolve) => stream.res.once('end', resolve));
    const wsClosed = new Promise<number>((resolve) => client.socket.once('close', resolve));
    await s.close();
    expect((await held).events).toEqual([]);
    await streamEnded;
    expect(await wsClosed).toBe(1001);
    expect(feed.subscriberCount).toBe(0);
  });
});
