import { notYetImplemented } from '../command.js';

export const command = notYetImplemented('merge', 'Merge a LoRA adapter into its base model and save a plain model');
