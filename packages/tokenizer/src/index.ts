export const PACKAGE_NAME = '@llamats/tokenizer';
