import * as tf from "@tensorflow/tfjs-core";
import { ConfigError, FormatError, ShapeMismatchError, ValidationError } from "@llamats/core";
import type { GenerateOptions, LlamaForCausalLM, StreamedToken } from "@llamats/llama-model";
import {
  loadAdapterWeights,
  readAdapterConfigJson,
  resolveAdapterFiles,
  writeAdapterFiles,
  type ResolveAdapterOptions,
} from "./adapter-io.js";
import type { PeftLogger } from "./lora-config.js";
import { makeParameterReport, type TrainableParameterReport } from "./parameter-count.js";
import { createPromptTuningConfig, parsePromptTuningConfig, type PromptTuningConfig } from "./prompt-tuning-config.js";

/** The key PEFT saves the virtual-token embeddings under. */
export const PROMPT_EMBEDDINGS_KEY = "prompt_embeddings";

/** What TEXT initialization needs: ids of the init text as `tokenizer(text)["input_ids"]` gives them (BOS included). */
export interface PromptInitTokenizer {
  encode(text: string): number[];
}

export interface CreatePromptTuningOptions {
  /** Required for prompt_tuning_init "TEXT". */
  tokenizer?: PromptInitTokenizer;
  seed?: number;
}

type Ids = readonly (readonly number[])[] | tf.Tensor2D;

/** PEFT's trim-or-repeat of the init text's ids to the number of virtual tokens. */
export function promptInitTokenIds(textIds: readonly number[], count: number): number[] {
  if (textIds.length === 0)
    throw new ConfigError("prompt_tuning_init_text encodes to no tokens.", { key: "prompt_tuning_init_text" });
  const repeated: number[] = [];
  while (repeated.length < count) repeated.push(...textIds);
  return repeated.slice(0, count);
}

/**
 * Prompt tuning (PEFT's PROMPT_TUNING): `num_virtual_tokens` trainable embeddings put before every input;
 * the base model stays frozen. Saved as PEFT does: `prompt_embeddings` `[num_virtual_tokens, hidden]`.
 */
export class PromptTuningModel {
  private training = true;

  private constructor(
    readonly baseModel: LlamaForCausalLM,
    readonly config: PromptTuningConfig,
    /** `[num_virtual_tokens, hidden]`. */
    readonly promptEmbeddings: tf.Variable,
  ) {
    baseModel.setTrainable(() => false);
  }

  static create(
    model: LlamaForCausalLM,
    partial: Partial<PromptTuningConfig>,
    options: CreatePromptTuningOptions = {},
  ): PromptTuningModel {
    const config = withModelShape(createPromptTuningConfig(partial), model);
    const count = config.num_virtual_tokens * (config.num_transformer_submodules ?? 1);
    const initial = tf.tidy(() => {
      if (config.prompt_tuning_init === "RANDOM")
        return tf.randomNormal([count, config.token_dim!], 0, 1, "float32", options.seed);
      let ids: number[][] | tf.Tensor2D;
      if (config.prompt_tuning_init === "TEXT") {
        if (!options.tokenizer)
          throw new ConfigError('prompt_tuning_init "TEXT" needs a tokenizer (options.tokenizer).', {
            key: "tokenizer_name_or_path",
          });
        ids = [promptInitTokenIds(options.tokenizer.encode(config.prompt_tuning_init_text!), count)];
      } else {
        // Random vocabulary rows, drawn and looked up on the device.
        ids = tf.randomUniform<tf.Rank.R2>([1, count], 0, model.config.vocabSize, "int32", options.seed);
      }
      return tf.squeeze(model.embedTokens(ids), [0]);
    });
    const peft = new PromptTuningModel(model, config, tf.variable(initial, true));
    initial.dispose();
    return peft;
  }

