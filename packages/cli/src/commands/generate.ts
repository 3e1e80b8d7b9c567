import { notYetImplemented } from '../command.js';

export const command = notYetImplemented('generate', 'Generate text from a prompt with a LLaMA-family model');
