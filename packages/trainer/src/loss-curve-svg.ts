import { isEvalMetrics, type MetricsEntry } from "./metrics-log.js";

export interface LossCurveOptions {
  title?: string;
  width?: number;
  height?: number;
}

const MARGIN = { left: 60, right: 20, top: 36, bottom: 44 };

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Up to ~6 round tick values covering [min, max]. */
function ticks(min: number, max: number): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A self-contained SVG of training loss (line) and eval loss (dots) against the optimizer step. */
export function renderLossCurveSvg(entries: readonly MetricsEntry[], options: LossCurveOptions = {}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 400;
  const train = entries.filter((e) => !isEvalMetrics(e) && Number.isFinite(e.loss));
  const evals = entries.filter((e) => isEvalMetrics(e) && Number.isFinite(e.loss));
  const all = [...train, ...evals];
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(options.title ?? "Loss")}</text>`,
  ];
  if (all.length === 0) {
    parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle">no steps logged yet</text>`, "</svg>");
    return parts.join("\n");
  }
  const steps = all.map((e) => e.step);
  const losses = all.map((e) => e.loss);
  const xMin = Math.min(0, ...steps);
  const xMax = Math.max(xMin + 1, ...steps);
  let yMin = Math.min(...losses);
  let yMax = Math.max(...losses);
  if (yMax - yMin < 1e-9) {
    yMin -= 0.5;
    yMax += 0.5;
  }
  const pad = (yMax - yMin) * 0.05;
  yMin -= pad;
  yMax += pad;
  const x = (step: number) => MARGIN.left + ((step - xMin) / (xMax - xMin)) * plotW;
  const y = (loss: number) => MARGIN.top + (1 - (loss - yMin) / (yMax - yMin)) * plotH;
  const f = (v: number) => v.toFixed(1);
  parts.push(`<g stroke="#ccc" stroke-width="1">`);
  for (const t of ticks(yMin, yMax))
    parts.push(`<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${f(y(t))}" y2="${f(y(t))}"/>`);
  parts.push("</g>", '<g fill="#333">');
  for (const t of ticks(yMin, yMax))
    parts.push(`<text x="${MARGIN.left - 6}" y="${f(y(t) + 4)}" text-anchor="end">${t}</text>`);
  for (const t of ticks(xMin, xMax).filter(Number.isInteger))
    parts.push(`<text x="${f(x(t))}" y="${height - MARGIN.bottom + 16}" text-anchor="middle">${t}</text>`);
  parts.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 8}" text-anchor="middle">optimizer step</text>`,
    `<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">loss</text>`,
    "</g>",
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
  );
  if (train.length) {
    // One path vertex per logged training step: M to the first, L to each next.
    const d = train.map((e, i) => `${i === 0 ? "M" : "L"}${f(x(e.step))},${f(y(e.loss))}`).join(" ");
    parts.push(`<path class="train-loss" fill="none" stroke="#1f77b4" stroke-width="1.5" d="${d}"/>`);
  }
  for (const e of evals)
    parts.push(`<circle class="eval-loss" cx="${f(x(e.step))}" cy="${f(y(e.loss))}" r="3.5" fill="#d62728"/>`);
  parts.push(
    `<g font-size="11"><line x1="${width - 150}" x2="${width - 130}" y1="${MARGIN.top + 12}" y2="${MARGIN.top + 12}" stroke="#1f77b4" stroke-width="2"/>`,
    `<text x="${width - 125}" y="${MARGIN.top + 16}">train loss</text>`,
    evals.length
      ? `<circle cx="${width - 140}" cy="${MARGIN.top + 28}" r="3.5" fill="#d62728"/><text x="${width - 125}" y="${MARGIN.top + 32}">eval loss</text>`
      : "",
    "</g>",
    "</svg>",
  );
  return parts.join("\n");
}
