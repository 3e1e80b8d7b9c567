import { notYetImplemented } from '../command.js';

export const command = notYetImplemented('demo', 'Run the embedded end-to-end demo (offline, CPU)');
