import { describe, expect, it } from "vitest";
import { renderLossCurveSvg } from "./loss-curve-svg.js";
import type { EvalMetrics, MetricsEntry, StepMetrics } from "./metrics-log.js";
import { checkWellFormedXml, pathVertices, type XmlElement } from "./test-support/xml-check.js";

const stepEntry = (step: number, loss: number): StepMetrics => ({
  step,
  epoch: 0,
  loss,
  lr: 1e-3,
  grad_norm: 1,
  tokens: 10,
  input_tokens: 12,
  tokens_per_s: 100,
  elapsed_s: step,
});
const evalEntry = (step: number, loss: number): EvalMetrics => ({
  step,
  eval: true,
  loss,
  perplexity: Math.exp(loss),
  tokens: 20,
});

function trainPath(elements: XmlElement[]): { x: number; y: number }[] {
  const paths = elements.filter((e) => e.name === "path" && e.attributes.class === "train-loss");
  expect(paths).toHaveLength(1);
  return pathVertices(paths[0].attributes.d);
}

describe("renderLossCurveSvg", () => {
  it("is a well-formed SVG whose train-loss path has one vertex per logged step, in step order, higher loss higher up", () => {
    const losses = [2.5, 2.1, 2.3, 1.7, 1.2, 1.25, 0.9];
    const entries: MetricsEntry[] = losses.map((loss, i) => stepEntry(i + 1, loss));
    entries.splice(4, 0, evalEntry(4, 1.9));
    entries.push(evalEntry(7, 1.4));
    const elements = checkWellFormedXml(renderLossCurveSvg(entries, { title: 'Loss <run & "a">' }));
    expect(elements[0].name).toBe("svg");
    expect(elements[0].attributes.xmlns).toBe("http://www.w3.org/2000/svg");
    const vertices = trainPath(elements);
    expect(vertices).toHaveLength(losses.length);
    for (let i = 1; i < vertices.length; i++) {
      expect(vertices[i].x).toBeGreaterThan(vertices[i - 1].x);
      // SVG y grows downwards: a larger loss sits higher (smaller y).
      expect(Math.sign(vertices[i - 1].y - vertices[i].y)).toBe(Math.sign(losses[i] - losses[i - 1]));
    }
    expect(elements.filter((e) => e.name === "circle" && e.attributes.class === "eval-loss")).toHaveLength(2);
  });

  it("escapes the title and stays well-formed with a single step, a flat loss, or nothing logged", () => {
    for (const entries of [[stepEntry(1, 3)], [stepEntry(1, 2), stepEntry(2, 2), stepEntry(3, 2)]]) {
      const elements = checkWellFormedXml(renderLossCurveSvg(entries, { title: "<&>" }));
      expect(trainPath(elements)).toHaveLength(entries.length);
    }
    const empty = renderLossCurveSvg([], { title: "a & b" });
    expect(checkWellFormedXml(empty).some((e) => e.name === "path")).toBe(false);
    expect(empty).toContain("a &amp; b");
  });

  it("leaves a step with a non-finite loss out of the path rather than writing NaN", () => {
    const svg = renderLossCurveSvg([stepEntry(1, 2), stepEntry(2, Number.NaN), stepEntry(3, 1)]);
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(trainPath(checkWellFormedXml(svg)).length).toBe(2);
  });
});
