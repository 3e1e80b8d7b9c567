import { notYetImplemented } from '../command.js';

export const command = notYetImplemented('tokenize', 'Tokenize text with a tokenizer.model, tokenizer.json, model directory or Hub repo');
