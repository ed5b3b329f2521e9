/**
 * The default address of every lab (DESIGN.md): each lab has its own port so that labs can
 * run side by side, and servers listen on loopback unless told otherwise.
 *
 * The lesson runner maps these numbers to free ports, so a lesson can show the real defaults.
 */

/** Loopback: reachable only from this machine until an instructor asks for more. */
export const DEFAULT_HOST = '127.0.0.1';

export const DEFAULT_PORTS = {
  'tcp-echo': 12345,
  'tcp-chat': 12346,
  'udp-echo': 12347,
  'udp-chat': 12348,
  'ws-echo': 8000,
  'ws-chat': 8001,
  'push-pull': 8002,
} as const;

export type LabName = keyof typeof DEFAULT_PORTS;
