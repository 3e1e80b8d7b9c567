/** Encodes documents as BOS + ids + EOS, concatenates them and cuts the stream into rows of `rowLength` tokens. */
export function packTokenRows(
  texts: readonly string[],
  encode: (text: string) => number[],
  special: { bos: number; eos: number },
  rowLength: number,
): number[][] {
  const rows: number[][] = [];
  let row: number[] = [];
  for (const text of texts) {
    for (const id of [special.bos, ...encode(text), special.eos]) {
      row.push(id);
      if (row.length === rowLength) {
        rows.push(row);
        row = [];
      }
    }
  }
  return rows;
}
