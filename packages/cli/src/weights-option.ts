import { ConfigError, type FrozenWeightFormat } from "@llamats/core";

/** The spellings --weights takes, to the format loading uses. */
const WEIGHT_NAMES: Record<string, FrozenWeightFormat> = {
  float32: "float32",
  f32: "float32",
  bf16: "bfloat16",
  bfloat16: "bfloat16",
  int8: "int8",
  q8_0: "int8",
  nf4: "nf4",
};

export const WEIGHTS_USAGE = `  --weights <format>           how the projection weights are held: float32 (default), bf16, int8 (llama.cpp's
                               Q8_0) or nf4 (QLoRA's NF4); packed as they load, unpacked inside the matmul kernels`;

/**
 * A weights format option (--weights, --quantize, --base-dtype), checked against the formats `allowed` (default all);
 * undefined when not given.
 */
export function parseWeightsOption(
  raw: unknown,
  flag: string,
  allowed: readonly string[] = Object.keys(WEIGHT_NAMES),
): FrozenWeightFormat | undefined {
  if (raw === undefined) return undefined;
  const format = typeof raw === "string" && allowed.includes(raw) ? WEIGHT_NAMES[raw] : undefined;
  if (!format)
    throw new ConfigError(`${flag} must be one of ${allowed.join(", ")}; got ${JSON.stringify(raw)}.`, {
      key: flag.replace(/^--/, ""),
    });
  return format;
}
