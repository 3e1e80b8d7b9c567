import * as tf from "@tensorflow/tfjs-core";
import { LlamatsError, rmsNorm, ShapeMismatchError, ValidationError, type PackedWeight } from "@llamats/core";
import { isLlamaConfig, parseLlamaConfig, type LlamaConfig } from "./config.js";
import { buildAttentionMask } from "./attention-mask.js";
import { causalLmLoss, type LabelsInput, type LossReduction } from "./causal-lm-loss.js";
import { decoderLayer, type DecoderLayerWeights } from "./decoder-layer.js";
import { checkpointed, collectVariables } from "./gradient-checkpoint.js";
import { generateIds, generateStream, type GenerateOptions, type StreamedToken } from "./generate.js";
import { initialParameters } from "./init-weights.js";
import type { KvCache } from "./kv-cache.js";
import { Linear, isPlainLinear, type LinearLayer } from "./linear.js";
import { loadPretrained, type FromPretrainedOptions } from "./load-pretrained.js";
import { checkActivationsFit, checkModelFits } from "./memory-estimate.js";
import { PackedLinear } from "./packed-linear.js";
import { checkedMask, idsToTensor, type IdsInput } from "./model-inputs.js";
import { LAYER_LINEARS } from "./parameter-shapes.js";
import { ropeTables } from "./rope.js";
import { decodeStep, type DecodeLayerWeights } from "./decode-step.js";
import { savePretrained, type SavePretrainedOptions } from "./save-pretrained.js";
import type { TokenEmbedding } from "./embedding-table.js";
import { buildVocabLayers, type LlamaModelOptions } from "./vocab-layers.js";
import { parseChunkName } from "./weight-chunks.js";

export interface ForwardOptions {
  /** 1 for real tokens, 0 for padding; [batch, seq]. */
  attentionMask?: readonly (readonly number[])[] | tf.Tensor2D;
  /** Targets for the causal-LM loss (-100 = ignored); [batch, seq], unshifted as in HF. */
  labels?: LabelsInput;
  /** 'mean' (default, HF) or 'sum' of token losses; pair 'sum' with countLossTokens to normalise over many batches. */
  lossReduction?: LossReduction;
  /** Positions per row; defaults to 0..seq-1 like HF's forward. Packed rows restart them at 0 for each example. */
  positionIds?: readonly (readonly number[])[];
  /**
   * Packed rows (several examples in one row, as instruct-data's packExamples makes them): which example each token
   * belongs to, [batch, seq]. Attention then stays inside each example (a block-diagonal causal mask).
   */
  sequenceIds?: readonly (readonly number[])[] | tf.Tensor2D;
  /** Recompute each decoder layer in the backward pass (overrides model.gradientCheckpointing). */
  gradientCheckpointing?: boolean;
  /** [batch, seq, hidden] embeddings used instead of input ids (HF's inputs_embeds); pass null as inputIds. */
  inputsEmbeds?: tf.Tensor3D;
}

export interface ForwardOutput {
  logits: tf.Tensor3D;
  loss?: tf.Scalar;
}

/** One step of the incremental forward used by generation. */
export interface CachedStepOptions {
  /** The step's ids; give these or inputsEmbeds. */
  inputIds?: tf.Tensor2D;
  /** [batch, seq, hidden] embeddings for the step instead of ids (a prefill from embeddings). */
  inputsEmbeds?: tf.Tensor3D;
  positions: number[][];
  attentionMask: number[][] | null;
  cache: KvCache;
  /** Project only the last position to logits (all that sampling needs). */
  lastOnly: boolean;
}

function arange(batch: number, seq: number, start = 0): number[][] {
  return Array.from({ length: batch }, () => Array.from({ length: seq }, (_, t) => start + t));
}

