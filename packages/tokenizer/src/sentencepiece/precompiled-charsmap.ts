// SentencePiece's precompiled normalization map: a darts-clone double-array trie over UTF-8 bytes
// whose values point into a table of NUL-terminated replacement strings.
import { FormatError } from "@llamats/core";

export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly replacements: Uint8Array;

  constructor(blob: Uint8Array, file = "<memory>") {
    if (blob.length <= 4)
      throw new FormatError(`${file}: precompiled_charsmap is too short (${blob.length} bytes)`, { file });
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieSize = view.getUint32(0, true);
    if (trieSize >= blob.length || trieSize % 4 !== 0) {
      throw new FormatError(
        `${file}: precompiled_charsmap trie size ${trieSize} does not fit its ${blob.length}-byte blob`,
        { file },
      );
    }
    const copy = blob.slice(4, 4 + trieSize);
    this.units = new Uint32Array(copy.buffer, copy.byteOffset, trieSize / 4);
    this.replacements = blob.slice(4 + trieSize);
  }

  /** Longest rule matching `bytes` at `offset`: [matched length, replacement bytes], or undefined. */
  longestMatch(bytes: Uint8Array, offset: number): [number, Uint8Array] | undefined {
    const units = this.units;
    let nodePos = 0;
    let unit = units[0]!;
    nodePos ^= unitOffset(unit);
    let bestLength = 0;
    let bestValue = -1;
    for (let i = offset; i < bytes.length; i++) {
      const label = bytes[i]!;
      nodePos ^= label;
      unit = units[nodePos]!;
      if (unit === undefined || (unit & 0x800000ff) !== label) break;
      nodePos ^= unitOffset(unit);
      if ((unit >>> 8) & 1) {
        bestLength = i - offset + 1;
        bestValue = units[nodePos]! & 0x7fffffff;
      }
    }
    if (bestLength === 0) return undefined;
    let end = bestValue;
    while (end < this.replacements.length && this.replacements[end] !== 0) end++;
    return [bestLength, this.replacements.subarray(bestValue, end)];
  }
}

function unitOffset(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}
