import { isLocalPath, isRepoId } from "@llamats/core";
import type { CardFacts } from "./card-facts.js";

/** A Hub id goes into the card's metadata; a local folder is only named in the text (the Hub rejects it there). */
function hubId(ref: string | undefined): string | undefined {
  return ref && !isLocalPath(ref) && isRepoId(ref) && ref.includes("/") ? ref : undefined;
}

function link(ref: string, kind: "model" | "dataset" = "model"): string {
  const id = hubId(ref);
  return id ? `[${id}](https://huggingface.co/${kind === "dataset" ? "datasets/" : ""}${id})` : `\`${ref}\``;
}

function frontMatter(facts: CardFacts): string {
  const base = hubId(facts.baseModel);
  const dataset = facts.training?.dataset.source === "hub" ? hubId(facts.training.dataset.name) : undefined;
  const lines = ["---"];
  if (base) lines.push(`base_model: ${base}`);
  lines.push(`library_name: ${facts.kind === "adapter" ? "peft" : "transformers"}`);
  if (facts.license) lines.push(`license: ${facts.license}`);
  lines.push("pipeline_tag: text-generation", "tags:");
  if (facts.kind === "adapter" && base) lines.push(`- base_model:adapter:${base}`);
  const kindTags = { adapter: ["- peft", "- lora"], merged: ["- lora", "- merged"], full: ["- fine-tuned"] };
  lines.push(...kindTags[facts.kind], "- llamats");
  if (dataset) lines.push("datasets:", `- ${dataset}`);
  lines.push("---");
  return lines.join("\n");
}

function round(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(4).replace(/\.?0+$/, "");
}

function trainingTable(facts: CardFacts): string[] {
  const t = facts.training;
  const rows: [string, string][] = [];
  if (t) {
    const data = t.dataset;
    const picked = data.data_files?.length
      ? `, files ${data.data_files.join(", ")}`
      : data.split
        ? `, split ${data.split}`
        : "";
    rows.push([
      "data",
      `${link(data.name, "dataset")}${picked}: ${data.train_examples} training / ${data.val_examples} validation examples (${data.format})`,
    ]);
    rows.push([
      "prompt template, cutoff",
      `${t.template}, ${t.cutoff_len} tokens${t.train_on_inputs ? "" : ", loss on responses only"}`,
    ]);
    rows.push(["method", t.method === "lora" ? "LoRA" : "full fine-tuning"]);
    const warmup =
      t.warmup_ratio !== undefined && t.warmup_steps === 0
        ? `warmup ratio ${t.warmup_ratio}`
        : `${t.warmup_steps} warmup steps`;
    rows.push(["learning rate", `${round(t.learning_rate)} (${t.lr_scheduler} schedule, ${warmup})`]);
    const length = t.max_steps > 0 ? `${t.max_steps} optimizer steps (max_steps)` : `${round(t.epochs)} epochs`;
    rows.push(["length", `${length}${facts.steps !== undefined ? `; ${facts.steps} steps done` : ""}`]);
    rows.push([
      "batch size",
      `${t.batch_size} (micro-batch ${t.micro_batch_size} × ${t.batch_size / t.micro_batch_size} accumulation)`,
    ]);
    rows.push([
      "optimizer",
      `AdamW, weight decay ${round(t.weight_decay)}, gradient clipping ${round(t.max_grad_norm)}`,
    ]);
    rows.push(["seed, backend", `${t.seed}, ${t.backend}`]);
  }
  const lora = facts.lora;
  if (lora) {
    rows.push([
      "LoRA rank / alpha / dropout",
      `${lora.r} / ${round(lora.alpha)} / ${round(lora.dropout)}${lora.rslora ? " (rsLoRA)" : ""}`,
    ]);
    rows.push(["target modules", lora.targetModules.join(", ")]);
  }
  if (rows.length === 0) return [];
  return ["| setting | value |", "| --- | --- |", ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, "\\|")} |`)];
}

function results(facts: CardFacts): string[] {
  const lines: string[] = [];
  if (facts.finalTrainLoss)
    lines.push(`- final training loss: ${facts.finalTrainLoss.loss.toFixed(4)} (step ${facts.finalTrainLoss.step})`);
  if (facts.finalEval)
    lines.push(
      `- final evaluation loss: ${facts.finalEval.loss.toFixed(4)}, perplexity ${facts.finalEval.perplexity.toFixed(2)} (step ${facts.finalEval.step})`,
    );
  if (facts.lossCurve) lines.push("", "![Training and evaluation loss](loss_curve.svg)");
  return lines;
}

function usage(facts: CardFacts): string[] {
  const base = facts.baseModel ?? "<base model>";
  const repo = facts.repo;
  if (facts.kind !== "adapter")
    return [
      "```sh",
      `llamats generate ${repo} --prompt "Tell me about alpacas."`,
      "```",
      "",
      "```python",
      "from transformers import AutoModelForCausalLM, AutoTokenizer",
      `model = AutoModelForCausalLM.from_pretrained("${repo}")`,
      `tokenizer = AutoTokenizer.from_pretrained("${repo}")`,
      "```",
    ];
  return [
    "With llamats:",
    "",
    "```sh",
    `llamats generate ${base} --adapter ${repo} --prompt "Tell me about alpacas."`,
    "```",
    "",
    "```ts",
    'import { LlamaForCausalLM } from "@llamats/llama-model";',
    'import { PeftModel } from "@llamats/peft-lora";',
    `const base = await LlamaForCausalLM.fromPretrained("${base}");`,
    `const model = await PeftModel.fromPretrained(base, "${repo}");`,
    "```",
    "",
    "With PEFT (Python):",
    "",
    "```python",
    "from peft import PeftModel",
    "from transformers import AutoModelForCausalLM, AutoTokenizer",
    `base = AutoModelForCausalLM.from_pretrained("${base}")`,
    `model = PeftModel.from_pretrained(base, "${repo}")`,
    `tokenizer = AutoTokenizer.from_pretrained("${base}")`,
    "```",
  ];
}

/** A model card in the spirit of PEFT's: metadata for the Hub, how the model was trained, its losses, and usage. */
export function renderModelCard(facts: CardFacts): string {
  const base = facts.baseModel ? link(facts.baseModel) : undefined;
  const what =
    facts.kind === "adapter"
      ? `A LoRA adapter${base ? ` for ${base}` : ""}`
      : facts.kind === "full"
        ? `${base ? `${base}, fully fine-tuned` : "A fully fine-tuned model"}`
        : `${base ?? "A model"} with ${facts.adapter ? `the LoRA adapter ${link(facts.adapter)}` : "a LoRA adapter"} merged into its weights`;
  const data = facts.training ? `, fine-tuned on ${link(facts.training.dataset.name, "dataset")}` : "";
  const table = trainingTable(facts);
  const outcome = results(facts);
  const sections = [
    frontMatter(facts),
    "",
    `# ${facts.repo}`,
    "",
    `${what}${data}, made with [llamats](https://github.com/llamats/llamats) (LLaMA + LoRA on TensorFlow.js).`,
    ...(table.length ? ["", "## Training", "", ...table] : []),
    ...(outcome.length ? ["", "## Results", "", ...outcome] : []),
    "",
    "## Usage",
    "",
    ...usage(facts),
    "",
    "## Framework versions",
    "",
    `- llamats ${facts.training?.llamats_version ?? "(version not recorded)"}`,
    facts.kind === "adapter"
      ? "- PEFT adapter format (adapter_config.json + adapter_model.safetensors)"
      : "- transformers model format (config.json + model.safetensors)",
    "",
  ];
  return sections.join("\n");
}
