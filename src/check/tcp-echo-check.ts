/** Placeholder: the tcp-echo checklist (being written). */
import type { LabChecklist } from './checklist.js';

export const tcpEchoChecklist: LabChecklist = {
  lab: 'tcp-echo',
  summary: 'being written',
  serveCommand: 'netlab tcp-echo serve',
  checks: [],
};
