import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseDemoOptions } from "./demo-options.js";
import { runDemo } from "./run-demo.js";

const outDir = mkdtempSync(join(tmpdir(), "llamats-demo-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("llamats demo, test-sized", () => {
  it("fine-tunes the embedded base: the held-out score improves; it writes the adapter and metrics", async () => {
    let printed = "";
    // 60 steps learn the answer forms; 2 held-out items a family, so a closed-set family's two classes are both asked.
    const options = {
      ...parseDemoOptions(["--quick", "--steps", "60", "--backend", "wasm", "--out", outDir], process.cwd()),
      heldOutPerFamily: 2,
    };
    const result = await runDemo(options, (text) => (printed += text), new AbortController().signal);

    expect(result.after.exactMatch, printed).toBeGreaterThan(result.before.exactMatch);
    expect(result.after.tokenAccuracy, printed).toBeGreaterThan(result.before.tokenAccuracy);
    expect(result.after.loss, printed).toBeLessThan(result.before.loss);
    expect(printed).toMatch(/before\s+exact match\s+\S+ \(\d+\/16\)/);
    expect(printed).toMatch(/after\s+exact match/);
    expect(printed).toContain("llamats chat");
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
  }, 180_000);
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
