// GPT-2's reversible byte ↔ printable-character table used by ByteLevel pre-tokenizers and decoders.

function buildByteToChar(): string[] {
  const table = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    table[b] = String.fromCharCode(printable ? b : 256 + extra++);
  }
  return table;
}

const BYTE_TO_CHAR: readonly string[] = buildByteToChar();
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const encoder = new TextEncoder();

/** The byte-level spelling of `text`: each UTF-8 byte as its table character. */
export function toByteLevel(text: string): string {
  // Printable ASCII maps to itself: most words need at most their leading space changed.
  let firstChange = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return nonAscii(text);
    if (firstChange < 0 && (c < 33 || c === 127)) firstChange = i;
  }
  if (firstChange < 0) return text;
  let out = "";
  let from = 0;
  for (let i = firstChange; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 33 || c === 127) {
      out += text.slice(from, i) + BYTE_TO_CHAR[c]!;
      from = i + 1;
    }
  }
  return out + text.slice(from);
}

function nonAscii(text: string): string {
  let out = "";
  for (const b of encoder.encode(text)) out += BYTE_TO_CHAR[b]!;
  return out;
}