  /** Loads a PEFT PROMPT_TUNING adapter (folder or Hub repo id). */
  static async fromPretrained(
    model: LlamaForCausalLM,
    dirOrRepo: string,
    options: ResolveAdapterOptions & { isTrainable?: boolean; logger?: PeftLogger } = {},
  ): Promise<PromptTuningModel> {
    const files = await resolveAdapterFiles(dirOrRepo, options);
    const json = await readAdapterConfigJson(files.configPath);
    if (json.peft_type !== "PROMPT_TUNING")
      throw new ConfigError(
        `${files.configPath}: peft_type is ${JSON.stringify(json.peft_type)}, not "PROMPT_TUNING".`,
        { key: "peft_type" },
      );
    const parsed = parsePromptTuningConfig(json, { file: files.configPath, logger: options.logger });
    const config = withModelShape({ ...parsed, inference_mode: !(options.isTrainable ?? false) }, model);
    const weights = await loadAdapterWeights(files.weightsPath);
    const tensor = weights.get(PROMPT_EMBEDDINGS_KEY);
    if (!tensor)
      throw new FormatError(
        `${files.weightsPath}: no "${PROMPT_EMBEDDINGS_KEY}" tensor; is this a prompt-tuning adapter?`,
        { file: files.weightsPath },
      );
    const want = [config.num_virtual_tokens * (config.num_transformer_submodules ?? 1), model.config.hiddenSize];
    if (tensor.shape.length !== 2 || tensor.shape[0] !== want[0] || tensor.shape[1] !== want[1]) {
      throw new ShapeMismatchError(
        `${files.weightsPath}: ${PROMPT_EMBEDDINGS_KEY} has shape [${tensor.shape.join(", ")}], but this base model needs [${want.join(", ")}].`,
        {
          tensor: PROMPT_EMBEDDINGS_KEY,
          expected: want,
          found: tensor.shape,
        },
      );
    }
    const values = tf.tensor2d(tensor.data, [want[0], want[1]]);
    const peft = new PromptTuningModel(model, config, tf.variable(values, options.isTrainable ?? false));
    values.dispose();
    if (!(options.isTrainable ?? false)) peft.eval();
    return peft;
  }

  /**
   * Logits `[batch, num_virtual_tokens + seq, vocab]` (virtual positions included, as PEFT returns them) and, with
   * labels, the loss; the mask is extended with ones and the labels with -100 over the virtual tokens.
   */
  forward(
    inputIds: Ids,
    options: { attentionMask?: readonly (readonly number[])[]; labels?: readonly (readonly number[])[] } = {},
  ): { logits: tf.Tensor3D; loss?: tf.Scalar } {
    const count = this.promptEmbeddings.shape[0];
    const virtualOnes = new Array<number>(count).fill(1);
    const attentionMask = options.attentionMask ? options.attentionMask.map((row) => [...virtualOnes, ...row]) : null;
    const labels = options.labels
      ? options.labels.map((row) => [...new Array<number>(count).fill(-100), ...row])
      : undefined;
    return tf.tidy(() => {
      const inputsEmbeds = this.withVirtualTokens(inputIds);
      const { logits, loss } = this.baseModel.forward(null, {
        inputsEmbeds,
        ...(attentionMask ? { attentionMask } : {}),
        ...(labels ? { labels } : {}),
      });
      return loss ? { logits, loss } : { logits };
    });
  }

  /** The variables PEFT saves, by key. */
  adapterVariables(): Map<string, tf.Variable> {
    return new Map([[PROMPT_EMBEDDINGS_KEY, this.promptEmbeddings]]);
  }

  trainableVariables(): tf.Variable[] {
    return this.promptEmbeddings.trainable ? [this.promptEmbeddings] : [];
  }

  trainableParameters(): TrainableParameterReport {
    const base = [...new Set(this.baseModel.namedParameters().values())].reduce((sum, v) => sum + v.size, 0);
    return makeParameterReport(
      this.promptEmbeddings.trainable ? this.promptEmbeddings.size : 0,
      base + this.promptEmbeddings.size,
    );
  }

  /** No dropout here; kept so trainers can call it on any adapter model. */
  train(): this {
    this.training = true;
    return this;
  }

  eval(): this {
    this.training = false;
    return this;
  }

  get isTraining(): boolean {
    return this.training;
  }

  async savePretrained(dir: string, options: { baseModelNameOrPath?: string } = {}): Promise<void> {
    const config: Record<string, unknown> = {
      ...this.config,
      inference_mode: true,
      base_model_name_or_path: options.baseModelNameOrPath ?? this.config.base_model_name_or_path,
    };
    const sorted = Object.fromEntries(
      Object.keys(config)
        .sort()
        .map((key) => [key, config[key]]),
    );
    const data = (await this.promptEmbeddings.data()) as Float32Array;
    await writeAdapterFiles({
      dir,
      config: sorted,
      tensors: new Map([[PROMPT_EMBEDDINGS_KEY, { shape: [...this.promptEmbeddings.shape], data }]]),
    });
  }

