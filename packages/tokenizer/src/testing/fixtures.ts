// Test-only access to the golden fixtures copied into test-fixtures/.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "test-fixtures");

export interface SentencePieceCase {
  group: string;
  text: string;
  ids: number[];
  pieces: string[];
  decoded: string;
}

export interface TokenizersCase {
  group: string;
  text: string;
  ids: number[];
  tokens: string[];
  decoded: string;
  ids_with_specials?: number[];
}

export function fixturePath(name: string, file: string): string {
  return join(FIXTURES_DIR, name, file);
}

export function readFixtureJson<T>(name: string, file: string): T {
  return JSON.parse(readFileSync(fixturePath(name, file), "utf8")) as T;
}

export function readFixtureBytes(name: string, file: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(name, file)));
}
