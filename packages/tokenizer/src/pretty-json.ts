// JSON.stringify(value, null, 2) formatting, except that `OrderedEntries` keep their key order even for
// integer-like keys (a JavaScript object would move "0".."9" first, e.g. in a vocab).

export class OrderedEntries {
  constructor(readonly entries: Array<[string, unknown]>) {}

  /** JSON.stringify writes the same keys and values as a plain object (integer-like keys first). */
  toJSON(): Record<string, unknown> {
    return Object.fromEntries(this.entries);
  }
}

export function prettyJson(value: unknown, indent = ""): string {
  if (value instanceof OrderedEntries) return objectJson(value.entries, indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const inner = indent + "  ";
    return `[\n${value.map((v) => inner + prettyJson(v === undefined ? null : v, inner)).join(",\n")}\n${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    return objectJson(
      Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined),
      indent,
    );
  }
  return JSON.stringify(value);
}

function objectJson(entries: Array<[string, unknown]>, indent: string): string {
  if (entries.length === 0) return "{}";
  const inner = indent + "  ";
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`).join(",\n")}\n${indent}}`;
}
