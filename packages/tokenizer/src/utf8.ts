// UTF-8 helpers with the exact replacement rules of the libraries we mirror.

const encoder = new TextEncoder();
const lossyDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
const fatalDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Like Rust's `String::from_utf8_lossy` (one U+FFFD per maximal invalid subpart, as WHATWG). */
export function utf8DecodeLossy(bytes: Uint8Array): string {
  return lossyDecoder.decode(bytes);
}

/** The decoded string, or undefined when the bytes are not valid UTF-8. */
export function utf8DecodeStrict(bytes: Uint8Array): string | undefined {
  try {
    return fatalDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

const isTrail = (b: number): boolean => (b & 0xc0) === 0x80;
const isValidCodepoint = (c: number): boolean => c < 0xd800 || (c >= 0xe000 && c <= 0x10ffff);

/**
 * Length of the valid UTF-8 character at `offset`, or 0 when it is malformed, using SentencePiece's
 * rules (no overlongs, no surrogates; a literal U+FFFD counts as valid).
 */
export function sentencePieceCharLength(bytes: Uint8Array, offset: number): number {
  const len = bytes.length - offset;
  const b0 = bytes[offset]!;
  if (b0 < 0x80) return 1;
  if (len >= 2 && (b0 & 0xe0) === 0xc0) {
    const b1 = bytes[offset + 1]!;
    const cp = ((b0 & 0x1f) << 6) | (b1 & 0x3f);
    if (isTrail(b1) && cp >= 0x80 && isValidCodepoint(cp)) return 2;
  } else if (len >= 3 && (b0 & 0xf0) === 0xe0) {
    const b1 = bytes[offset + 1]!;
    const b2 = bytes[offset + 2]!;
    const cp = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
    if (isTrail(b1) && isTrail(b2) && cp >= 0x800 && isValidCodepoint(cp)) return 3;
  } else if (len >= 4 && (b0 & 0xf8) === 0xf0) {
    const b1 = bytes[offset + 1]!;
    const b2 = bytes[offset + 2]!;
    const b3 = bytes[offset + 3]!;
    const cp = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
    if (isTrail(b1) && isTrail(b2) && isTrail(b3) && cp >= 0x10000 && isValidCodepoint(cp)) return 4;
  }
  return 0;
}

/** SentencePiece's byte-piece decoding: every byte that does not start a valid character becomes U+FFFD. */
export function utf8DecodeSentencePiece(bytes: Uint8Array): string {
  let out = "";
  let runStart = 0;
  let offset = 0;
  while (offset < bytes.length) {
    const n = sentencePieceCharLength(bytes, offset);
    if (n === 0) {
      out += lossyDecoder.decode(bytes.subarray(runStart, offset)) + "\uFFFD";
      offset += 1;
      runStart = offset;
    } else {
      offset += n;
    }
  }
  return out + lossyDecoder.decode(bytes.subarray(runStart, offset));
}

/** `<0xAB>` → 0xAB; -1 for anything else (SentencePiece's and tokenizers' byte-piece spelling). */
export function bytePieceValue(piece: string): number {
  if (piece.length !== 6 || !piece.startsWith("<0x") || piece.charCodeAt(5) !== 62) return -1;
  const hex = piece.slice(3, 5);
  if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return -1;
  return parseInt(hex, 16);
}

export function bytePieceName(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`;
}