/** LLaMA decoder-only language model (HF's LlamaForCausalLM) on tfjs, with HF parameter names. */
export class LlamaForCausalLM {
  readonly config: LlamaConfig;
  /** Default for forward's gradientCheckpointing. */
  gradientCheckpointing = false;
  private readonly params: Map<string, tf.Variable>;
  private readonly linears = new Map<string, LinearLayer>();
  /** Weights held packed (bf16/int8/nf4; see isPackedParameter), by HF weight name; the model owns their tensors. */
  private readonly packed: Map<string, PackedWeight>;
  /** The token embedding, whole or in row chunks along the vocabulary (see LlamaModelOptions.maxTensorBytes). */
  private readonly embedding: TokenEmbedding;
  /** The decode step's resolved layers, kept between tokens until a layer is replaced (setLinear). */
  private decodeLayers: DecodeLayerWeights[] | null = null;
  private disposed = false;

  /**
   * Builds a model around already-created variables named as in HF (see expectedParameterShapes); the model
   * owns them. Embedding and head tensors over options.maxTensorBytes are split into row chunks here. `packed`
   * holds projection weights packed by core (bf16/int8/nf4) under their HF names, in place of variables.
   */
  constructor(
    config: LlamaConfig,
    parameters: Map<string, tf.Variable>,
    options: LlamaModelOptions = {},
    packed: Map<string, PackedWeight> = new Map(),
  ) {
    this.config = config;
    this.params = new Map(parameters);
    this.packed = new Map(packed);
    const { embedding, head } = buildVocabLayers(config, this.params, options, this.packed);
    this.embedding = embedding;
    for (let i = 0; i < config.numHiddenLayers; i++) {
      for (const name of LAYER_LINEARS) {
        const full = `model.layers.${i}.${name}`;
        const bias = this.params.get(`${full}.bias`) ?? null;
        const packedWeight = this.packed.get(`${full}.weight`);
        this.linears.set(
          full,
          packedWeight ? new PackedLinear(packedWeight, bias) : new Linear(this.param(`${full}.weight`), bias),
        );
      }
    }
    this.linears.set("lm_head", head);
  }

  private decodeWeights(i: number): DecodeLayerWeights {
    const prefix = `model.layers.${i}`;
    const linear = (name: string): LinearLayer => this.getLinear(`${prefix}.${name}`);
    const qkv: [LinearLayer, LinearLayer, LinearLayer] = [
      linear("self_attn.q_proj"),
      linear("self_attn.k_proj"),
      linear("self_attn.v_proj"),
    ];
    const gateUp: [LinearLayer, LinearLayer] = [linear("mlp.gate_proj"), linear("mlp.up_proj")];
    return {
      inputLayernorm: this.param(`${prefix}.input_layernorm.weight`),
      postAttentionLayernorm: this.param(`${prefix}.post_attention_layernorm.weight`),
      qkv,
      o: linear("self_attn.o_proj"),
      gateUp,
      down: linear("mlp.down_proj"),
    };
  }

  /** The single-token step of generation: one fused kernel where the backend has one, else few ops per layer (decode-step.ts). */
  private decodeStep(options: CachedStepOptions): tf.Tensor2D {
    const { inputIds } = options;
    return decodeStep({
      config: this.config,
      hidden: this.embedding.lookupNoGrad(tf.reshape<tf.Rank.R1>(inputIds!, [-1])),
      layers: (this.decodeLayers ??= Array.from({ length: this.config.numHiddenLayers }, (_, i) =>
        this.decodeWeights(i),
      )),
      norm: this.param("model.norm.weight"),
      lmHead: this.getLinear("lm_head"),
      positions: options.positions.map((row) => row[0]),
      attentionMask: options.attentionMask,
      cache: options.cache,
    });
  }

  /** Loads config.json and safetensors weights from a local directory or a Hub repo id. */
  static async fromPretrained(
    repoIdOrDir: string,
    options: FromPretrainedOptions & LlamaModelOptions = {},
  ): Promise<LlamaForCausalLM> {
    const { config, parameters, packed } = await loadPretrained(repoIdOrDir, options);
    return new LlamaForCausalLM(config, parameters, options, packed);
  }

