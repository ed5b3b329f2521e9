/**
 * The plain HTTP side of a WebSocket lab's server (lesson 04, "The page in a browser"): the browser page,
 * and an answer to every other request. A WebSocket server is an HTTP server first; only a
 * request that asks to upgrade becomes a WebSocket (ws-listener.ts).
 *
 *   GET /            the page (index.html of the lab's folder in pages/)
 *   GET /echo.js …   the page's other files, by their exact names
 *   GET /ws          426 Upgrade Required: this path speaks WebSocket, not HTTP
 *   anything else    404 (or 400 for a path that is not even valid, 405 for POST and friends)
 *
 * The pages are read once, at start, into a table of exact paths: a request can only ever get
 * one of those files, so `/../`, `%2e%2e` or `%00` find nothing (ROBUSTNESS.md). (The page names
 * its icon, favicon.svg, so the browser does not ask for a /favicon.ico.) Every page is
 * served with a Content-Security-Policy that allows only its own scripts and styles, and
 * WebSocket connections to the server that served it.
 */
import { readFile, readdir } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the labs' pages live: pages/<lab>/ at the top of the package. */
export const PAGES_ROOT = fileURLToPath(new URL('../../pages/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface Page {
  contentType: string;
  body: Buffer;
}

/** A lab's pages by request path; `/` is index.html. */
export type PageTable = ReadonlyMap<string, Page>;

/**
 * Reads every .html, .js, .css and .svg file of pages/<lab>/ once. In each, `{{name}}` is replaced by
 * `values[name]` (HTML-escaped), so a page can know, say, the WebSocket path it must use.
 */
export async function loadPages(lab: string, values: Record<string, string> = {}): Promise<PageTable> {
  const folder = path.join(PAGES_ROOT, lab);
  const table = new Map<string, Page>();
  for (const name of await readdir(folder)) {
    const contentType = CONTENT_TYPES[path.extname(name)];
    if (!contentType || !/^[a-z0-9][a-z0-9.-]*$/.test(name)) continue;
    const text = (await readFile(path.join(folder, name), 'utf8')).replace(/\{\{(\w+)\}\}/g, (whole, key: string) =>
      key in values ? escapeHtml(values[key]!) : whole,
    );
    table.set(name === 'index.html' ? '/' : `/${name}`, { contentType, body: Buffer.from(text) });
  }
  return table;
}

/** What the server answered to one plain HTTP request, for the log. */
export interface HttpAnswer {
  method: string;
  /** The request target as sent (made visible by the log). */
  target: string;
  status: number;
}

/** Answers a request that is not a WebSocket upgrade. */
export function answerHttp(req: http.IncomingMessage, res: http.ServerResponse, pages: PageTable, wsPath: string): HttpAnswer {
  const method = req.method ?? 'GET';
  const target = req.url ?? '';
  const reply = (status: number, headers: Record<string, string>, body: string | Buffer): HttpAnswer => {
    res.writeHead(status, { 'Content-Length': String(Buffer.byteLength(body)), 'X-Content-Type-Options': 'nosniff', ...headers });
    res.end(method === 'HEAD' ? undefined : body);
    return { method, target, status };
  };
  const text = (status: number, message: string, headers: Record<string, string> = {}) =>
    reply(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, `${message}\n`);

  const pathname = requestPath(target);
  if (pathname === undefined) return text(400, 'bad request: the path is not a valid URL path');
  if (pathname === wsPath) {
    // RFC 9110, section 15.5.22: a 426 response "MUST send an Upgrade header field".
    return text(426, `${wsPath} speaks WebSocket, not plain HTTP: connect with a WebSocket client`, { Upgrade: 'websocket', Connection: 'Upgrade, close' });
  }
  if (method !== 'GET' && method !== 'HEAD') return text(405, 'only GET and HEAD are served here', { Allow: 'GET, HEAD' });
  const page = pages.get(pathname);
  if (!page) return text(404, 'not found');
  return reply(200, { 'Content-Type': page.contentType, 'Cache-Control': 'no-store', ...securityHeaders(req.headers.host) }, page.body);
}

/** The path of a request target without its query, decoded; undefined if it is not one. */
export function requestPath(target: string): string | undefined {
  if (!target.startsWith('/')) return undefined;
  const raw = target.split('?', 1)[0]!;
  try {
    const decoded = decodeURIComponent(raw);
    return decoded.includes('\0') ? undefined : decoded;
  } catch {
    return undefined;
  }
}

/**
 * The page may run only its own scripts and styles and open WebSockets only to the host that
 * served it. The Host header is the client's to write, so it is used only if it is a plain
 * host[:port]; a Node header with a line break in it would throw.
 */
function securityHeaders(host: string | undefined): Record<string, string> {
  const ws = host && /^[A-Za-z0-9.:[\]-]{1,300}$/.test(host) ? ` ws://${host} wss://${host}` : '';
  return {
    'Content-Security-Policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'${ws}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'Referrer-Policy': 'no-referrer',
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
