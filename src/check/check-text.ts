/**
 * Small pieces of text every checklist uses: the random tag a check puts in what it sends, so
 * it can tell its own bytes, lines and datagrams from anything else a server sends, and sizes
 * as a limit is worded ("1 MiB").
 *
 * Leaves out: quoting what a server sent, which each lab does its own way (bytes, lines, JSON).
 */
import { randomBytes } from 'node:crypto';
import { bytes } from '../core/text-view.js';

/** Eight hex digits, fresh on every call: `3fa9c01e`. */
export function token(): string {
  return randomBytes(4).toString('hex');
}

/** `1 MiB`, `64 KiB` for a whole number of them, else `1,000 bytes`: a limit as a sentence says it. */
export function sizeInUnits(n: number): string {
  if (n >= MIB && n % MIB === 0) return `${n / MIB} MiB`;
  if (n >= KIB && n % KIB === 0) return `${n / KIB} KiB`;
  return bytes(n);
}

const KIB = 1024;
const MIB = 1024 * KIB;
