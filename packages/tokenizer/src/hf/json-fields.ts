// Typed access to tokenizer.json's loosely typed objects, with errors that name the component.
import { FormatError } from "@llamats/core";

export type JsonObject = Record<string, unknown>;

export interface ComponentContext {
  /** The file being loaded, for errors. */
  file: string;
  /** Dotted path of the component inside the file, e.g. `pre_tokenizer.pretokenizers[1]`. */
  path: string;
}

export function asObject(value: unknown, ctx: ComponentContext): JsonObject {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new FormatError(`${ctx.file}: ${ctx.path} must be an object; found ${JSON.stringify(value)?.slice(0, 60)}`, {
      file: ctx.file,
    });
  }
  return value as JsonObject;
}

export function stringField(obj: JsonObject, key: string, ctx: ComponentContext, fallback?: string): string {
  const v = obj[key];
  if (typeof v === "string") return v;
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  throw new FormatError(`${ctx.file}: ${ctx.path}.${key} must be a string; found ${JSON.stringify(v)}`, {
    file: ctx.file,
  });
}

export function boolField(obj: JsonObject, key: string, fallback: boolean): boolean {
  const v = obj[key];
  return typeof v === "boolean" ? v : fallback;
}

export function numberField(obj: JsonObject, key: string, ctx: ComponentContext, fallback?: number): number {
  const v = obj[key];
  if (typeof v === "number") return v;
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  throw new FormatError(`${ctx.file}: ${ctx.path}.${key} must be a number; found ${JSON.stringify(v)}`, {
    file: ctx.file,
  });
}

export function arrayField(obj: JsonObject, key: string, ctx: ComponentContext): unknown[] {
  const v = obj[key];
  if (Array.isArray(v)) return v;
  throw new FormatError(`${ctx.file}: ${ctx.path}.${key} must be an array; found ${JSON.stringify(v)?.slice(0, 60)}`, {
    file: ctx.file,
  });
}

export function child(ctx: ComponentContext, suffix: string): ComponentContext {
  return { file: ctx.file, path: `${ctx.path}${suffix}` };
}

/** A `{"String": s}` or `{"Regex": r}` pattern object. */
export type PatternSpec = { kind: "string"; value: string } | { kind: "regex"; value: string };

export function patternField(obj: JsonObject, key: string, ctx: ComponentContext): PatternSpec {
  const p = asObject(obj[key], child(ctx, `.${key}`));
  if (typeof p.String === "string") return { kind: "string", value: p.String };
  if (typeof p.Regex === "string") return { kind: "regex", value: p.Regex };
  throw new FormatError(
    `${ctx.file}: ${ctx.path}.${key} must be {"String": …} or {"Regex": …}; found ${JSON.stringify(p)}`,
    {
      file: ctx.file,
    },
  );
}