  /** A randomly initialised model, as HF initialises one: normal(0, initializer_range), norms 1, biases 0. */
  static fromConfig(
    config: LlamaConfig | Record<string, unknown>,
    options: { seed?: number } & LlamaModelOptions = {},
  ): LlamaForCausalLM {
    const parsed = isLlamaConfig(config) ? config : parseLlamaConfig(config);
    checkModelFits(parsed, options);
    const packed = new Map<string, PackedWeight>();
    const parameters = initialParameters(parsed, options.seed, undefined, { options, into: packed });
    return new LlamaForCausalLM(parsed, parameters, options, packed);
  }

  private param(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new LlamatsError(`The model has no parameter "${name}".`);
    return v;
  }

  private checkAlive(): void {
    if (this.disposed) throw new LlamatsError("This model was disposed; load it again to use it.");
  }

  /** HF names of every addressable linear layer: 'model.layers.0.self_attn.q_proj', ..., 'lm_head'. */
  linearNames(): string[] {
    return [...this.linears.keys()];
  }

  getLinear(name: string): LinearLayer {
    const layer = this.linears.get(name);
    if (!layer)
      throw new LlamatsError(
        `No linear layer named "${name}"; linearNames() lists them (e.g. model.layers.0.self_attn.q_proj).`,
      );
    return layer;
  }

  /** Replaces a linear layer (PEFT wraps one here); forward resolves layers on every call. */
  setLinear(name: string, layer: LinearLayer): void {
    const current = this.getLinear(name);
    if (layer.inFeatures !== current.inFeatures || layer.outFeatures !== current.outFeatures) {
      throw new LlamatsError(
        `setLinear("${name}"): the new layer maps ${layer.inFeatures} → ${layer.outFeatures} features, the model needs ${current.inFeatures} → ${current.outFeatures}.`,
      );
    }
    this.linears.set(name, layer);
    this.decodeLayers = null;
    // A plain Linear replacing a packed one (an adapter merged into a dequantized base): the packed weight goes.
    const packedWeight = this.packed.get(`${name}.weight`);
    if (packedWeight && isPlainLinear(layer)) {
      this.packed.delete(`${name}.weight`);
      tf.dispose([packedWeight.words, packedWeight.scales]);
    }
    // A plain Linear (e.g. after merging an adapter) becomes the parameter under this name.
    if (isPlainLinear(layer) && name !== "lm_head") {
      this.params.set(`${name}.weight`, layer.weight);
      if (layer.bias) this.params.set(`${name}.bias`, layer.bias);
    } else if (isPlainLinear(layer) && !this.config.tieWordEmbeddings) {
      // A whole head replaces its row chunks under the HF name.
      for (const key of [...this.params.keys()])
        if (parseChunkName(key)?.name === "lm_head.weight") this.params.delete(key);
      this.params.set("lm_head.weight", layer.weight);
    }
  }

  /**
   * Base parameters by HF name (tied lm_head is not listed twice, as in HF's named_parameters). A tensor
   * split into row chunks (maxTensorBytes) appears as its chunks, named with their rows: `lm_head.weight[0:667]`.
   */
  namedParameters(): Map<string, tf.Variable> {
    return new Map(this.params);
  }

  /** Weights held packed (bf16/int8/nf4) by HF name; empty for a float32 model. Frozen: never trainable. */
  packedWeights(): Map<string, PackedWeight> {
    return new Map(this.packed);
  }

  /** Marks base parameters trainable or frozen by HF name (row chunks are asked about under their tensor's name). */
  setTrainable(predicate: (name: string) => boolean): void {
    for (const [name, v] of this.params) v.trainable = predicate(parseChunkName(name)?.name ?? name);
  }

  /** Token embeddings [batch, seq, hidden] for ids (HF's get_input_embeddings()(ids)); differentiable. */
  embedTokens(inputIds: IdsInput): tf.Tensor3D {
    this.checkAlive();
    return tf.tidy(() => {
      const ids = idsToTensor(inputIds, this.config.vocabSize);
      const [batch, seq] = ids.shape;
      return tf.reshape<tf.Rank.R3>(this.embedding.lookup(tf.reshape<tf.Rank.R1>(ids, [-1])), [
        batch,
        seq,
        this.config.hiddenSize,
      ]);
    });
  }

