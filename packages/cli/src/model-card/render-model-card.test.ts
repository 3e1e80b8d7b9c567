import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FormatError } from "@llamats/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatherCardFacts, licenseFromCard } from "./card-facts.js";
import { renderModelCard } from "./render-model-card.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "llamats-card-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("model card", () => {
  it("reads the license from a card's front matter only", () => {
    expect(licenseFromCard('---\ntags: [x]\nlicense: "llama2"\n---\n# Llama')).toBe("llama2");
    expect(licenseFromCard("---\nlicense: apache-2.0 # comment\n---\n")).toBe("apache-2.0");
    expect(licenseFromCard("# no front matter\nlicense: mit\n")).toBeUndefined();
  });

  it("keeps local paths out of the metadata (the Hub rejects them) and names them in the text", () => {
    const card = renderModelCard({
      repo: "user/full",
      kind: "full",
      baseModel: "./my-base",
      lossCurve: false,
      training: {
        format: "llamats-training-args",
        version: 1,
        base_model: "./my-base",
        method: "full",
        dataset: {
          name: "./data.json",
          source: "local",
          split: "train",
          format: "alpaca",
          train_examples: 10,
          val_examples: 0,
        },
        template: "alpaca",
        cutoff_len: 512,
        train_on_inputs: false,
        learning_rate: 2e-5,
        lr_scheduler: "cosine",
        warmup_steps: 0,
        warmup_ratio: 0.03,
        weight_decay: 0,
        max_grad_norm: 1,
        micro_batch_size: 4,
        batch_size: 128,
        epochs: 3,
        max_steps: 0,
        seed: 42,
        backend: "webgpu",
      },
    });
    const front = card.split("\n---\n")[0];
    expect(front).not.toMatch(/base_model|datasets/);
    expect(front).toContain("library_name: transformers");
    expect(card).toContain("`./my-base`, fully fine-tuned, fine-tuned on `./data.json`");
    expect(card).toContain("| learning rate | 0.00002 (cosine schedule, warmup ratio 0.03) |");
    expect(card).toContain("| length | 3 epochs |");
    expect(card).toContain("| prompt template, cutoff | alpaca, 512 tokens, loss on responses only |");
    expect(card).toContain('AutoModelForCausalLM.from_pretrained("user/full")');
    expect(card).not.toContain("## Results");
    expect(card).toContain("- llamats (version not recorded)");
  });

  it("works from a bare adapter folder and rejects a training_args.json that is not llamats'", async () => {
    await writeFile(
      join(dir, "adapter_config.json"),
      JSON.stringify({ r: 4, lora_alpha: 8, target_modules: "q_proj", base_model_name_or_path: dir }),
    );
    const facts = await gatherCardFacts({ dir, repo: "user/a", kind: "adapter", hub: { offline: true } });
    expect(facts).toMatchObject({ baseModel: dir, lora: { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj"] } });
    expect(facts.training).toBeUndefined();
    expect(renderModelCard(facts)).toContain("| LoRA rank / alpha / dropout | 4 / 8 / 0 |");
    await writeFile(join(dir, "training_args.json"), '{"learning_rate": 1}');
    const error = await gatherCardFacts({ dir, repo: "user/a", kind: "adapter", hub: { offline: true } }).catch(
      (e: unknown) => e,
    );
    expect(FormatError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(join(dir, "training_args.json"));
    await rm(join(dir, "training_args.json"));
    await writeFile(join(dir, "metrics.jsonl"), '{"step": 1, "loss": 2}\n{"step": 2, "lo');
    await expect(gatherCardFacts({ dir, repo: "user/a", kind: "adapter", hub: { offline: true } })).rejects.toThrow(
      /metrics\.jsonl: cannot read it for the model card/,
    );
  });
});
