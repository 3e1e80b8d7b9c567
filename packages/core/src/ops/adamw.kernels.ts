import { webgpuAdamWMoments, webgpuAdamWParam } from "./adamw.webgpu.js";
import { cpuKernelFunc, wasmKernelFunc, type HostKernel } from "./host-kernel.js";
import type { LlamatsOp } from "./kernel-types.js";

/** grad [...shape], moments [2, ...shape] (exp_avg; exp_avg_sq) → the new moments; attrs { beta1, beta2 }. */
export const ADAMW_MOMENTS = "LlamatsAdamWMoments";
/**
 * param, moments (the new ones) → param · decay − stepSize · m / (√v / biasCorrection2Sqrt + epsilon); attrs
 * { decay, stepSize, biasCorrection2Sqrt, epsilon }.
 */
export const ADAMW_PARAM = "LlamatsAdamWParam";

const momentsHost: HostKernel = {
  inputs: ["grad", "moments"],
  outputShapes: ({ moments }) => [[...moments.shape]],
  run: ({ grad, moments }, [out], _infos, attrs) => {
    const b1 = attrs.beta1 as number;
    const b2 = attrs.beta2 as number;
    const n = grad.length;
    // Math.fround after each step: float32 arithmetic, as the webgpu kernel and the tfjs composition do.
    for (let i = 0; i < n; i++) {
      const g = grad[i];
      out[i] = Math.fround(b1 * moments[i]) + Math.fround((1 - b1) * g);
      out[n + i] = Math.fround(b2 * moments[n + i]) + Math.fround((1 - b2) * Math.fround(g * g));
    }
  },
};

const paramHost: HostKernel = {
  inputs: ["param", "moments"],
  outputShapes: ({ param }) => [[...param.shape]],
  run: ({ param, moments }, [out], _infos, attrs) => {
    const decay = attrs.decay as number;
    const stepSize = attrs.stepSize as number;
    const bc2 = attrs.biasCorrection2Sqrt as number;
    const eps = attrs.epsilon as number;
    const n = param.length;
    for (let i = 0; i < n; i++) {
      const denom = Math.fround(Math.fround(Math.sqrt(moments[n + i])) / bc2) + eps;
      out[i] = Math.fround(param[i] * decay) - Math.fround(stepSize * Math.fround(moments[i] / denom));
    }
  },
};

/** The optimizer's update: no gradient. */
export const adamWOp: LlamatsOp = {
  kernels: [
    {
      name: ADAMW_MOMENTS,
      cpu: cpuKernelFunc(ADAMW_MOMENTS, momentsHost),
      wasm: wasmKernelFunc(ADAMW_MOMENTS, momentsHost),
      webgpu: webgpuAdamWMoments,
    },
    {
      name: ADAMW_PARAM,
      cpu: cpuKernelFunc(ADAMW_PARAM, paramHost),
      wasm: wasmKernelFunc(ADAMW_PARAM, paramHost),
      webgpu: webgpuAdamWParam,
    },
  ],
  gradients: [],
};
