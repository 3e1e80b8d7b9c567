import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { hasVulkanLoader } from "./vulkan-loader.js";

/** What Dawn reports about the adapter it would use, read in a child process so its native warnings stay there. */
export interface WebgpuAdapterProbe {
  /** vendor, architecture, device, description as the adapter reports them (empty strings dropped). */
  info: Record<string, string>;
  /** A CPU emulation (Mesa's llvmpipe/lavapipe, SwiftShader): isFallbackAdapter, or architecture "software". */
  software: boolean;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  features: string[];
}

export type WebgpuProbeResult = { ok: true; adapter: WebgpuAdapterProbe } | { ok: false; why: string; detail?: string };

// The child imports Dawn, asks for the high-performance adapter and prints one JSON line.
const PROBE_SCRIPT = `
const { create, globals } = await import(process.argv[1]);
Object.assign(globalThis, globals);
const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) { process.stdout.write(JSON.stringify({ adapter: null }) + '\\n'); process.exit(0); }
const info = {};
for (const key of ['vendor', 'architecture', 'device', 'description']) if (adapter.info?.[key]) info[key] = String(adapter.info[key]);
process.stdout.write(JSON.stringify({ adapter: {
  info, fallback: Boolean(adapter.isFallbackAdapter ?? adapter.info?.isFallbackAdapter),
  maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize,
  features: [...adapter.features] } }) + '\\n');
process.exit(0);
`;

/** A software rasterizer's adapter, by the flags and names Dawn passes on. */
export function isSoftwareAdapter(info: Record<string, string>, fallback: boolean): boolean {
  if (fallback) return true;
  const text = `${info.architecture ?? ""} ${info.description ?? ""} ${info.device ?? ""}`.toLowerCase();
  return info.architecture === "software" || /llvmpipe|lavapipe|swiftshader/.test(text);
}

let cached: WebgpuProbeResult | undefined;

/**
 * Asks Dawn (the `webgpu` package) for its adapter in a short-lived child process: Dawn and the Vulkan loader
 * write warnings from native code straight to stderr, which a child can swallow (shown with LLAMATS_DEBUG).
 * The answer is cached for the process.
 */
export function probeWebgpuAdapter(options: { timeoutMs?: number } = {}): WebgpuProbeResult {
  if (cached) return cached;
  cached = runProbe(options.timeoutMs ?? 20_000);
  return cached;
}

function runProbe(timeoutMs: number): WebgpuProbeResult {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve("webgpu");
  } catch (error) {
    return {
      ok: false,
      why: "webgpu (Dawn) package not installed",
      detail: error instanceof Error ? error.message.split("\n")[0] : String(error),
    };
  }
  if (!hasVulkanLoader()) return { ok: false, why: "no WebGPU adapter (no Vulkan driver: libvulkan.so.1 not found)" };
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", PROBE_SCRIPT, pathToFileURL(entry).href], {
    encoding: "utf8",
    timeout: timeoutMs,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (process.env.LLAMATS_DEBUG && child.stderr) process.stderr.write(child.stderr);
  const line = (child.stdout ?? "").trim().split("\n").pop() ?? "";
  let parsed: { adapter: (Omit<WebgpuAdapterProbe, "software"> & { fallback: boolean }) | null } | undefined;
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    const why = child.error ? `Dawn did not answer (${child.error.message})` : "Dawn failed to start";
    return { ok: false, why, detail: (child.stderr ?? "").trim().split("\n").slice(-1)[0] };
  }
  if (!parsed?.adapter)
    return {
      ok: false,
      why: "no WebGPU adapter (Vulkan found no usable GPU)",
      detail: (child.stderr ?? "").trim().split("\n")[0],
    };
  const { fallback, ...rest } = parsed.adapter;
  return { ok: true, adapter: { ...rest, software: isSoftwareAdapter(rest.info, fallback) } };
}
