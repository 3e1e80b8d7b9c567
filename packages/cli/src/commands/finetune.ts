import { notYetImplemented } from '../command.js';

export const command = notYetImplemented('finetune', 'Fine-tune a model with LoRA (or fully) on instruction data');
