export const PACKAGE_NAME = '@llamats/trainer';
