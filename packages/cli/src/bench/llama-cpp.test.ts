import { describe, expect, it } from "vitest";
import { captureContext } from "../commands/cli-test-context.fixture.js";
import { runGenerateBench } from "./generate.js";

// Runs the path end to end (export, node-llama-cpp from interop/llama-cpp, timing, report); speed is not asserted.
describe("bench generate --llama-cpp", () => {
  it("runs llama.cpp on the bench's weights at f32 and q8_0 and reports both beside ours", async () => {
    const ctx = captureContext();
    const args = ["--llama-cpp", "--new-tokens", "4", "--repeat", "1", "--threads", "1", "--json"];
    expect(await runGenerateBench(args, ctx)).toBe(0);
    const report = JSON.parse(ctx.out()) as {
      newTokens: number;
      tokensPerS: number;
      llamaCppSameRun: { type: string; tokensPerS: number; threads: number; runs: number }[];
      ratioToLlamaCppF32: number;
      oursQ8_0: string;
      tensorsLeaked: number;
    };
    expect(report.newTokens).toBe(4);
    expect(report.llamaCppSameRun.map((r) => [r.type, r.threads, r.runs])).toEqual([
      ["f32", 1, 1],
      ["q8_0", 1, 1],
    ]);
    for (const r of report.llamaCppSameRun) expect(r.tokensPerS).toBeGreaterThan(0);
    expect(report.ratioToLlamaCppF32).toBeCloseTo(report.tokensPerS / report.llamaCppSameRun[0].tokensPerS, 1);
    expect(report.oursQ8_0).toBe("not yet: no 8-bit decode path");
    expect(report.tensorsLeaked).toBe(0);
  }, 300_000);

  it("refuses --sample with --llama-cpp (the comparison is greedy)", async () => {
    const ctx = captureContext();
    expect(await runGenerateBench(["--llama-cpp", "--sample"], ctx)).toBe(2);
    expect(ctx.err()).toContain("leave out --sample");
  });
});