  /** Trainable base parameters plus trainable variables inside wrapped (non-plain) linear layers. */
  trainableVariables(): tf.Variable[] {
    const found = new Set<tf.Variable>();
    for (const v of this.params.values()) if (v.trainable) found.add(v);
    for (const layer of this.linears.values()) {
      if (isPlainLinear(layer)) continue;
      for (const v of collectVariables(layer)) if (v.trainable) found.add(v);
    }
    return [...found];
  }

  private layerWeights(i: number): DecoderLayerWeights {
    const prefix = `model.layers.${i}`;
    const linear = (name: string): LinearLayer => this.getLinear(`${prefix}.${name}`);
    return {
      inputLayernorm: this.param(`${prefix}.input_layernorm.weight`),
      postAttentionLayernorm: this.param(`${prefix}.post_attention_layernorm.weight`),
      attention: {
        q: linear("self_attn.q_proj"),
        k: linear("self_attn.k_proj"),
        v: linear("self_attn.v_proj"),
        o: linear("self_attn.o_proj"),
      },
      mlp: { gate: linear("mlp.gate_proj"), up: linear("mlp.up_proj"), down: linear("mlp.down_proj") },
    };
  }

  private layerVariables(w: DecoderLayerWeights): tf.Variable[] {
    const all = [
      w.inputLayernorm,
      w.postAttentionLayernorm,
      ...(Object.values(w.attention) as LinearLayer[]),
      ...(Object.values(w.mlp) as LinearLayer[]),
    ].flatMap((l) => collectVariables(l));
    return [...new Set(all)];
  }

  /** Embeddings → decoder layers → final norm; hidden states [batch, seq, hidden]. */
  private hiddenStates(options: {
    embeds: tf.Tensor3D;
    positions: readonly (readonly number[])[];
    attentionMask: number[][] | tf.Tensor2D | null;
    sequenceIds?: number[][] | tf.Tensor2D | null;
    cache?: KvCache;
    checkpoint: boolean;
  }): tf.Tensor3D {
    const { positions, attentionMask, cache } = options;
    const [batch, seq] = options.embeds.shape;
    const pastLen = cache?.length ?? 0;
    const { cos, sin } = ropeTables(this.config, positions);
    const mask = buildAttentionMask({ batch, queryLen: seq, pastLen, attentionMask, sequenceIds: options.sequenceIds });
    let hidden = options.embeds;
    for (let i = 0; i < this.config.numHiddenLayers; i++) {
      const weights = this.layerWeights(i);
      if (options.checkpoint && !cache) {
        const constants = mask ? [cos, sin, mask] : [cos, sin];
        const block = (x: tf.Tensor, c: tf.Tensor, s: tf.Tensor, m?: tf.Tensor): tf.Tensor =>
          decoderLayer(x as tf.Tensor3D, weights, { config: this.config, cos: c, sin: s, mask: m ?? null });
        hidden = checkpointed(block, hidden, constants, this.layerVariables(weights)) as tf.Tensor3D;
      } else {
        const ctx = { config: this.config, cos, sin, mask, ...(cache ? { cache: { kv: cache, layer: i } } : {}) };
        hidden = decoderLayer(hidden, weights, ctx);
      }
    }
    return rmsNorm(hidden, this.param("model.norm.weight"), this.config.rmsNormEps) as tf.Tensor3D;
  }

