// tokenizer.json normalizers, as string → string functions (offsets are not tracked).
import { translateOnigRegex } from "./onig-regex.js";
import {
  asObject,
  arrayField,
  boolField,
  child,
  patternField,
  stringField,
  type ComponentContext,
} from "./json-fields.js";
import { unsupportedComponent } from "./unsupported.js";

export type NormalizeFn = (text: string) => string;

const SUPPORTED = [
  "Sequence",
  "Prepend",
  "Replace",
  "NFC",
  "NFD",
  "NFKC",
  "NFKD",
  "Lowercase",
  "Strip",
  "StripAccents",
];
const LEADING_WS = /^\p{White_Space}+/u;
const TRAILING_WS = /\p{White_Space}+$/u;
const COMBINING_MARK = /\p{Mn}/gu;

function lowercasePerChar(text: string): string {
  // The Rust library lowercases char by char (no final-sigma context); so does this.
  let out = "";
  for (const ch of text) out += ch.toLowerCase();
  return out;
}

export function buildNormalizer(json: unknown, ctx: ComponentContext): NormalizeFn | undefined {
  if (json === null || json === undefined) return undefined;
  const obj = asObject(json, ctx);
  switch (obj.type) {
    case "Sequence": {
      const steps = arrayField(obj, "normalizers", ctx)
        .map((n, i) => buildNormalizer(n, child(ctx, `.normalizers[${i}]`)))
        .filter((f): f is NormalizeFn => f !== undefined);
      return (text) => steps.reduce((t, f) => f(t), text);
    }
    case "Prepend": {
      const prefix = stringField(obj, "prepend", ctx);
      return (text) => (text.length === 0 ? text : prefix + text);
    }
    case "Replace": {
      const pattern = patternField(obj, "pattern", ctx);
      const content = stringField(obj, "content", ctx);
      if (pattern.kind === "string") return (text) => text.replaceAll(pattern.value, content);
      const regex = translateOnigRegex(pattern.value, `${ctx.path}.pattern`);
      return (text) => text.replace(regex, () => content);
    }
    case "NFC":
    case "NFD":
    case "NFKC":
    case "NFKD": {
      const form = obj.type;
      return (text) => text.normalize(form);
    }
    case "Lowercase":
      return lowercasePerChar;
    case "Strip": {
      const left = boolField(obj, "strip_left", true);
      const right = boolField(obj, "strip_right", true);
      return (text) => {
        let t = text;
        if (left) t = t.replace(LEADING_WS, "");
        if (right) t = t.replace(TRAILING_WS, "");
        return t;
      };
    }
    case "StripAccents":
      return (text) => text.replace(COMBINING_MARK, "");
    default:
      return unsupportedComponent(ctx, obj.type, SUPPORTED);
  }
}
