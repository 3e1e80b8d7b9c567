import { notYetImplemented } from '../command.js';

export const command = notYetImplemented('bench', 'Benchmarks: tokenizer, generate, train, dedup, serve');
