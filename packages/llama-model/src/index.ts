export const PACKAGE_NAME = '@llamats/llama-model';
