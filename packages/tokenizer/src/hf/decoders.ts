// tokenizer.json decoders: each maps the token strings to new strings; the results are joined at the end.
import { utf8DecodeLossy, utf8DecodeStrict, utf8Encode, bytePieceValue } from "../utf8.js";
import { CHAR_TO_BYTE } from "./byte-level-alphabet.js";
import {
  asObject,
  arrayField,
  child,
  numberField,
  patternField,
  stringField,
  type ComponentContext,
} from "./json-fields.js";
import { translateOnigRegex } from "./onig-regex.js";
import { unsupportedComponent } from "./unsupported.js";

export type DecodeChainFn = (tokens: string[]) => string[];

const SUPPORTED = ["Sequence", "Replace", "ByteFallback", "Fuse", "Strip", "ByteLevel", "Metaspace"];

function byteFallback(tokens: string[]): string[] {
  const out: string[] = [];
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length === 0) return;
    const text = utf8DecodeStrict(Uint8Array.from(bytes));
    // A run that is not valid UTF-8 becomes one U+FFFD per byte, as in the Rust decoder.
    if (text !== undefined) out.push(text);
    else for (let i = 0; i < bytes.length; i++) out.push("\uFFFD");
    bytes = [];
  };
  for (const token of tokens) {
    const b = bytePieceValue(token);
    if (b >= 0) {
      bytes.push(b);
      continue;
    }
    flush();
    out.push(token);
  }
  flush();
  return out;
}

function byteLevel(tokens: string[]): string[] {
  const bytes: number[] = [];
  for (const token of tokens) {
    const mapped: number[] = [];
    let ok = true;
    for (const ch of token) {
      const b = CHAR_TO_BYTE.get(ch);
      if (b === undefined) {
        ok = false;
        break;
      }
      mapped.push(b);
    }
    // Tokens outside the byte alphabet (added tokens) keep their own UTF-8 bytes.
    if (ok) for (const b of mapped) bytes.push(b);
    else for (const b of utf8Encode(token)) bytes.push(b);
  }
  return [utf8DecodeLossy(Uint8Array.from(bytes))];
}

function strip(content: string, start: number, stop: number): DecodeChainFn {
  return (tokens) =>
    tokens.map((token) => {
      const chars = Array.from(token);
      let startCut = 0;
      for (let i = 0; i < Math.min(start, chars.length); i++) {
        if (chars[i] === content) startCut = i + 1;
        else break;
      }
      let stopCut = chars.length;
      for (let i = 0; i < stop; i++) {
        const index = chars.length - i - 1;
        if (index < 0) break;
        if (chars[index] === content) stopCut = index;
        else break;
      }
      return chars.slice(startCut, Math.max(startCut, stopCut)).join("");
    });
}

export function buildDecoder(json: unknown, ctx: ComponentContext): DecodeChainFn | undefined {
  if (json === null || json === undefined) return undefined;
  const obj = asObject(json, ctx);
  switch (obj.type) {
    case "Sequence": {
      const steps = arrayField(obj, "decoders", ctx)
        .map((d, i) => buildDecoder(d, child(ctx, `.decoders[${i}]`)))
        .filter((f): f is DecodeChainFn => f !== undefined);
      return (tokens) => steps.reduce((t, f) => f(t), tokens);
    }
    case "Replace": {
      const pattern = patternField(obj, "pattern", ctx);
      const content = stringField(obj, "content", ctx);
      if (pattern.kind === "string") return (tokens) => tokens.map((t) => t.replaceAll(pattern.value, content));
      const regex = translateOnigRegex(pattern.value, `${ctx.path}.pattern`);
      return (tokens) => tokens.map((t) => t.replace(regex, () => content));
    }
    case "ByteFallback":
      return byteFallback;
    case "Fuse":
      return (tokens) => [tokens.join("")];
    case "Strip": {
      const content = stringField(obj, "content", ctx);
      return strip(content, numberField(obj, "start", ctx, 0), numberField(obj, "stop", ctx, 0));
    }
    case "ByteLevel":
      return byteLevel;
    case "Metaspace": {
      const replacement = stringField(obj, "replacement", ctx, "\u2581");
      let scheme = obj.prepend_scheme;
      if (scheme === undefined) scheme = obj.add_prefix_space === false ? "never" : "always";
      const dropFirst = scheme !== "never";
      return (tokens) =>
        tokens.map((token, i) => {
          let out = "";
          for (const ch of token) {
            if (ch === replacement) {
              if (!(i === 0 && dropFirst)) out += " ";
            } else out += ch;
          }
          return out;
        });
    }
    default:
      return unsupportedComponent(ctx, obj.type, SUPPORTED);
  }
}
