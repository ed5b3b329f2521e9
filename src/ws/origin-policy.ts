/**
 * Which pages may open a WebSocket to a netlab server (lesson 04, "Who may connect"). A browser
 * sends the Origin of the page that opens a WebSocket, and, unlike fetch(), it does not stop a
 * page from connecting anywhere: the server must check. Without the check, any web page a
 * student visits could talk to their local server ("cross-site WebSocket hijacking").
 *
 * The rule (ROBUSTNESS.md): the server's own page, and clients that send no Origin at all
 * (netlab's CLI, wscat, scripts: no browser, no page to protect), are accepted; every other
 * origin is refused with 403 unless --allow-origin names it. Pure.
 */

/** `*` in the allow list accepts every origin. */
export const ANY_ORIGIN = '*';

/**
 * Why a handshake with this Origin is refused, or undefined when it is accepted. `host` is the
 * Host header of the same request: the page's own origin is the one it was loaded from. The
 * reason goes to the client too, so it names the origin and no more.
 */
export function originProblem(origin: string | undefined, host: string | undefined, allowed: readonly string[]): string | undefined {
  if (origin === undefined) return undefined;
  if (allowed.includes(ANY_ORIGIN) || allowed.includes(origin)) return undefined;
  if (host !== undefined && isSameOrigin(origin, host)) return undefined;
  return `Origin ${origin} is not allowed`;
}

/** Was the page at `origin` served from `host` (the Host header), over http or https? */
function isSameOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}
