/** Where the server writes what an operator should see; the CLI passes one that writes to stderr. */
export interface ServerLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: ServerLogger = { info: () => {}, warn: () => {}, error: () => {} };
