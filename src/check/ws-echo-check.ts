/** Placeholder: the ws-echo checklist (being written). */
import type { LabChecklist } from './checklist.js';

export const wsEchoChecklist: LabChecklist = {
  lab: 'ws-echo',
  summary: 'being written',
  serveCommand: 'netlab ws-echo serve',
  checks: [],
};
