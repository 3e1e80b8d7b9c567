// Repos the Hub tests serve from the mock Hub.
import type { MockRepo } from "../testing/mock-hub.js";

export const WEIGHTS = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);

export const TINY: MockRepo = {
  id: "org/tiny",
  files: {
    "config.json": '{"hidden_size": 64}',
    "tokenizer.json": '{"model": {}}',
    "model.safetensors": WEIGHTS,
    "nested/readme.txt": "hello",
  },
};

export const GATED: MockRepo = { id: "meta/gated", gated: true, files: { "config.json": '{"gated": true}' } };

export const DATASET: MockRepo = { id: "org/data", type: "dataset", files: { "train.jsonl": '{"a": 1}\n' } };

export const CORRUPT: MockRepo = {
  id: "org/corrupt",
  files: { "model.safetensors": WEIGHTS.subarray(0, 1000), "config.json": "{}" },
  corrupt: ["model.safetensors", "config.json"],
};
