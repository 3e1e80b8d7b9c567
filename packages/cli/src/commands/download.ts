import { notYetImplemented } from '../command.js';

export const command = notYetImplemented('download', 'Download a model repository from the Hugging Face Hub into the shared cache');
