import { describe, expect, it } from "vitest";
import { CsvParser, parseCsv } from "./csv-parser.js";

const fields = (text: string, delimiter?: string) =>
  parseCsv(text, { delimiter }).map((r) => ("fields" in r ? r.fields : r));

describe("CsvParser", () => {
  it("reads RFC 4180: quoted delimiters, doubled quotes, line breaks inside quotes", () => {
    expect(fields('a,b,c\n1,"x, y","say ""hi"""\n')).toEqual([
      ["a", "b", "c"],
      ["1", "x, y", 'say "hi"'],
    ]);
    expect(fields('a,b\n"line 1\nline 2",z\n')).toEqual([
      ["a", "b"],
      ["line 1\nline 2", "z"],
    ]);
    expect(fields('a,b\n"",\n,""\n')).toEqual([
      ["a", "b"],
      ["", ""],
      ["", ""],
    ]);
    // No line break at the end of the file.
    expect(fields("a,b\n1,2")).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
  });

  it("ends records at \\r\\n, \\n and \\r; keeps \\r\\n inside quotes as written; skips blank lines", () => {
    expect(fields('a,b\r\n1,2\r\n3,"x\r\ny"\r\n')).toEqual([
      ["a", "b"],
      ["1", "2"],
      ["3", "x\r\ny"],
    ]);
    expect(fields("a\r1\r\r2\n\n\n3")).toEqual([["a"], ["1"], ["2"], ["3"]]);
  });

  it("gives each record the line it starts on", () => {
    const rows = parseCsv('h1,h2\n"multi\nline\ntext",1\n\nnext,2\r\nlast,"3"');
    expect(rows.map((r) => r.line)).toEqual([1, 2, 6, 7]);
  });

  it("keeps stray quotes as text, as Python csv and pandas do", () => {
    expect(fields('a,b\n5" screen,"ok"tail\n')).toEqual([
      ["a", "b"],
      ['5" screen', "oktail"],
    ]);
  });

  it("reports an unclosed quote at the line where its record starts", () => {
    expect(parseCsv('a,b\n1,2\n3,"never closed\nmore\n')).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 2, fields: ["1", "2"] },
      { line: 3, message: "a quoted field that starts on line 3 is not closed before the end of the file" },
    ]);
  });

  it("reads tab-separated values with the same quoting", () => {
    expect(fields('instruction\tinput\toutput\n"a\tb"\t\t한국어\n', "\t")).toEqual([
      ["instruction", "input", "output"],
      ["a\tb", "", "한국어"],
    ]);
  });

  it("gives the same records however the text is cut into chunks", () => {
    const text = 'instruction,input,output\r\n"Say ""hi"", twice",,"hi\r\nhi"\r\nplain,"a,b",c\r\n\r\n"x""",y,z\rq,r,s';
    const whole = parseCsv(text);
    for (let cut = 0; cut <= text.length; cut++) {
      const parser = new CsvParser();
      const rows = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      const last = parser.end();
      if (last) rows.push(last as never);
      expect(rows, `cut at ${cut}`).toEqual(whole);
    }
    const oneByOne = new CsvParser();
    const rows = [...text].flatMap((c) => oneByOne.push(c));
    rows.push(oneByOne.end() as never);
    expect(rows).toEqual(whole);
  });

  it("refuses a delimiter that cannot work", () => {
    expect(() => new CsvParser({ delimiter: '"' })).toThrow(/delimiter/);
    expect(() => new CsvParser({ delimiter: ";;" })).toThrow(/delimiter/);
  });
});
