import { notYetImplemented } from '../command.js';

export const command = notYetImplemented('serve', 'Serve a model over an OpenAI-compatible HTTP API with a web chat page');
