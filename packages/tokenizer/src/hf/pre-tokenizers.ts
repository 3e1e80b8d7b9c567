// tokenizer.json pre-tokenizers: split a normalized string into the words BPE sees.
import { toByteLevel } from "./byte-level-alphabet.js";
import {
  asObject,
  arrayField,
  boolField,
  child,
  patternField,
  stringField,
  type ComponentContext,
} from "./json-fields.js";
import { escapeRegex, findMatches, translateOnigRegex } from "./onig-regex.js";
import { unsupportedComponent } from "./unsupported.js";
import { FormatError } from "@llamats/core";

/**
 * A pre-tokenizer stage: splits `text` and passes each piece on. `atStart` says whether the piece begins at
 * offset 0 of the original input (Metaspace's "first" scheme needs it).
 */
export type PreTokenizeFn = (text: string, atStart: boolean, emit: EmitFn) => void;
export type EmitFn = (piece: string, atStart: boolean) => void;

export type SplitBehavior = "Removed" | "Isolated" | "MergedWithPrevious" | "MergedWithNext" | "Contiguous";
const BEHAVIORS: SplitBehavior[] = ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"];
const SUPPORTED = ["Sequence", "Metaspace", "Split", "ByteLevel", "Digits", "WhitespaceSplit", "Whitespace"];

/** GPT-2's split regex, which ByteLevel applies when `use_regex` is on. */
const GPT2_REGEX = translateOnigRegex(
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
  "ByteLevel",
);
const GPT2_STICKY = new RegExp(GPT2_REGEX.source, "uy");
const WHITESPACE_REGEX = translateOnigRegex("\\w+|[^\\w\\s]+", "Whitespace");
const WHITESPACE_RUN = /\p{White_Space}+/gu;

/** Splits `text` at `matches` as NormalizedString::split does for each behaviour. */
function splitWithBehavior(
  text: string,
  matches: Array<[number, number]>,
  behavior: SplitBehavior,
  invert: boolean,
): string[] {
  // Every span of text, flagged as match or not.
  const spans: Array<[number, number, boolean]> = [];
  let prev = 0;
  for (const [s, e] of matches) {
    if (prev !== s) spans.push([prev, s, invert]);
    spans.push([s, e, !invert]);
    prev = e;
  }
  if (prev !== text.length) spans.push([prev, text.length, invert]);
  const out: Array<[number, number]> = [];
  switch (behavior) {
    case "Isolated":
      for (const [s, e] of spans) out.push([s, e]);
      break;
    case "Removed":
      for (const [s, e, m] of spans) if (!m) out.push([s, e]);
      break;
    case "Contiguous": {
      let previous = false;
      for (const [s, e, m] of spans) {
        if (m === previous && out.length > 0) out[out.length - 1]![1] = e;
        else out.push([s, e]);
        previous = m;
      }
      break;
    }
    case "MergedWithPrevious": {
      let previous = false;
      for (const [s, e, m] of spans) {
        if (m && !previous && out.length > 0) out[out.length - 1]![1] = e;
        else out.push([s, e]);
        previous = m;
      }
      break;
    }
    case "MergedWithNext": {
      let previous = false;
      for (let i = spans.length - 1; i >= 0; i--) {
        const [s, e, m] = spans[i]!;
        if (m && !previous && out.length > 0) out[out.length - 1]![0] = s;
        else out.push([s, e]);
        previous = m;
      }
      out.reverse();
      break;
    }
  }
  return out.filter(([s, e]) => e > s).map(([s, e]) => text.slice(s, e));
}

function charMatches(text: string, test: (ch: string) => boolean): Array<[number, number]> {
  const matches: Array<[number, number]> = [];
  let i = 0;
  for (const ch of text) {
    if (test(ch)) matches.push([i, i + ch.length]);
    i += ch.length;
  }
  return matches;
}

/** Emits the pieces of a split; only the first can start at the original offset 0. */
function emitAll(parts: string[], atStart: boolean, text: string, emit: EmitFn): void {
  for (let i = 0; i < parts.length; i++) emit(parts[i]!, atStart && i === 0 && text.startsWith(parts[i]!));
}

/** Isolated split by a regex without intermediate arrays: the common case (GPT-2 / Llama-3 patterns). */
function emitIsolated(regex: RegExp, sticky: RegExp, text: string, atStart: boolean, emit: EmitFn): void {
  let prev = 0;
  let pos = 0;
  while (pos < text.length) {
    // Try a match right here first (cheap `test`, no match array); scan ahead only when there is none.
    sticky.lastIndex = pos;
    let s: number;
    let e: number;
    if (sticky.test(text) && sticky.lastIndex > pos) {
      s = pos;
      e = sticky.lastIndex;
    } else {
      regex.lastIndex = pos;
      const m = regex.exec(text);
      if (m === null) break;
      s = m.index;
      e = s + m[0].length;
      if (e === s) {
        pos = s + 1;
        continue;
      }
    }
    if (s > prev) emit(text.slice(prev, s), atStart && prev === 0);
    emit(s === 0 && e === text.length ? text : text.slice(s, e), atStart && s === 0);
    prev = e;
    pos = e;
  }
  if (prev < text.length) emit(prev === 0 ? text : text.slice(prev), atStart && prev === 0);
}

