export const PACKAGE_NAME = '@llamats/server';
