import { notYetImplemented } from '../command.js';

export const command = notYetImplemented('chat', 'Chat with a model (optionally with a LoRA adapter) in the terminal');
