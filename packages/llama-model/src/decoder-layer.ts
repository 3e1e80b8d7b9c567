import * as tf from "@tensorflow/tfjs-core";
import { rmsNorm } from "@llamats/core";
import { selfAttention, type AttentionContext, type AttentionProjections } from "./attention.js";
import { swigluMlp, type MlpProjections } from "./mlp.js";

/** One decoder layer's parameters, with its projections resolved (through getLinear) for this call. */
export interface DecoderLayerWeights {
  inputLayernorm: tf.Tensor;
  postAttentionLayernorm: tf.Tensor;
  attention: AttentionProjections;
  mlp: MlpProjections;
}

/** Pre-norm block: h + attn(norm(h)), then + mlp(norm(·)). */
export function decoderLayer(hidden: tf.Tensor3D, weights: DecoderLayerWeights, ctx: AttentionContext): tf.Tensor3D {
  return tf.tidy(() => {
    const eps = ctx.config.rmsNormEps;
    // Each residual is added inside the branch's last projection (one kernel on webgpu).
    const attended = selfAttention(
      rmsNorm(hidden, weights.inputLayernorm, eps) as tf.Tensor3D,
      weights.attention,
      ctx,
      hidden,
    );
    return swigluMlp(rmsNorm(attended, weights.postAttentionLayernorm, eps) as tf.Tensor3D, weights.mlp, attended);
  });
}
