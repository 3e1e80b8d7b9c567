import { notYetImplemented } from '../command.js';

export const command = notYetImplemented('data', 'Instruction data: generate, validate, stats, analyze, cluster, format');
