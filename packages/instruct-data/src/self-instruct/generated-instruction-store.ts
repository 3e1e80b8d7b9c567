import { mkdir, open, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFileAtomic } from "@llamats/core";
import type { AlpacaRecord } from "../dataset/records.js";

/** A kept machine-generated instruction, in Stanford Alpaca's regen.json shape. */
export interface GeneratedInstruction extends AlpacaRecord {
  /** The closest instructions (seeds or earlier kept ones) and their ROUGE-L F-measure, best first. */
  most_similar_instructions: Record<string, number>;
  avg_similarity_score: number;
}

function isGenerated(value: unknown): value is GeneratedInstruction {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.instruction === "string" && typeof v.output === "string";
}

/**
 * The output file of a generation run, append-only: `.jsonl` gets one line per kept instruction, flushed to
 * disk after each batch; `.json` (a JSON array, like regen.json) is rewritten atomically. Either way a crash
 * never loses what was already written, and a rerun resumes from it.
 */
export class GeneratedInstructionStore {
  private constructor(
    readonly path: string,
    readonly records: GeneratedInstruction[],
    private needsNewline: boolean,
  ) {}

  private get isJsonArray(): boolean {
    return /\.json$/i.test(this.path);
  }

  /** Opens (or prepares to create) the file and reads the instructions already in it. */
  static async open(path: string): Promise<{ store: GeneratedInstructionStore; unreadable: number }> {
    const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return "";
      throw error;
    });
    const records: GeneratedInstruction[] = [];
    let unreadable = 0;
    if (/\.json$/i.test(path)) {
      if (text.trim() !== "") {
        const parsed: unknown = JSON.parse(text);
        for (const item of Array.isArray(parsed) ? parsed : []) {
          if (isGenerated(item)) records.push(item);
          else unreadable++;
        }
      }
      return { store: new GeneratedInstructionStore(path, records, false), unreadable };
    }
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        const value: unknown = JSON.parse(line);
        if (isGenerated(value)) records.push(value);
        else unreadable++;
      } catch {
        // A line cut by a crash: left in place, skipped.
        unreadable++;
      }
    }
    return { store: new GeneratedInstructionStore(path, records, text !== "" && !text.endsWith("\n")), unreadable };
  }

  /** Adds instructions and makes them durable before returning. */
  async append(items: readonly GeneratedInstruction[]): Promise<void> {
    if (items.length === 0) return;
    this.records.push(...items);
    if (this.isJsonArray) {
      await writeFileAtomic(this.path, `${JSON.stringify(this.records, null, 2)}\n`);
      return;
    }
    const lines = (this.needsNewline ? "\n" : "") + items.map((item) => `${JSON.stringify(item)}\n`).join("");
    await mkdir(dirname(this.path), { recursive: true });
    const handle = await open(this.path, "a");
    try {
      await handle.write(lines);
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.needsNewline = false;
  }
}
