import { describe, expect, it } from "vitest";
import { captureContext } from "../commands/cli-test-context.fixture.js";
import { runGenerateBench } from "./generate.js";
import { llamaCppThreadCounts } from "./llama-cpp.js";

// Runs the path end to end (export, node-llama-cpp from interop/llama-cpp, timing, report); speed is not asserted.
describe("bench generate --llama-cpp", () => {
  it("times llama.cpp at 1, 2, 4, … threads up to ours", () => {
    expect(llamaCppThreadCounts(1)).toEqual([1]);
    expect(llamaCppThreadCounts(2)).toEqual([1, 2]);
    expect(llamaCppThreadCounts(6)).toEqual([1, 2, 4, 6]);
    expect(llamaCppThreadCounts(16)).toEqual([1, 2, 4, 8, 16]);
  });

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
    expect(report.oursQ8_0).toContain("--weights int8");
    expect(report.tensorsLeaked).toBe(0);
  }, 300_000);

  it("with --weights int8, times our 8-bit decode against llama.cpp's q8_0 and the float32 twin against its f32; llama.cpp's best thread count is the peer", async () => {
    const ctx = captureContext();
    const args = ["--llama-cpp", "--weights", "int8", "--new-tokens", "4", "--repeat", "1", "--threads", "2", "--json"];
    expect(await runGenerateBench(args, ctx)).toBe(0);
    const report = JSON.parse(ctx.out()) as {
      weights: string;
      tokensPerS: number;
      float32SameRunTokensPerS: number;
      llamaCppSameRun: { type: string; tokensPerS: number; threads: number; byThreads: Record<string, number> }[];
      ratioToLlamaCppF32: number;
      ratioToLlamaCppQ8_0: number;
      tensorsLeaked: number;
    };
    expect(report.weights).toBe("int8");
    const [f32, q8] = report.llamaCppSameRun;
    expect([f32.type, q8.type]).toEqual(["f32", "q8_0"]);
    for (const r of [f32, q8]) {
      expect(Object.keys(r.byThreads)).toEqual(["1", "2"]);
      expect(r.tokensPerS).toBe(Math.max(...Object.values(r.byThreads)));
      expect(r.byThreads[String(r.threads)]).toBe(r.tokensPerS);
    }
    expect(report.ratioToLlamaCppQ8_0).toBeCloseTo(report.tokensPerS / q8.tokensPerS, 1);
    expect(report.ratioToLlamaCppF32).toBeCloseTo(report.float32SameRunTokensPerS / f32.tokensPerS, 1);
    expect(report.tensorsLeaked).toBe(0);
  }, 300_000);

  it("refuses --sample with --llama-cpp (the comparison is greedy)", async () => {
    const ctx = captureContext();
    expect(await runGenerateBench(["--llama-cpp", "--sample"], ctx)).toBe(2);
    expect(ctx.err()).toContain("leave out --sample");
  });
});
