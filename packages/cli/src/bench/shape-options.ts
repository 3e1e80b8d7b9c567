// The model-shape options that `bench train` and `bench generate` share: --shape presets, then per-field overrides.
import { ConfigError } from "@llamats/core";

/** A LLaMA's shape as the benches build it (random weights). */
export interface ModelShape {
  dim: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  vocab: number;
}

/** llama2.c's stories15M and TinyLlama-1.1B (its config.json: 2048, 22 layers, 32 heads, 4 kv heads, ffn 5632). */
export const SHAPE_PRESETS = {
  stories15m: { dim: 288, layers: 6, heads: 6, kvHeads: 6, ffn: 768, vocab: 32000 },
  tinyllama: { dim: 2048, layers: 22, heads: 32, kvHeads: 4, ffn: 5632, vocab: 32000 },
} as const satisfies Record<string, ModelShape>;

export type ShapePresetName = keyof typeof SHAPE_PRESETS;

/** parseArgs option specs for the shape (all strings: parsed by `readModelShape`). */
export const SHAPE_OPTIONS = {
  shape: { type: "string" },
  dim: { type: "string" },
  layers: { type: "string" },
  heads: { type: "string" },
  "kv-heads": { type: "string" },
  ffn: { type: "string" },
  vocab: { type: "string" },
} as const;

export const SHAPE_USAGE = `  --shape <stories15m|tinyllama>   a preset shape (default stories15m: dim 288, 6 layers, 6 heads, ffn 768,
                     vocab 32000; tinyllama: dim 2048, 22 layers, 32 heads, 4 kv heads, ffn 5632, vocab 32000)
  --dim/--layers/--heads/--ffn/--vocab <n>   override one field of the shape
  --kv-heads <n>     key/value heads for grouped-query attention (default: the preset's, or --heads when given)`;

/** A whole number ≥ 1 from option `key`, else `fallback`; a ConfigError naming the option otherwise. */
export function intOption(values: Record<string, unknown>, key: string, fallback: number): number {
  const raw = values[key];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isInteger(n) || n < 1)
    throw new ConfigError(`--${key} must be a positive whole number; got ${JSON.stringify(raw)}.`, { key });
  return n;
}

/** The shape the options name: the preset (default stories15m), with each given field replacing the preset's. */
export function readModelShape(values: Record<string, unknown>): {
  preset: ShapePresetName;
  name: string;
  shape: ModelShape;
} {
  const preset = values.shape ?? "stories15m";
  if (typeof preset !== "string" || !Object.hasOwn(SHAPE_PRESETS, preset))
    throw new ConfigError(
      `--shape must be one of ${Object.keys(SHAPE_PRESETS).join(", ")}; got ${JSON.stringify(preset)}.`,
      { key: "shape" },
    );
  const presetName = preset as ShapePresetName;
  const base: ModelShape = SHAPE_PRESETS[presetName];
  const heads = intOption(values, "heads", base.heads);
  const shape: ModelShape = {
    dim: intOption(values, "dim", base.dim),
    layers: intOption(values, "layers", base.layers),
    heads,
    // A new head count without --kv-heads means plain multi-head attention, as before presets existed.
    kvHeads: intOption(values, "kv-heads", values.heads === undefined ? base.kvHeads : heads),
    ffn: intOption(values, "ffn", base.ffn),
    vocab: intOption(values, "vocab", base.vocab),
  };
  if (shape.dim % shape.heads !== 0 || shape.heads % shape.kvHeads !== 0)
    throw new ConfigError(
      `the shape needs --dim divisible by --heads and --heads by --kv-heads; got dim ${shape.dim}, heads ${shape.heads}, kv heads ${shape.kvHeads}.`,
      { key: "heads" },
    );
  const overridden = ["dim", "layers", "heads", "kv-heads", "ffn", "vocab"].some((k) => values[k] !== undefined);
  return { preset: presetName, name: overridden ? "custom" : presetName, shape };
}

/** "stories15M (dim 288, 6 layers, 6 heads, ffn 768, vocab 32000)", kv heads named when they differ from heads. */
export function describeShape(name: string, shape: ModelShape): string {
  const label = { stories15m: "stories15M", tinyllama: "TinyLlama-1.1B" }[name] ?? name;
  const kv = shape.kvHeads === shape.heads ? "" : `, ${shape.kvHeads} kv heads`;
  return `${label} (dim ${shape.dim}, ${shape.layers} layer${shape.layers === 1 ? "" : "s"}, ${shape.heads} heads${kv}, ffn ${shape.ffn}, vocab ${shape.vocab})`;
}
