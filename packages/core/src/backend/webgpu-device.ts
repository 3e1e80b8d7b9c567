/**
 * llamats' own factory for tfjs-backend-webgpu: it creates the GPU device itself, so it can request the optional
 * features our kernels use (tfjs 4.22's factory requests only timestamp-query and bgra8unorm-storage), and hooks the
 * device's createShaderModule so our shaders can start with the WGSL directives those features need.
 */

/** A line of our WGSL that starts with this holds directives (`enable subgroups;`) that WGSL wants first in a module. */
export const WGSL_DIRECTIVES_MARK = "/*llamats-directives*/";

/** What the device our factory created offers our kernels. */
export interface WebgpuDeviceFeatures {
  /** The device was created with the `subgroups` feature (and our directive hook). */
  subgroups: boolean;
  /** The adapter's subgroup size range (4…128, powers of two); present when it reports one. */
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
}

interface GpuAdapterLike {
  features: ReadonlySet<string>;
  limits: Record<string, number>;
  info?: Record<string, unknown>;
  requestDevice(descriptor: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<GpuDevice>;
}

interface GpuDevice {
  features: ReadonlySet<string>;
  createShaderModule(descriptor: { code: string; label?: string }): unknown;
}

export interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<unknown>;
}

const deviceFeatures = new WeakMap<object, WebgpuDeviceFeatures>();

/** The limits tfjs-backend-webgpu's own factory asks for (the adapter's best), so its kernels see the same device. */
const TFJS_LIMITS = [
  "maxComputeWorkgroupStorageSize",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupSizeX",
  "maxComputeInvocationsPerWorkgroup",
] as const;

/**
 * Moves the directives of each line marked WGSL_DIRECTIVES_MARK to the top of the module (tfjs puts its own header
 * before our code). A shader without the mark, i.e. every shader that is not ours, is returned unchanged.
 */
export function hoistWgslDirectives(code: string): string {
  if (!code.includes(WGSL_DIRECTIVES_MARK)) return code;
  const directives: string[] = [];
  const rest = code.split("\n").filter((line) => {
    const at = line.indexOf(WGSL_DIRECTIVES_MARK);
    if (at < 0) return true;
    directives.push(line.slice(at + WGSL_DIRECTIVES_MARK.length).trim());
    return false;
  });
  return [...new Set(directives), ...rest].join("\n");
}

function sizeOf(info: Record<string, unknown> | undefined, key: string): number | undefined {
  const value = info?.[key];
  return typeof value === "number" && value > 0 ? value : undefined;
}

/**
 * Requests the high-performance adapter's device with what tfjs asks for plus `subgroups` when the adapter offers it
 * and `subgroups` is true; returns the device, its adapter's info, and what it offers our kernels.
 */
export async function requestLlamatsDevice(
  gpu: GpuLike,
  options: { subgroups: boolean },
): Promise<{ device: GpuDevice; adapterInfo: unknown; features: WebgpuDeviceFeatures }> {
  const adapter = (await gpu.requestAdapter({ powerPreference: "high-performance" })) as GpuAdapterLike | null;
  if (!adapter) throw new Error("navigator.gpu.requestAdapter() found no adapter");
  const wanted = ["timestamp-query", "bgra8unorm-storage", ...(options.subgroups ? ["subgroups"] : [])];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const limit of TFJS_LIMITS) requiredLimits[limit] = adapter.limits[limit];
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  const subgroups = device.features.has("subgroups");
  const features: WebgpuDeviceFeatures = { subgroups };
  if (subgroups) {
    const min = sizeOf(adapter.info, "subgroupMinSize");
    const max = sizeOf(adapter.info, "subgroupMaxSize");
    if (min !== undefined) features.subgroupMinSize = min;
    if (max !== undefined) features.subgroupMaxSize = max;
    const create = device.createShaderModule.bind(device);
    device.createShaderModule = (descriptor) => create({ ...descriptor, code: hoistWgslDirectives(descriptor.code) });
  }
  deviceFeatures.set(device, features);
  return { device, adapterInfo: adapter.info, features };
}

/**
 * What the active webgpu backend's device offers our kernels; `{ subgroups: false }` for a backend that is not
 * webgpu or whose device our factory did not create (its shaders would not get the directive hook).
 */
export function webgpuDeviceFeatures(backend: unknown): WebgpuDeviceFeatures {
  const device = (backend as { device?: object } | null)?.device;
  return (device && deviceFeatures.get(device)) ?? { subgroups: false };
}
