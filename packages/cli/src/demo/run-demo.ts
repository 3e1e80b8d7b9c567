import { join } from "node:path";
import { registerGradients, writeFileAtomic } from "@llamats/core";
import { getTemplate, renderTextPrompt, seededRandom, tokenizeForTraining } from "@llamats/instruct-data";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { getPeftModel } from "@llamats/peft-lora";
import { loadTokenizer } from "@llamats/tokenizer";
import { formatProgressLine, fullTrainable, loraTrainable, train } from "@llamats/trainer";
import { startBackend } from "../start-backend.js";
import { locateDemoAssets } from "./demo-assets.js";
import { interleaveFamilies, readDemoItems, samplePerFamily, type DemoItem } from "./demo-data.js";
import type { DemoOptions } from "./demo-options.js";
import { formatPerFamily, formatScore, formatSideBySide, nextStepsText } from "./demo-report.js";
import { scoreHeldOut } from "./held-out-score.js";

/** alpaca-lora's LoRA, widened to every projection: a 1.6 M-parameter base needs the capacity more than a 7B one. */
const DEMO_LORA = {
  r: 16,
  lora_alpha: 32,
  lora_dropout: 0,
  target_modules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  // A 3,000-word output layer trained with the adapter (PEFT's modules_to_save): a tiny base's head is too weak to
  // spell the new answers through low-rank updates alone. Saved in the adapter; `llamats chat --adapter` loads it.
  modules_to_save: ["lm_head"],
};
const LEARNING_RATE = 3e-3;
const MICRO_BATCH = 8;
const CUTOFF_LEN = 256;
// Shown: the first held-out item of two word-copying and two closed-set families (a fixed rule, not by outcome).
const SHOWN_FAMILIES = ["first_word", "reverse_list", "parity", "sentence_type"];

export interface DemoResult {
  before: { exactMatch: number; tokenAccuracy: number; loss: number };
  after: { exactMatch: number; tokenAccuracy: number; loss: number };
  outDir: string;
  seconds: number;
}

