export { WasmKernels, splitGemm } from "./wasm-kernels.js";
export type { GemmArgs, GemmShare, Q8Output } from "./wasm-kernels.js";
export { installWasmKernels, uninstallWasmKernels, wasmKernelsInstalled } from "./install-kernels.js";
export { KERNELS_SOURCE_SHA256 } from "./kernels-binary.js";
