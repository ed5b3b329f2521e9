/** Placeholder: the udp-echo checklist (being written). */
import type { LabChecklist } from './checklist.js';

export const udpEchoChecklist: LabChecklist = {
  lab: 'udp-echo',
  summary: 'being written',
  serveCommand: 'netlab udp-echo serve',
  checks: [],
};