/** The embedded demo, end to end: load the tiny base, score it, LoRA-fine-tune it, score it again, save. */
export async function runDemo(
  options: DemoOptions,
  write: (text: string) => void,
  signal: AbortSignal,
): Promise<DemoResult> {
  const started = Date.now();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  const backend = await startBackend({
    backend: options.backend,
    wasmThreads: options.wasmThreads ?? 1,
    warn: options.warn ?? ((line) => write(`warning: ${line}\n`)),
  });
  await registerGradients();
  write(
    `llamats demo — LoRA fine-tuning of an embedded tiny LLaMA, offline (backend: ${backend.backend}; ${backend.reason})\n\n`,
  );

  const embedded = locateDemoAssets();
  const assets = { ...embedded, baseModelDir: options.baseModelDir ?? embedded.baseModelDir };
  const tokenizer = await loadTokenizer(assets.baseModelDir);
  const base = await LlamaForCausalLM.fromPretrained(assets.baseModelDir);
  const allHeldOut = await readDemoItems(assets.heldOutFile);
  const perFamily = options.heldOutPerFamily ?? (options.quick ? 1 : undefined);
  const heldOut = perFamily === undefined ? allHeldOut : samplePerFamily(allHeldOut, perFamily);
  const trainSet = await readDemoItems(assets.trainFile);
  const trainItems = interleaveFamilies(trainSet, seededRandom(options.seed));
  const template = getTemplate("alpaca");
  const promptOf = (item: DemoItem): string => renderTextPrompt(template, item.instruction, item.input);
  const tokenize = (item: DemoItem) => tokenizeForTraining(item, { tokenizer, template, cutoffLen: CUTOFF_LEN });
  const heldOutExamples = heldOut.map(tokenize);
  const padId = tokenizer.padTokenId ?? tokenizer.eosTokenId ?? 0;
  write(
    `base model: ${assets.baseModelDir}\n  LLaMA, ${base.config.numHiddenLayers} layers, hidden ${base.config.hiddenSize}, vocab ${base.config.vocabSize}; pretrained from scratch on the Brown Corpus (examples/pretrain-tiny-base)\n` +
      `data: ${trainSet.length} training instructions in ${new Set(trainSet.map((item) => item.family)).size} families, ${heldOut.length} held-out instructions (words and numbers never seen in training)\n\n`,
  );

  const scoreOptions = { tokenizer, items: heldOut, examples: heldOutExamples, promptOf, padId };
  write("Scoring the base model on the held-out instructions …\n");
  const before = await scoreHeldOut({ ...scoreOptions, generator: base, lossModel: fullTrainable(base) });
  write(`${formatScore("before", before.score)}   (${elapsed()})\n\n`);

  const peft = getPeftModel(base, DEMO_LORA, { seed: options.seed });
  const { trainable, total, percent } = peft.printTrainableParameters();
  write(
    `LoRA r=${DEMO_LORA.r} on ${DEMO_LORA.target_modules.join(", ")}, plus lm_head (modules_to_save): ${trainable.toLocaleString("en-US")} trainable of ${total.toLocaleString("en-US")} parameters (${percent.toFixed(2)}%)\n`,
  );
  write(`Fine-tuning for ${options.steps} steps of ${MICRO_BATCH} instructions …\n`);
  const summary = await train({
    model: loraTrainable(peft),
    trainData: trainItems.map(tokenize),
    evalData: heldOutExamples,
    outputDir: options.outDir,
    microBatchSize: MICRO_BATCH,
    maxSteps: options.steps,
    learningRate: LEARNING_RATE,
    lrScheduler: "cosine",
    warmupSteps: Math.min(10, Math.ceil(options.steps / 10)),
    seed: options.seed,
    // The data is already interleaved by family; keep that order so every stretch of steps sees every family.
    shuffle: false,
    padId,
    signal,
    onProgress: (p) => {
      if (p.step % 10 === 0 || p.step === p.totalSteps) write(`  ${formatProgressLine(p)}\n`);
    },
  });
  write(
    `  done: ${summary.steps} steps, final loss ${summary.finalLoss.toFixed(3)}, ${Math.round(summary.tokensPerSecond)} tok/s   (${elapsed()})\n\n`,
  );

  write("Scoring the fine-tuned model on the same held-out instructions …\n");
  const after = await scoreHeldOut({ ...scoreOptions, generator: peft, lossModel: peft });
  write(
    `${formatScore("before", before.score)}\n${formatScore("after", after.score)}\n\nPer family (exact match):\n${formatPerFamily(before.answers, after.answers)}\n\n`,
  );
  const shownIndexes = SHOWN_FAMILIES.map((family) => heldOut.findIndex((i) => i.family === family)).filter(
    (i) => i >= 0,
  );
  write(
    `Held-out examples:\n${formatSideBySide(
      shownIndexes.map((i) => before.answers[i]),
      shownIndexes.map((i) => after.answers[i]),
    )}\n\n`,
  );

  const results = {
    baseModel: assets.baseModelDir,
    backend: backend.backend,
    steps: summary.steps,
    lora: DEMO_LORA,
    learningRate: LEARNING_RATE,
    before: before.score,
    after: after.score,
    answers: heldOut.map((item, i) => ({
      ...item,
      before: before.answers[i].answer,
      after: after.answers[i].answer,
    })),
    seconds: (Date.now() - started) / 1000,
  };
  await writeFileAtomic(join(options.outDir, "held-out-results.json"), `${JSON.stringify(results, null, 2)}\n`);
  write(
    `Saved in ${options.outDir}:\n  adapter      ${join(options.outDir, "adapter_model.safetensors")} (+ adapter_config.json, PEFT format)\n` +
      `  loss curve   ${summary.lossCurvePath}\n  metrics      ${summary.metricsPath}\n  scores       ${join(options.outDir, "held-out-results.json")}\n\n`,
  );
  write(`${nextStepsText(assets.baseModelDir, options.outDir)}\n\nTotal time: ${elapsed()}\n`);
  base.dispose();
  return {
    before: { exactMatch: before.score.exactMatch, tokenAccuracy: before.score.tokenAccuracy, loss: before.score.loss },
    after: { exactMatch: after.score.exactMatch, tokenAccuracy: after.score.tokenAccuracy, loss: after.score.loss },
    outDir: options.outDir,
    seconds: results.seconds,
  };
}
