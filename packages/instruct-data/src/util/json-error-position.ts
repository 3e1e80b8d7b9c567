// Node's JSON.parse messages do not always say where the error is; this scanner finds the offset.

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// eslint-disable-next-line no-control-regex -- JSON strings may not contain raw control characters (RFC 8259 §7)
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

class JsonSyntaxAt extends Error {
  constructor(readonly offset: number) {
    super("json syntax");
  }
}

function skip(text: string, at: number): number {
  while (at < text.length && WHITESPACE.has(text[at] as string)) at++;
  return at;
}

function matchAt(pattern: RegExp, text: string, at: number): number {
  pattern.lastIndex = at;
  if (!pattern.test(text)) throw new JsonSyntaxAt(at);
  return pattern.lastIndex;
}

function value(text: string, start: number): number {
  const at = skip(text, start);
  const c = text[at];
  if (c === '"') return matchAt(STRING, text, at);
  if (c === "{" || c === "[") {
    const close = c === "{" ? "}" : "]";
    let i = skip(text, at + 1);
    if (text[i] === close) return i + 1;
    for (;;) {
      if (c === "{") {
        i = matchAt(STRING, text, skip(text, i));
        i = skip(text, i);
        if (text[i] !== ":") throw new JsonSyntaxAt(i);
        i++;
      }
      i = skip(text, value(text, i));
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === close) return i + 1;
      throw new JsonSyntaxAt(i);
    }
  }
  for (const literal of ["true", "false", "null"]) if (text.startsWith(literal, at)) return at + literal.length;
  return matchAt(NUMBER, text, at);
}

/** Offset of the first JSON syntax error in `text`, or null when it parses. */
export function jsonErrorOffset(text: string): number | null {
  try {
    const end = skip(text, value(text, 0));
    return end === text.length ? null : end;
  } catch (error) {
    if (error instanceof JsonSyntaxAt) return error.offset;
    // Deep nesting overflowed the stack: no position to offer.
    return null;
  }
}
