/** Placeholder: the ws-chat checklist (being written). */
import type { LabChecklist } from './checklist.js';

export const wsChatChecklist: LabChecklist = {
  lab: 'ws-chat',
  summary: 'being written',
  serveCommand: 'netlab ws-chat serve',
  checks: [],
};
