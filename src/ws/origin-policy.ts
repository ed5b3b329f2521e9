/**
 * Which pages may open a WebSocket to a netlab server (lesson 04, "Refused handshakes"). A browser
 * sends the Origin of the page that opens a WebSocket, and, unlike fetch(), it does not stop a
 * page from connecting anywhere: the server must check. Without the check, any web page a
 * student visits could talk to their local server ("cross-site WebSocket hijacking").
 *
 * The rule (ROBUSTNESS.md): the server's own page, and clients that send no Origin at all
 * (netlab's CLI, wscat, scripts: no browser, no page to protect), are accepted; every other
 * origin is refused with 403 unless --allow-origin names it. Pure.
 */
import net from 'node:net';

/** `*` in the allow list accepts every origin. */
export const ANY_ORIGIN = '*';

/**
 * Why a handshake with this Origin is refused, or undefined when it is accepted. `host` is the
 * Host header of the same request: the page's own origin is the one it was loaded from. The
 * reason goes to the client too, so it names the origin and no more.
 *
 * The Host header is the client's to write, so "the page's own origin" counts only when Host
 * names the server by an IP address or as localhost. A page on a name the attacker controls
 * could otherwise point that name at this machine (DNS rebinding) and arrive with a matching
 * Host and Origin. A server reached by name takes that name's origin with --allow-origin.
 */
export function originProblem(origin: string | undefined, host: string | undefined, allowed: readonly string[]): string | undefined {
  if (origin === undefined) return undefined;
  if (allowed.includes(ANY_ORIGIN) || allowed.includes(origin)) return undefined;
  if (host !== undefined && isOwnPage(origin, host)) return undefined;
  return `Origin ${origin} is not allowed`;
}

/** Was the page at `origin` served by this server, as `host` (the Host header) names it? */
function isOwnPage(origin: string, host: string): boolean {
  try {
    const page = new URL(origin);
    const server = new URL(`http://${host}`);
    // The server serves its page over http only; https would be some other server's page.
    return page.protocol === 'http:' && page.host === server.host && isAddressOrLocalhost(server.hostname);
  } catch {
    return false;
  }
}

function isAddressOrLocalhost(hostname: string): boolean {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return net.isIP(bare) !== 0 || bare === 'localhost' || bare.endsWith('.localhost');
}
