// transformers' generate() beside us in `bench generate --transformers`: bench-references/transformers_generate.py,
// a LlamaForCausalLM of the same shape (random init: a speed race, not the same weights), fp32, greedy, KV cache.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { pathExists } from "../path-exists.js";
import { benchReference } from "./bench-reference.js";
import type { ModelShape } from "./shape-options.js";

/** What the script printed (its best of `runs`), or why it did not run. */
export type TransformersResult =
  | {
      tokensPerS: number;
      device: string;
      deviceType: string;
      threads: number;
      torch: string;
      transformers: string;
      cudaPeakBytes: number | null;
      dtype: string;
      runs: number;
      weights: string;
    }
  | { skipped: string };

export interface TransformersRunOptions {
  shape: ModelShape;
  tieEmbeddings: boolean;
  promptTokens: number;
  newTokens: number;
  repeat: number;
  /** The script (default: the CLI's bench-references/transformers_generate.py), resolved against `cwd`. */
  script?: string;
  /** Pythons to try in turn; the first that runs the script wins (default python3, then /usr/bin/python3). */
  pythons?: readonly string[];
  cwd: string;
  signal: AbortSignal;
}

/** Why one python could not run the script, from its stderr. */
function whyNotRun(python: string, error: { code?: unknown; message: string }, stderr: string): string {
  const missing = /No module named '([\w.]+)'/.exec(stderr);
  if (missing) return `${python} has no ${missing[1]} (pip install torch transformers)`;
  if (error.code === "ENOENT") return `${python} was not found`;
  const last = stderr.trim().split("\n").pop();
  return `transformers_generate.py failed under ${python}: ${last || error.message}`;
}

function runOnce(python: string, args: string[], signal: AbortSignal): Promise<TransformersResult> {
  return new Promise((done) => {
    execFile(python, args, { signal, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) return done({ skipped: whyNotRun(python, error, `${stderr}`) });
      const line = `${stdout}`.trim().split("\n").pop() ?? "";
      try {
        const parsed = JSON.parse(line) as TransformersResult;
        if ("tokensPerS" in parsed && typeof parsed.tokensPerS === "number") return done(parsed);
      } catch {
        // Falls through to the message below.
      }
      done({ skipped: `transformers_generate.py printed no JSON result (${line.slice(0, 200)})` });
    });
  });
}

/** Runs the transformers peer; never throws: a missing python, torch or transformers comes back as `skipped`. */
export async function runTransformersGenerate(options: TransformersRunOptions): Promise<TransformersResult> {
  const script = options.script ? resolve(options.cwd, options.script) : benchReference("transformers_generate.py");
  if (script === null || !(await pathExists(script)))
    return {
      skipped: `${script ?? "bench-references/transformers_generate.py"} was not found (give --transformers-script)`,
    };
  const { shape } = options;
  const args = [
    script,
    ...Object.entries({
      dim: shape.dim,
      layers: shape.layers,
      heads: shape.heads,
      "kv-heads": shape.kvHeads,
      ffn: shape.ffn,
      vocab: shape.vocab,
      "prompt-tokens": options.promptTokens,
      "new-tokens": options.newTokens,
      repeat: options.repeat,
    }).flatMap(([key, value]) => [`--${key}`, String(value)]),
    ...(options.tieEmbeddings ? ["--tie-embeddings"] : []),
  ];
  const reasons: string[] = [];
  // pyenv's python3 often lacks what Debian's /usr/bin/python3 has.
  for (const python of options.pythons ?? ["python3", "/usr/bin/python3"]) {
    const result = await runOnce(python, args, options.signal);
    if ("tokensPerS" in result) return result;
    reasons.push(result.skipped);
    if (options.signal.aborted) break;
  }
  return { skipped: reasons.join("; ") };
}
