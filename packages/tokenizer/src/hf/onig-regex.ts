// Translates the Oniguruma regexes of tokenizer.json (as the Rust tokenizers library runs them) into
// JavaScript RegExps with the same Unicode meaning of \s, \d, \w and (?i:...) groups.
import { ConfigError } from "@llamats/core";

const GENERAL_CATEGORIES = new Set(
  "L Lu Ll Lt Lm Lo LC M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp C Cc Cf Cs Co Cn".split(
    " ",
  ),
);
const WORD = "\\p{L}\\p{M}\\p{Nd}\\p{Pc}";

function caseVariants(ch: string): string {
  const lower = ch.toLowerCase();
  const upper = ch.toUpperCase();
  if (lower === upper || lower.length !== 1 || upper.length !== 1) return ch;
  return lower + upper;
}

export function translateOnigRegex(pattern: string, where: string): RegExp {
  let out = "";
  let inClass = false;
  // One entry per open group: whether it switched case-insensitivity on.
  const groups: boolean[] = [];
  let ignoreCase = 0;
  const unsupported = (what: string): never => {
    throw new ConfigError(
      `${where}: the regex ${JSON.stringify(pattern)} uses ${what}, which llamats cannot run exactly`,
      { key: where },
    );
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      const n = pattern[i + 1];
      if (n === undefined) unsupported("a trailing backslash");
      i++;
      switch (n) {
        case "s":
          out += "\\p{White_Space}";
          break;
        case "S":
          out += inClass ? unsupported("\\S inside a character class") : "\\P{White_Space}";
          break;
        case "d":
          out += "\\p{Nd}";
          break;
        case "D":
          out += inClass ? unsupported("\\D inside a character class") : "\\P{Nd}";
          break;
        case "w":
          out += inClass ? WORD : `[${WORD}]`;
          break;
        case "W":
          out += inClass ? unsupported("\\W inside a character class") : `[^${WORD}]`;
          break;
        case "p":
        case "P": {
          const close = pattern.indexOf("}", i);
          if (pattern[i + 1] !== "{" || close < 0) unsupported(`\\${n} without {…}`);
          let name = pattern.slice(i + 2, close);
          let negate = n === "P";
          if (name.startsWith("^")) {
            negate = !negate;
            name = name.slice(1);
          }
          const js = GENERAL_CATEGORIES.has(name) || name.includes("=") ? name : `Script=${name}`;
          out += `\\${negate ? "P" : "p"}{${js}}`;
          i = close;
          break;
        }
        case "A":
          out += "^";
          break;
        case "z":
          out += "$";
          break;
        case "h":
          out += inClass ? "0-9a-fA-F" : "[0-9a-fA-F]";
          break;
        default:
          if (/[a-zA-Z]/.test(n!) && !"tnrfvbBux0".includes(n!)) unsupported(`the escape \\${n}`);
          out += "\\" + n;
      }
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      else if (c === "[") unsupported("a nested character class");
      out += ignoreCase && /[a-zA-Z]/.test(c) ? caseVariants(c) : c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      if (pattern[i + 1] === "^") {
        out += "^";
        i++;
      }
      if (pattern[i + 1] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (c === "(") {
      if (pattern.startsWith("(?i:", i)) {
        groups.push(true);
        ignoreCase++;
        out += "(?:";
        i += 3;
        continue;
      }
      if (pattern.startsWith("(?>", i)) unsupported("an atomic group (?>…)");
      if (pattern[i + 1] === "?" && /[imx-]/.test(pattern[i + 2] ?? "")) unsupported("inline flags");
      groups.push(false);
      out += c;
      continue;
    }
    if (c === ")") {
      if (groups.pop()) ignoreCase--;
      out += c;
      continue;
    }
    if ((c === "+" || c === "*" || c === "?" || c === "}") && pattern[i + 1] === "+")
      unsupported("a possessive quantifier");
    out += ignoreCase && /[a-zA-Z]/.test(c) ? `[${caseVariants(c)}]` : c;
  }
  try {
    return new RegExp(out, "gu");
  } catch (error) {
    throw new ConfigError(
      `${where}: the regex ${JSON.stringify(pattern)} does not compile in JavaScript (${(error as Error).message})`,
      {
        key: where,
        cause: error,
      },
    );
  }
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Non-overlapping matches [start, end) of a global regex, skipping empty ones as the Rust library does. */
export function findMatches(regex: RegExp, text: string): Array<[number, number]> {
  const matches: Array<[number, number]> = [];
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    if (m[0].length === 0) {
      regex.lastIndex = m.index + 1;
      continue;
    }
    matches.push([m.index, m.index + m[0].length]);
  }
  return matches;
}
