import { seededRandom } from "../util/seeded-random.js";
import type { SparseVector } from "./tfidf.js";

export interface KMeansResult {
  k: number;
  assignments: Int32Array;
  centroids: Float64Array[];
  /** Sum of squared distances to the assigned centroids. */
  inertia: number;
}

function dot(x: SparseVector, centroid: Float64Array): number {
  let sum = 0;
  for (let j = 0; j < x.indices.length; j++)
    sum += (x.values[j] as number) * (centroid[x.indices[j] as number] as number);
  return sum;
}

function squaredNorm(v: Float64Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return s;
}

// ||x − c||² for unit-length x: 1 − 2 x·c + ||c||².
function distance2(x: SparseVector, c: Float64Array, cNorm2: number): number {
  const xNorm2 = x.values.reduce((s, v) => s + v * v, 0);
  return Math.max(0, xNorm2 - 2 * dot(x, c) + cNorm2);
}

/** k-means (k-means++ seeding, Lloyd iterations) on sparse vectors with `dimension` features; seeded. */
export function kMeans(
  vectors: readonly SparseVector[],
  options: { k: number; dimension: number; seed?: number; maxIterations?: number },
): KMeansResult {
  const { dimension } = options;
  const n = vectors.length;
  const k = Math.max(1, Math.min(options.k, n));
  const random = seededRandom(options.seed ?? 0);
  const dense = (x: SparseVector) => {
    const c = new Float64Array(dimension);
    x.indices.forEach((i, j) => (c[i] = x.values[j] as number));
    return c;
  };
  const centroids: Float64Array[] = [dense(vectors[Math.floor(random() * n)] as SparseVector)];
  const nearest = new Float64Array(n).fill(Infinity);
  while (centroids.length < k) {
    const last = centroids[centroids.length - 1] as Float64Array;
    const lastNorm = squaredNorm(last);
    let total = 0;
    for (let i = 0; i < n; i++) {
      nearest[i] = Math.min(nearest[i] as number, distance2(vectors[i] as SparseVector, last, lastNorm));
      total += nearest[i] as number;
    }
    let target = random() * total;
    let chosen = n - 1;
    for (let i = 0; i < n; i++) {
      target -= nearest[i] as number;
      if (target <= 0) {
        chosen = i;
        break;
      }
    }
    centroids.push(dense(vectors[chosen] as SparseVector));
  }
  const assignments = new Int32Array(n).fill(-1);
  let inertia = 0;
  for (let iteration = 0; iteration < (options.maxIterations ?? 50); iteration++) {
    const norms = centroids.map(squaredNorm);
    let changed = 0;
    inertia = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestDistance = Infinity;
      for (let c = 0; c < k; c++) {
        const d = distance2(vectors[i] as SparseVector, centroids[c] as Float64Array, norms[c] as number);
        if (d < bestDistance) {
          bestDistance = d;
          best = c;
        }
      }
      if (assignments[i] !== best) changed++;
      assignments[i] = best;
      inertia += bestDistance;
    }
    if (changed === 0) break;
    const sizes = new Int32Array(k);
    for (const c of centroids) c.fill(0);
    for (let i = 0; i < n; i++) {
      const c = centroids[assignments[i] as number] as Float64Array;
      sizes[assignments[i] as number] = (sizes[assignments[i] as number] as number) + 1;
      const x = vectors[i] as SparseVector;
      x.indices.forEach((index, j) => (c[index] = (c[index] as number) + (x.values[j] as number)));
    }
    centroids.forEach((c, ci) => {
      // An emptied cluster restarts at a random point.
      if (sizes[ci] === 0) c.set(dense(vectors[Math.floor(random() * n)] as SparseVector));
      else for (let d = 0; d < dimension; d++) c[d] = (c[d] as number) / (sizes[ci] as number);
    });
  }
  return { k, assignments, centroids, inertia };
}

/** Mean silhouette (cosine distance) of a clustering over a sample of the points, in [-1, 1]. */
export function silhouetteScore(
  vectors: readonly SparseVector[],
  assignments: Int32Array,
  k: number,
  options: { sample?: number; seed?: number } = {},
): number {
  const n = vectors.length;
  const random = seededRandom(options.seed ?? 1);
  const sampleSize = Math.min(n, options.sample ?? 600);
  const sample = Array.from({ length: sampleSize }, (_, i) => (sampleSize === n ? i : Math.floor(random() * n)));
  const cosine = (a: SparseVector, b: SparseVector) => {
    let s = 0;
    let i = 0;
    let j = 0;
    while (i < a.indices.length && j < b.indices.length) {
      const ai = a.indices[i] as number;
      const bj = b.indices[j] as number;
      if (ai === bj) s += (a.values[i++] as number) * (b.values[j++] as number);
      else if (ai < bj) i++;
      else j++;
    }
    return 1 - s;
  };
  let total = 0;
  for (const p of sample) {
    const sums = new Float64Array(k);
    const counts = new Int32Array(k);
    for (const q of sample) {
      if (q === p) continue;
      const c = assignments[q] as number;
      sums[c] = (sums[c] as number) + cosine(vectors[p] as SparseVector, vectors[q] as SparseVector);
      counts[c] = (counts[c] as number) + 1;
    }
    const own = assignments[p] as number;
    if ((counts[own] as number) === 0) continue;
    const a = (sums[own] as number) / (counts[own] as number);
    let b = Infinity;
    for (let c = 0; c < k; c++)
      if (c !== own && (counts[c] as number) > 0) b = Math.min(b, (sums[c] as number) / (counts[c] as number));
    if (Number.isFinite(b)) total += (b - a) / Math.max(a, b, 1e-12);
  }
  return total / sampleSize;
}
