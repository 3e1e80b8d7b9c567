import type { LoraConfig } from "./lora-config.js";

/** PEFT's `get_pattern_key`: the first pattern key that matches the end of the module name (as a regex). */
export function patternKeyFor(patternKeys: readonly string[], moduleName: string): string | null {
  for (const key of patternKeys) {
    if (new RegExp(`^(?:.*\\.)?(?:${key})$`).test(moduleName)) return key;
  }
  return null;
}

/** The rank and alpha one module gets: `rank_pattern` / `alpha_pattern` entries win over `r` / `lora_alpha`. */
export function rankAndAlphaFor(
  config: Pick<LoraConfig, "r" | "lora_alpha" | "rank_pattern" | "alpha_pattern">,
  moduleName: string,
): { rank: number; alpha: number } {
  const rankKey = patternKeyFor(Object.keys(config.rank_pattern), moduleName);
  const alphaKey = patternKeyFor(Object.keys(config.alpha_pattern), moduleName);
  return {
    rank: rankKey === null ? config.r : config.rank_pattern[rankKey],
    alpha: alphaKey === null ? config.lora_alpha : config.alpha_pattern[alphaKey],
  };
}
