import type { BackendName } from "./types.js";

/** What to install for each backend, in one or two sentences. */
export const BACKEND_HINTS: Record<BackendName, string> = {
  tensorflow:
    "Install the native TensorFlow binding: `npm i @tensorflow/tfjs-node-gpu` (NVIDIA GPU with CUDA 11.2 and cuDNN 8.1) or `npm i @tensorflow/tfjs-node` (CPU). Their install script downloads libtensorflow, so it needs internet access.",
  webgpu:
    "WebGPU needs `npm i webgpu @tensorflow/tfjs-backend-webgpu` and a GPU with a Vulkan driver: on Debian/Ubuntu `apt-get install libvulkan1` plus your GPU vendor's Vulkan driver (for NVIDIA, the driver's nvidia_icd.json); check with `vulkaninfo`.",
  wasm: "Install the WebAssembly backend: `npm i @tensorflow/tfjs-backend-wasm`.",
  cpu: "Install the plain JavaScript backend: `npm i @tensorflow/tfjs-backend-cpu`.",
};
