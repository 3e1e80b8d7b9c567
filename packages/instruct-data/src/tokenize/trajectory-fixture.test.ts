import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadTokenizer } from "@llamats/tokenizer";
import { describe, expect, it } from "vitest";
import { loadInstructionDataset } from "../dataset/load-instruction-dataset.js";
import { getTemplate } from "../templates/get-template.js";
import { tokenizeForTraining } from "./tokenize-for-training.js";

const FIXTURES = new URL("../../test-fixtures/", import.meta.url);
const trajectory = JSON.parse(readFileSync(new URL("lora-trajectory/trajectory.json", FIXTURES), "utf8")) as {
  spec: { seed_tasks: [number, number]; cutoff_len: number; train_on_inputs: boolean };
  examples: { record: { instruction: string; input: string; output: string }; input_ids: number[]; labels: number[] }[];
};

describe("lora-trajectory fixture (seed tasks 0–31, alpaca_legacy, cutoff 128, segmented)", () => {
  it("reproduces every tokenized example exactly", async () => {
    const tokenizer = await loadTokenizer(fileURLToPath(new URL("llama1-tiny/tokenizer.model", FIXTURES)));
    const { records } = await loadInstructionDataset({
      path: fileURLToPath(new URL("alpaca/seed_tasks.jsonl", FIXTURES)),
    });
    const [from, to] = trajectory.spec.seed_tasks;
    const chosen = records.slice(from, to);
    expect(chosen).toEqual(trajectory.examples.map((e) => e.record));
    const template = getTemplate("alpaca_legacy");
    chosen.forEach((record, i) => {
      const example = tokenizeForTraining(record, {
        tokenizer,
        template,
        cutoffLen: trajectory.spec.cutoff_len,
        trainOnInputs: trajectory.spec.train_on_inputs,
        tokenization: "segmented",
      });
      expect(example.input_ids, `example ${i} input_ids`).toEqual(trajectory.examples[i]?.input_ids);
      expect(example.labels, `example ${i} labels`).toEqual(trajectory.examples[i]?.labels);
    });
  });
});
