import { notYetImplemented } from '../command.js';

export const command = notYetImplemented('env', 'Print versions, the tensor backend chosen and why, and GPU adapter info');
