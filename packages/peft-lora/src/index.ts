export const PACKAGE_NAME = '@llamats/peft-lora';
