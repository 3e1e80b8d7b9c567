/**
 * The tiny base model's config.json (transformers' LlamaConfig field names). Sized to pretrain on 2 CPU cores in about
 * 20 minutes and to LoRA-fine-tune in the demo in a few: ~1.6 M parameters, 6.3 MB in float32.
 */
export function tinyLlamaConfig(
  vocabSize: number,
  special: { bos: number; eos: number; pad: number | null },
): Record<string, unknown> {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    vocab_size: vocabSize,
    hidden_size: 128,
    intermediate_size: 352,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_key_value_heads: 4,
    max_position_embeddings: 256,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    rope_scaling: null,
    hidden_act: "silu",
    initializer_range: 0.02,
    tie_word_embeddings: false,
    attention_bias: false,
    mlp_bias: false,
    bos_token_id: special.bos,
    eos_token_id: special.eos,
    pad_token_id: special.pad,
    torch_dtype: "float32",
  };
}
