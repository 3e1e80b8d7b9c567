import { ConfigError } from "@llamats/core";
import { kMeans, silhouetteScore } from "./kmeans.js";
import { tfidfVectors, type SparseVector } from "./tfidf.js";

export interface InstructionCluster {
  id: number;
  /** The centroid's strongest terms, joined: a name a person can read. */
  label: string;
  topTerms: string[];
  size: number;
  /** The instructions nearest the centroid. */
  examples: string[];
  /** Input indices of every member. */
  members: number[];
}

export interface ClusterInstructionsOptions {
  /** A number of clusters, or 'auto' (best silhouette over a range; default). */
  k?: number | "auto";
  /** Largest k tried by 'auto' (default min(30, √n + 2)). */
  maxK?: number;
  examplesPerCluster?: number;
  seed?: number;
  maxFeatures?: number;
}

export interface InstructionClustering {
  k: number;
  /** Silhouette of the chosen clustering (cosine, sampled), when computed. */
  silhouette: number | null;
  clusters: InstructionCluster[];
}

function dotDense(x: SparseVector, c: Float64Array): number {
  let s = 0;
  x.indices.forEach((i, j) => (s += (x.values[j] as number) * (c[i] as number)));
  return s;
}

/** Groups instructions into task clusters: TF-IDF vectors, k-means, labels from centroid terms. */
export function clusterInstructions(
  instructions: readonly string[],
  options: ClusterInstructionsOptions = {},
): InstructionClustering {
  if (instructions.length === 0) return { k: 0, silhouette: null, clusters: [] };
  const { terms, vectors } = tfidfVectors(instructions, { maxFeatures: options.maxFeatures });
  const seed = options.seed ?? 0;
  let chosen;
  let silhouette: number | null = null;
  if (options.k === undefined || options.k === "auto") {
    const maxK = Math.min(
      options.maxK ?? Math.min(30, Math.floor(Math.sqrt(instructions.length)) + 2),
      instructions.length - 1,
    );
    if (maxK < 2) {
      chosen = kMeans(vectors, { k: 1, dimension: terms.length, seed });
    } else {
      for (let k = 2; k <= maxK; k++) {
        const result = kMeans(vectors, { k, dimension: terms.length, seed });
        const score = silhouetteScore(vectors, result.assignments, k, { seed });
        if (silhouette === null || score > silhouette) {
          silhouette = score;
          chosen = result;
        }
      }
    }
  } else {
    if (!Number.isInteger(options.k) || options.k < 1)
      throw new ConfigError(`k must be a positive integer or 'auto', found ${options.k}`, { key: "k" });
    chosen = kMeans(vectors, { k: options.k, dimension: terms.length, seed });
  }
  const result = chosen as NonNullable<typeof chosen>;
  const clusters: InstructionCluster[] = result.centroids.map((centroid, id) => {
    const members: number[] = [];
    result.assignments.forEach((c, i) => c === id && members.push(i));
    const topTerms = Array.from(centroid.keys())
      .sort((a, b) => (centroid[b] as number) - (centroid[a] as number))
      .slice(0, 5)
      .filter((i) => (centroid[i] as number) > 0)
      .map((i) => terms[i] as string);
    const examples = members
      .map((i) => ({ i, s: dotDense(vectors[i] as SparseVector, centroid) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, options.examplesPerCluster ?? 3)
      .map(({ i }) => instructions[i] as string);
    return {
      id,
      label: topTerms.slice(0, 3).join(" / ") || "(no terms)",
      topTerms,
      size: members.length,
      examples,
      members,
    };
  });
  clusters.sort((a, b) => b.size - a.size);
  return { k: result.k, silhouette, clusters: clusters.filter((c) => c.size > 0) };
}

/** A plain-text report of a clustering: one block per cluster with its label, size and examples. */
export function formatClusterReport(clustering: InstructionClustering, total: number): string {
  const lines = [
    `${clustering.clusters.length} task clusters over ${total} instructions${clustering.silhouette !== null ? ` (silhouette ${clustering.silhouette.toFixed(3)})` : ""}`,
    "",
  ];
  for (const cluster of clustering.clusters) {
    lines.push(`## ${cluster.label} — ${cluster.size} (${((100 * cluster.size) / Math.max(1, total)).toFixed(1)}%)`);
    lines.push(`terms: ${cluster.topTerms.join(", ")}`);
    for (const example of cluster.examples) lines.push(`  - ${example.replace(/\s+/g, " ").slice(0, 160)}`);
    lines.push("");
  }
  return lines.join("\n");
}
