export const PACKAGE_NAME = '@llamats/instruct-data';
