import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createProgressBar, formatBytes } from "./progress-bar.js";

function sink(isTTY: boolean): { stream: Writable & { isTTY?: boolean; columns?: number }; text: () => string } {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _e, done) {
        chunks.push(chunk.toString());
        done();
      },
    }),
    { isTTY, columns: 80 },
  );
  return { stream, text: () => chunks.join("") };
}

describe("progress bar", () => {
  it("formats bytes in decimal units", () => {
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1500)).toBe("1.50 kB");
    expect(formatBytes(13_500_000_000)).toBe("13.5 GB");
  });

  it("off a terminal prints sparse lines with bytes and speed, one per file at the end", () => {
    let t = 0;
    const out = sink(false);
    const bar = createProgressBar({ stream: out.stream, now: () => t, logIntervalMs: 5000 });
    bar.update("a.bin", 0, 4_000_000);
    t = 1000;
    bar.update("a.bin", 1_000_000, 4_000_000);
    t = 2000;
    bar.update("a.bin", 2_000_000, 4_000_000); // within 5 s of the last line: not printed
    t = 3000;
    bar.update("a.bin", 4_000_000, 4_000_000);
    bar.update("b.json", 10, 10);
    bar.done();
    const lines = out.text().trim().split("\n");
    expect(lines).toEqual([
      "a.bin [######..................]  25% 1.00 MB / 4.00 MB 1.00 MB/s",
      "a.bin [########################] 100% 4.00 MB / 4.00 MB 1.33 MB/s",
      "b.json [########################] 100% 10 B / 10 B",
    ]);
  });

  it("on a terminal redraws in place and ends each file with a newline", () => {
    let t = 0;
    const out = sink(true);
    const bar = createProgressBar({ stream: out.stream, now: () => t });
    bar.update("x", 0, 100);
    t = 50;
    bar.update("x", 50, 100); // throttled
    t = 500;
    bar.update("x", 100, 100);
    bar.done();
    const text = out.text();
    expect(text.split("\r")).toHaveLength(3);
    expect(text.endsWith("\n")).toBe(true);
    expect(text).toContain("100% 100 B / 100 B");
  });
});
