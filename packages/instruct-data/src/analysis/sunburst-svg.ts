import type { VerbNounAnalysis } from "./verb-noun.js";

export interface SunburstOptions {
  /** Verbs in the inner ring (default 20, as Alpaca's figure). */
  topVerbs?: number;
  /** Nouns per verb in the outer ring (default 4). */
  topNouns?: number;
  /** Width and height in pixels (default 800). */
  size?: number;
  title?: string;
}

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] as string,
  );
}

function arcPath(cx: number, cy: number, r0: number, r1: number, a0: number, end: number): string {
  // A full ring cannot be one SVG arc: stop just short of it.
  const a1 = Math.min(end, a0 + 2 * Math.PI - 1e-4);
  const large = a1 - a0 > Math.PI ? 1 : 0;
  const p = (r: number, a: number) => `${(cx + r * Math.sin(a)).toFixed(2)},${(cy - r * Math.cos(a)).toFixed(2)}`;
  return `M${p(r0, a0)} L${p(r1, a0)} A${r1},${r1} 0 ${large} 1 ${p(r1, a1)} L${p(r0, a1)} A${r0},${r0} 0 ${large} 0 ${p(r0, a0)} Z`;
}

function label(cx: number, cy: number, r: number, a0: number, a1: number, text: string, fontSize: number): string {
  const mid = (a0 + a1) / 2;
  const x = cx + r * Math.sin(mid);
  const y = cy - r * Math.cos(mid);
  // Radial text, flipped on the left half so it never reads upside down.
  let rotation = (mid * 180) / Math.PI - 90;
  if (mid > Math.PI) rotation += 180;
  return `<text x="${x.toFixed(2)}" y="${y.toFixed(2)}" font-size="${fontSize}" text-anchor="middle" dominant-baseline="middle" transform="rotate(${rotation.toFixed(1)} ${x.toFixed(2)} ${y.toFixed(2)})">${escapeXml(text)}</text>`;
}

/** A sunburst of verbs (inner ring) and their object nouns (outer ring) as a standalone SVG document. */
export function verbNounSunburstSvg(analysis: VerbNounAnalysis, options: SunburstOptions = {}): string {
  const size = options.size ?? 800;
  const cx = size / 2;
  const cy = size / 2 + 20;
  const radius = size / 2 - 30;
  const [r0, r1, r2] = [radius * 0.22, radius * 0.58, radius];
  const verbs = analysis.verbs
    .slice(0, options.topVerbs ?? 20)
    .map((v) => ({ ...v, nouns: v.nouns.slice(0, options.topNouns ?? 4) }));
  // Each verb's share is what its shown nouns count, as in Alpaca's figure.
  const weight = (v: (typeof verbs)[number]) => v.nouns.reduce((s, n) => s + n.count, 0) || v.count;
  const total = verbs.reduce((s, v) => s + weight(v), 0) || 1;
  const parts: string[] = [];
  let angle = 0;
  verbs.forEach((verb, i) => {
    const span = (2 * Math.PI * weight(verb)) / total;
    const hue = Math.round((360 * i) / Math.max(1, verbs.length));
    parts.push(
      `<path d="${arcPath(cx, cy, r0, r1, angle, angle + span)}" fill="hsl(${hue},60%,62%)" stroke="#fff"><title>${escapeXml(`${verb.verb}: ${verb.count}`)}</title></path>`,
    );
    if (span > 0.06) parts.push(label(cx, cy, (r0 + r1) / 2, angle, angle + span, verb.verb, 13));
    let nounAngle = angle;
    for (const noun of verb.nouns) {
      const nounSpan = (span * noun.count) / (weight(verb) || 1);
      parts.push(
        `<path d="${arcPath(cx, cy, r1, r2, nounAngle, nounAngle + nounSpan)}" fill="hsl(${hue},55%,80%)" stroke="#fff"><title>${escapeXml(`${verb.verb} ${noun.noun}: ${noun.count}`)}</title></path>`,
      );
      if (nounSpan > 0.035) parts.push(label(cx, cy, (r1 + r2) / 2, nounAngle, nounAngle + nounSpan, noun.noun, 10));
      nounAngle += nounSpan;
    }
    angle += span;
  });
  const title = options.title ?? `Verb–noun structure of ${analysis.parsed} of ${analysis.total} instructions`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size + 40}" viewBox="0 0 ${size} ${size + 40}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${cx}" y="22" font-size="16" text-anchor="middle">${escapeXml(title)}</text>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}
