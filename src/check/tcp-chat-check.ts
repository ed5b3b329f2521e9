/** Placeholder: the tcp-chat checklist (being written). */
import type { LabChecklist } from './checklist.js';

export const tcpChatChecklist: LabChecklist = {
  lab: 'tcp-chat',
  summary: 'being written',
  serveCommand: 'netlab tcp-chat serve',
  checks: [],
};
