import { readFile } from "node:fs/promises";
import { FormatError, shuffled } from "@llamats/core";

/** One demo instruction: an Alpaca record plus the family it was generated from. */
export interface DemoItem {
  instruction: string;
  input: string;
  output: string;
  family: string;
}

/** Reads an embedded Alpaca JSON file of demo items. */
export async function readDemoItems(file: string): Promise<DemoItem[]> {
  const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
  if (
    !Array.isArray(parsed) ||
    !parsed.every(
      (r: Partial<Record<keyof DemoItem, unknown>> | null) =>
        typeof r?.instruction === "string" && typeof r?.output === "string" && typeof r?.family === "string",
    )
  ) {
    throw new FormatError(`${file}: expected an Alpaca JSON array of {instruction, input, output, family}.`, { file });
  }
  return parsed as DemoItem[];
}

/** The first `perFamily` items of every family, in file order (a small, stable sample for --quick). */
export function samplePerFamily(items: readonly DemoItem[], perFamily: number): DemoItem[] {
  const taken = new Map<string, number>();
  return items.filter((item) => {
    const count = taken.get(item.family) ?? 0;
    taken.set(item.family, count + 1);
    return count < perFamily;
  });
}

/** Training items reordered so every family comes round in turn (families have different sizes). */
export function interleaveFamilies(items: readonly DemoItem[], random: () => number): DemoItem[] {
  const byFamily = new Map<string, DemoItem[]>();
  for (const item of items) byFamily.set(item.family, [...(byFamily.get(item.family) ?? []), item]);
  const queues = [...byFamily.values()].map((group) => shuffled(group, random));
  const longest = Math.max(...queues.map((q) => q.length));
  const out: DemoItem[] = [];
  // Smaller families repeat (cycled) so each family gets an equal share of the steps.
  for (let i = 0; i < longest; i++) for (const queue of queues) out.push(queue[i % queue.length]);
  return out;
}