function stickyOf(regex: RegExp): RegExp {
  return new RegExp(regex.source, regex.flags.replace("g", "") + "y");
}

const IS_NUMERIC = /^\p{N}$/u;

export function buildPreTokenizer(json: unknown, ctx: ComponentContext): PreTokenizeFn | undefined {
  if (json === null || json === undefined) return undefined;
  const obj = asObject(json, ctx);
  switch (obj.type) {
    case "Sequence": {
      const steps = arrayField(obj, "pretokenizers", ctx)
        .map((p, i) => buildPreTokenizer(p, child(ctx, `.pretokenizers[${i}]`)))
        .filter((f): f is PreTokenizeFn => f !== undefined);
      // Each stage feeds the next one piece at a time.
      return steps.reduceRight<PreTokenizeFn>(
        (next, step) => (text, atStart, emit) =>
          step(text, atStart, (piece, pieceAtStart) => next(piece, pieceAtStart, emit)),
        (text, atStart, emit) => emit(text, atStart),
      );
    }
    case "Metaspace": {
      const replacement = stringField(obj, "replacement", ctx, "\u2581");
      let scheme = obj.prepend_scheme;
      // Files from before prepend_scheme existed say add_prefix_space.
      if (scheme === undefined) scheme = boolField(obj, "add_prefix_space", true) ? "always" : "never";
      if (scheme !== "always" && scheme !== "first" && scheme !== "never") {
        throw new FormatError(
          `${ctx.file}: ${ctx.path}.prepend_scheme must be always, first or never; found ${JSON.stringify(scheme)}`,
          {
            file: ctx.file,
          },
        );
      }
      const split = boolField(obj, "split", true);
      return (piece, atStart, emit) => {
        let text = piece.replaceAll(" ", replacement);
        if (!text.startsWith(replacement) && (scheme === "always" || (scheme === "first" && atStart)))
          text = replacement + text;
        if (!split) {
          emit(text, atStart);
          return;
        }
        emitAll(
          splitWithBehavior(
            text,
            charMatches(text, (ch) => ch === replacement),
            "MergedWithNext",
            false,
          ),
          atStart,
          text,
          emit,
        );
      };
    }
    case "Split": {
      const pattern = patternField(obj, "pattern", ctx);
      const behavior = obj.behavior as SplitBehavior;
      if (!BEHAVIORS.includes(behavior)) {
        throw new FormatError(
          `${ctx.file}: ${ctx.path}.behavior must be one of ${BEHAVIORS.join(", ")}; found ${JSON.stringify(obj.behavior)}`,
          {
            file: ctx.file,
          },
        );
      }
      const invert = boolField(obj, "invert", false);
      const regex =
        pattern.kind === "regex"
          ? translateOnigRegex(pattern.value, `${ctx.path}.pattern`)
          : new RegExp(escapeRegex(pattern.value), "gu");
      const sticky = stickyOf(regex);
      if (behavior === "Isolated" && !invert)
        return (text, atStart, emit) => emitIsolated(regex, sticky, text, atStart, emit);
      return (text, atStart, emit) =>
        emitAll(splitWithBehavior(text, findMatches(regex, text), behavior, invert), atStart, text, emit);
    }
    case "ByteLevel": {
      const addPrefixSpace = boolField(obj, "add_prefix_space", true);
      const useRegex = boolField(obj, "use_regex", true);
      return (piece, atStart, emit) => {
        const text = addPrefixSpace && !piece.startsWith(" ") ? " " + piece : piece;
        const mapped: EmitFn = (p, a) => emit(toByteLevel(p), a);
        if (useRegex) emitIsolated(GPT2_REGEX, GPT2_STICKY, text, atStart, mapped);
        else mapped(text, atStart);
      };
    }
    case "Digits": {
      const individual = boolField(obj, "individual_digits", false);
      const behavior: SplitBehavior = individual ? "Isolated" : "Contiguous";
      return (text, atStart, emit) =>
        emitAll(
          splitWithBehavior(
            text,
            charMatches(text, (ch) => IS_NUMERIC.test(ch)),
            behavior,
            false,
          ),
          atStart,
          text,
          emit,
        );
    }
    case "WhitespaceSplit":
      return (text, atStart, emit) =>
        emitAll(splitWithBehavior(text, findMatches(WHITESPACE_RUN, text), "Removed", false), atStart, text, emit);
    case "Whitespace":
      return (text, atStart, emit) =>
        emitAll(splitWithBehavior(text, findMatches(WHITESPACE_REGEX, text), "Removed", true), atStart, text, emit);
    default:
      return unsupportedComponent(ctx, obj.type, SUPPORTED);
  }
}
