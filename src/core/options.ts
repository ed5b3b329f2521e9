/**
 * Parsers for the options every lab shares. Each returns the value or throws a UsageError
 * whose message names the accepted range, so `--port 70000` says what would have worked.
 *
 * Strictness is the point: `Number("8080x")` is NaN but `parseInt("8080x")` is 8080, and a
 * port of "abc" handed to `server.listen()` becomes a Unix socket named abc. Only plain
 * decimal digits are accepted.
 */
import { UsageError } from './errors.js';
import { DEFAULT_PORTS, type LabName } from './ports.js';

const DIGITS = /^[0-9]+$/;

/** An integer in [min, max], written as plain decimal digits (a leading - only if min < 0). */
export function parseInteger(name: string, value: string, min: number, max: number): number {
  const text = value.trim();
  const negative = text.startsWith('-') && min < 0;
  const digits = negative ? text.slice(1) : text;
  const n = DIGITS.test(digits) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not "${value}".`);
  }
  return n;
}

/** --port: 0 to 65535; 0 asks the operating system for a free port. */
export function parsePort(value: string): number {
  return parseInteger('--port', value, 0, 65535);
}

/** --host: an IP address or a host name; the resolver and bind() judge the rest. */
export function parseHost(value: string): string {
  const host = value.trim();
  if (host === '' || /[\s/]/.test(host)) {
    throw new UsageError(`--host must be an IP address or a host name such as 127.0.0.1, not "${value}".`);
  }
  // Accept the bracketed form people copy from URLs: [::1] → ::1.
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * The default port of a lab. The lesson runner sets NETLAB_PORT_MAP (a JSON object from
 * default port to free port) so lessons can show `netlab tcp-echo serve` with its real
 * default while tests run side by side; nobody else needs it.
 */
export function defaultPort(lab: LabName, env: NodeJS.ProcessEnv = process.env): number {
  const port = DEFAULT_PORTS[lab];
  const map = env.NETLAB_PORT_MAP;
  if (!map) return port;
  try {
    const mapped = (JSON.parse(map) as Record<string, unknown>)[String(port)];
    return typeof mapped === 'number' && Number.isInteger(mapped) ? mapped : port;
  } catch {
    return port;
  }
}
