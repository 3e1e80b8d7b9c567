/** An error as the one line the CLI prints: the first line of its message. */
export function errorLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]?.trim() || (error instanceof Error ? error.name : "unknown error");
}
