export { initBackend, registerGradients } from './init-backend.js';
export { BACKEND_CHOICES } from './types.js';
export type { BackendChoice, BackendName, BackendInfo, InitBackendOptions, WasmInfo } from './types.js';
export { BACKEND_HINTS } from './hints.js';
export { hasVulkanLoader } from './vulkan-loader.js';
export { TEST_BACKENDS, useBackend } from './test-backends.js';