  /** Frees the virtual-token embeddings (the base model is left to its owner). */
  dispose(): void {
    this.promptEmbeddings.dispose();
  }

  /** `[batch, num_virtual_tokens + seq, hidden]`: the virtual tokens, then the rows' token embeddings. */
  private withVirtualTokens(ids: Ids): tf.Tensor3D {
    const [batch, seq] = ids instanceof tf.Tensor ? ids.shape : [ids.length, ids[0]?.length ?? 0];
    return tf.tidy(() => {
      const prompts = tf.tile(tf.expandDims(this.promptEmbeddings, 0), [batch, 1, 1]);
      return seq === 0
        ? (prompts as tf.Tensor3D)
        : (tf.concat([prompts, this.baseModel.embedTokens(ids)], 1) as tf.Tensor3D);
    });
  }

  /**
   * Generates as PEFT does for prompt tuning: the virtual tokens are prepended at prefill (before any left
   * padding), then the base model's KV cache decodes; returns prompt + new ids per row, virtual tokens excluded.
   */
  async generate(
    inputIds: readonly number[] | readonly (readonly number[])[],
    options: GenerateOptions,
  ): Promise<number[][]> {
    const { rows, attentionMask, padded } = leftPadded(inputIds, options);
    const inputsEmbeds = this.withVirtualTokens(rows);
    try {
      const out = await this.baseModel.generate(rows, {
        ...options,
        inputsEmbeds,
        ...(attentionMask ? { attentionMask } : {}),
      });
      return out.map((row, b) => row.slice(padded[b]));
    } finally {
      inputsEmbeds.dispose();
    }
  }

  /** Streams one prompt's new tokens (see generate). */
  async *generateStream(inputIds: readonly number[], options: GenerateOptions): AsyncGenerator<StreamedToken> {
    const inputsEmbeds = this.withVirtualTokens([inputIds]);
    try {
      yield* this.baseModel.generateStream(inputIds, { ...options, inputsEmbeds });
    } finally {
      inputsEmbeds.dispose();
    }
  }
}

/**
 * Prompts of one length for a prefill from embeddings: ragged rows are left-padded (pads masked out, and
 * stripped from the result again); rows already padded come with the caller's attentionMask.
 */
function leftPadded(inputIds: readonly number[] | readonly (readonly number[])[], options: GenerateOptions) {
  const rows = (
    typeof inputIds[0] === "number" ? [inputIds as readonly number[]] : (inputIds as readonly (readonly number[])[])
  ).map((r) => [...r]);
  if (rows.length === 0) throw new ValidationError("generate: give at least one prompt row.", { location: "inputIds" });
  const width = Math.max(...rows.map((r) => r.length));
  if (options.attentionMask || rows.every((r) => r.length === width))
    return { rows, attentionMask: options.attentionMask, padded: rows.map(() => 0) };
  // Any id will do under a 0 in the mask; the pad id keeps the embedding lookup in range.
  const padId = options.padTokenId ?? 0;
  const padded = rows.map((r) => width - r.length);
  return {
    rows: rows.map((r, b) => [...new Array<number>(padded[b]).fill(padId), ...r]),
    attentionMask: rows.map((r, b) => [
      ...new Array<number>(padded[b]).fill(0),
      ...new Array<number>(r.length).fill(1),
    ]),
    padded,
  };
}

/** PEFT's _prepare_prompt_learning_config: shape fields come from the model. */
function withModelShape(config: PromptTuningConfig, model: LlamaForCausalLM): PromptTuningConfig {
  const hidden = model.config.hiddenSize;
  if (config.token_dim !== null && config.token_dim !== hidden) {
    throw new ShapeMismatchError(
      `Prompt tuning: token_dim is ${config.token_dim} but the base model's hidden size is ${hidden}.`,
      {
        tensor: PROMPT_EMBEDDINGS_KEY,
        expected: [hidden],
        found: [config.token_dim],
      },
    );
  }
  return {
    ...config,
    token_dim: hidden,
    num_transformer_submodules: config.num_transformer_submodules ?? 1,
    num_attention_heads: config.num_attention_heads ?? model.config.numAttentionHeads,
    num_layers: config.num_layers ?? model.config.numHiddenLayers,
  };
}
