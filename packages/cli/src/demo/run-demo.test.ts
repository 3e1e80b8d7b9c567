import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseDemoOptions } from "./demo-options.js";
import { runDemo } from "./run-demo.js";

const outDir = mkdtempSync(join(tmpdir(), "llamats-demo-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("llamats demo --quick", () => {
  it("fine-tunes the embedded base, prints scores before and after, writes the adapter and metrics", async () => {
    let printed = "";
    const options = parseDemoOptions(["--quick", "--backend", "wasm", "--out", outDir], process.cwd());
    const result = await runDemo(options, (text) => (printed += text), new AbortController().signal);

    expect(printed).toMatch(/before\s+exact match/);
    expect(printed).toMatch(/after\s+exact match/);
    expect(printed).toContain("token accuracy");
    expect(printed).toContain("llamats chat");
    expect(Number.isFinite(result.before.loss) && Number.isFinite(result.after.loss)).toBe(true);
    for (const file of [
      "adapter_model.safetensors",
      "adapter_config.json",
      "metrics.jsonl",
      "loss_curve.svg",
      "held-out-results.json",
    ]) {
      expect(existsSync(join(outDir, file)), file).toBe(true);
    }
    const metrics = readFileSync(join(outDir, "metrics.jsonl"), "utf8").trim().split("\n");
    expect(metrics.length).toBeGreaterThanOrEqual(options.steps);
  }, 120_000);
});

describe("parseDemoOptions", () => {
  it("defaults to ./llamats-demo-out and auto, and --quick lowers the steps", () => {
    const full = parseDemoOptions([], "/home/me");
    expect(full.outDir).toBe("/home/me/llamats-demo-out");
    expect(full.backend).toBe("auto");
    expect(parseDemoOptions(["--quick"], "/x").steps).toBeLessThan(full.steps);
    expect(() => parseDemoOptions(["--steps", "0"], "/x")).toThrow(/--steps/);
  });
});
