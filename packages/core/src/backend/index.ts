export { initBackend, registerGradients, releaseBackend } from "./init-backend.js";
export { BACKEND_CHOICES } from "./types.js";
export type { BackendChoice, BackendName, BackendInfo, InitBackendOptions, WasmInfo, WebgpuInfo } from "./types.js";
export { BACKEND_HINTS } from "./hints.js";
export { hasVulkanLoader } from "./vulkan-loader.js";
export { probeWebgpuAdapter, isSoftwareAdapter } from "./webgpu-probe.js";
export type { WebgpuAdapterProbe, WebgpuProbeResult } from "./webgpu-probe.js";
export { maxBindingBytes } from "./binding-limit.js";
