// tokenizer.json post-processors: where BOS/EOS (or CLS/SEP) go around an encoded sequence.
import { FormatError } from "@llamats/core";
import { asObject, arrayField, child, type ComponentContext } from "./json-fields.js";
import { unsupportedComponent } from "./unsupported.js";

/** Adds special tokens around one sequence's ids. */
export type PostProcessFn = (ids: number[]) => number[];

const SUPPORTED = ["TemplateProcessing", "ByteLevel", "Sequence", "BertProcessing", "RobertaProcessing"];

function templateProcessing(obj: Record<string, unknown>, ctx: ComponentContext): PostProcessFn {
  const specials = asObject(obj.special_tokens ?? {}, child(ctx, ".special_tokens"));
  const before: number[] = [];
  const after: number[] = [];
  let seenSequence = false;
  arrayField(obj, "single", ctx).forEach((item, i) => {
    const entry = asObject(item, child(ctx, `.single[${i}]`));
    if (entry.Sequence) {
      seenSequence = true;
      return;
    }
    const special = asObject(entry.SpecialToken, child(ctx, `.single[${i}].SpecialToken`));
    const name = special.id;
    const spec = typeof name === "string" ? (specials[name] as { ids?: unknown } | undefined) : undefined;
    if (!spec || !Array.isArray(spec.ids) || !spec.ids.every((id) => typeof id === "number")) {
      throw new FormatError(
        `${ctx.file}: ${ctx.path}.single[${i}] names special token ${JSON.stringify(name)}, which special_tokens does not define with ids`,
        {
          file: ctx.file,
        },
      );
    }
    (seenSequence ? after : before).push(...spec.ids);
  });
  return (ids) => (before.length === 0 && after.length === 0 ? ids : [...before, ...ids, ...after]);
}

export function buildPostProcessor(json: unknown, ctx: ComponentContext): PostProcessFn | undefined {
  if (json === null || json === undefined) return undefined;
  const obj = asObject(json, ctx);
  switch (obj.type) {
    case "TemplateProcessing":
      return templateProcessing(obj, ctx);
    case "ByteLevel":
      // Only adjusts offsets, which we do not report.
      return undefined;
    case "Sequence": {
      const steps = arrayField(obj, "processors", ctx)
        .map((p, i) => buildPostProcessor(p, child(ctx, `.processors[${i}]`)))
        .filter((f): f is PostProcessFn => f !== undefined);
      return (ids) => steps.reduce((acc, f) => f(acc), ids);
    }
    case "BertProcessing":
    case "RobertaProcessing": {
      const cls = obj.cls as [string, number];
      const sep = obj.sep as [string, number];
      if (!Array.isArray(cls) || !Array.isArray(sep) || typeof cls[1] !== "number" || typeof sep[1] !== "number") {
        throw new FormatError(`${ctx.file}: ${ctx.path} needs cls and sep as [token, id]`, { file: ctx.file });
      }
      return (ids) => [cls[1], ...ids, sep[1]];
    }
    default:
      return unsupportedComponent(ctx, obj.type, SUPPORTED);
  }
}

/** The template LlamaTokenizer(Fast) builds from add_bos_token / add_eos_token. */
export function bosEosProcessor(bosId: number | null, eosId: number | null): PostProcessFn {
  return (ids) => [...(bosId === null ? [] : [bosId]), ...ids, ...(eosId === null ? [] : [eosId])];
}
