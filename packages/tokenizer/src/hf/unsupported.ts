import { ConfigError } from "@llamats/core";
import type { ComponentContext } from "./json-fields.js";

/** A tokenizer.json component we cannot run exactly: refusing beats encoding differently. */
export function unsupportedComponent(ctx: ComponentContext, type: unknown, supported: string[]): never {
  throw new ConfigError(
    `${ctx.file}: ${ctx.path} has type ${JSON.stringify(type)}, which llamats does not support (supported: ${supported.join(", ")}); refusing to load rather than encode differently from the tokenizers library`,
    { key: ctx.path },
  );
}