  /**
   * Logits [batch, seq, vocab] and, with labels, the causal-LM loss. Pure tf ops: call it inside
   * tf.variableGrads to train. Inputs may be nested arrays or an int32 tensor.
   */
  forward(inputIds: IdsInput | null, options: ForwardOptions = {}): ForwardOutput {
    this.checkAlive();
    return tf.tidy(() => {
      const embeds = this.inputEmbeddings(inputIds, options.inputsEmbeds);
      const [batch, seq] = embeds.shape;
      checkActivationsFit(this.config, batch * seq);
      const attentionMask = checkedMask(options.attentionMask, batch, seq);
      const hidden = this.hiddenStates({
        embeds,
        positions: options.positionIds ?? arange(batch, seq),
        attentionMask,
        sequenceIds: checkedMask(options.sequenceIds, batch, seq, "sequenceIds"),
        checkpoint: options.gradientCheckpointing ?? this.gradientCheckpointing,
      });
      const logits = this.getLinear("lm_head").apply(hidden) as tf.Tensor3D;
      if (options.labels === undefined) return { logits };
      return { logits, loss: causalLmLoss(logits, options.labels, { reduction: options.lossReduction ?? "mean" }) };
    });
  }

  /** Exactly one of ids or embeddings, as embeddings [batch, seq, hidden] (HF's rule for input_ids / inputs_embeds). */
  private inputEmbeddings(inputIds: IdsInput | null, inputsEmbeds: tf.Tensor3D | undefined): tf.Tensor3D {
    if ((inputIds === null || inputIds === undefined) === (inputsEmbeds === undefined)) {
      throw new ValidationError(
        "forward: give exactly one of inputIds and inputsEmbeds (pass null as inputIds to use inputsEmbeds).",
        { location: "inputsEmbeds" },
      );
    }
    if (inputsEmbeds === undefined) return this.embedTokens(inputIds!);
    if (inputsEmbeds.rank !== 3 || inputsEmbeds.shape[2] !== this.config.hiddenSize) {
      throw new ShapeMismatchError(
        `inputs_embeds must be [batch, seq, ${this.config.hiddenSize}], found [${inputsEmbeds.shape.join(", ")}].`,
        {
          tensor: "inputs_embeds",
          expected: [-1, -1, this.config.hiddenSize],
          found: [...inputsEmbeds.shape],
        },
      );
    }
    return inputsEmbeds;
  }

  /** Incremental forward for generation: appends to the cache, returns logits [batch, vocab] of the last position (or all). */
  forwardCached(options: CachedStepOptions): tf.Tensor {
    this.checkAlive();
    return tf.tidy(() => {
      if (options.inputIds && !options.inputsEmbeds && options.inputIds.shape[1] === 1 && options.lastOnly)
        return this.decodeStep(options);
      const embeds = this.inputEmbeddings(options.inputIds ?? null, options.inputsEmbeds);
      let hidden = this.hiddenStates({
        embeds,
        positions: options.positions,
        attentionMask: options.attentionMask,
        cache: options.cache,
        checkpoint: false,
      });
      if (options.lastOnly) {
        const [batch, seq, size] = hidden.shape;
        hidden = tf.slice(hidden, [0, seq - 1, 0], [batch, 1, size]);
        return tf.reshape(this.getLinear("lm_head").apply(hidden), [batch, this.config.vocabSize]);
      }
      return this.getLinear("lm_head").apply(hidden);
    });
  }

  /** Generates up to maxNewTokens per row; returns prompt + new ids for each row (pads stripped from left-padded prompts? no: kept as given). */
  generate(
    inputIds: readonly number[] | readonly (readonly number[])[],
    options: GenerateOptions,
  ): Promise<number[][]> {
    this.checkAlive();
    return generateIds(this, inputIds, options);
  }

  /** Streams new tokens of one prompt as they are chosen, with their text when a tokenizer is given. */
  generateStream(inputIds: readonly number[], options: GenerateOptions): AsyncIterable<StreamedToken> {
    this.checkAlive();
    return generateStream(this, inputIds, options);
  }

  /** Writes config.json and model.safetensors (HF names) that transformers loads; packed projections dequantized. */
  savePretrained(dir: string, options: SavePretrainedOptions = {}): Promise<void> {
    this.checkAlive();
    return savePretrained(dir, {
      config: this.config,
      parameters: this.params,
      packed: this.packed,
      dtype: options.dtype ?? "float32",
    });
  }

  /** Frees every variable the model owns (and the tied head once). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of new Set(this.params.values())) v.dispose();
    for (const p of this.packed.values()) tf.dispose([p.words, p.scales]);
  }
}
