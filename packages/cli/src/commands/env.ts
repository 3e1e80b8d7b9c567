import { parseArgs } from "node:util";
import { hubSettingsFromEnv, type BackendInfo } from "@llamats/core";
import * as tf from "@tensorflow/tfjs-core";
import type { Command, CommandContext } from "../command.js";
import { BACKEND_USAGE, parseBackendOption, cliWasmThreads } from "../backend-option.js";
import { packageVersion } from "../package-version.js";
import { startBackend, warnTo } from "../start-backend.js";

const USAGE = `llamats env [--backend <name>] [--json]

Print versions, the tensor backend chosen and why, wasm threads, GPU adapter info and the Hub settings.
Exits non-zero, saying what to install, when the backend named with --backend cannot run here.

Options:
${BACKEND_USAGE}
  --json             print one JSON object instead of text`;

interface EnvReport {
  llamats: string | undefined;
  core: string | undefined;
  node: string;
  platform: string;
  tfjs: string;
  backend: BackendInfo;
  hub: { cacheDir: string; endpoint: string; token: boolean; offline: boolean };
}

const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MiB`;

function text(report: EnvReport): string {
  const { backend } = report;
  const rows: [string, string][] = [
    ["llamats", `${report.llamats ?? "unknown"} (@llamats/core ${report.core ?? "unknown"})`],
    ["node", `${report.node} (${report.platform})`],
    ["tfjs-core", report.tfjs],
    ["backend", `${backend.backend}${backend.nativePackage ? ` (${backend.nativePackage})` : ""}: ${backend.reason}`],
  ];
  if (backend.wasm) {
    const { threads, simd, multithread } = backend.wasm;
    rows.push([
      "wasm",
      `${threads} thread${threads === 1 ? "" : "s"}, SIMD ${simd ? "on" : "off"}, multithreading ${multithread ? "on" : "off (not available in this runtime)"}`,
    ]);
  }
  if (backend.adapter)
    rows.push(["gpu adapter", Object.values(backend.adapter).filter(Boolean).join(" / ") || "unnamed"]);
  if (backend.webgpu) {
    const { software, maxStorageBufferBindingSize, maxBufferSize, subgroups, subgroupSizes } = backend.webgpu;
    const sizes = subgroupSizes
      ? ` (${subgroupSizes.min === subgroupSizes.max ? subgroupSizes.min : `${subgroupSizes.min}-${subgroupSizes.max}`} invocations)`
      : "";
    rows.push([
      "webgpu",
      `${software ? "software adapter (a CPU emulation)" : "hardware adapter"}; largest binding ${mib(maxStorageBufferBindingSize)}, largest buffer ${mib(maxBufferSize)}; subgroups ${subgroups ? `on${sizes}` : "off"}`,
    ]);
  }
  rows.push(
    ["hub cache", report.hub.cacheDir],
    ["hub endpoint", report.hub.endpoint],
    ["hf token", report.hub.token ? "set" : "not set (needed for gated models: set HF_TOKEN)"],
    ["offline", report.hub.offline ? "yes (HF_HUB_OFFLINE)" : "no"],
  );
  return `${rows.map(([k, v]) => `${k.padEnd(13)}${v}`).join("\n")}\n`;
}

export const command: Command = {
  name: "env",
  summary: "Print versions, the tensor backend chosen and why, and GPU adapter info",
  usage: USAGE,
  async run(args: string[], ctx: CommandContext): Promise<number> {
    const { values } = parseArgs({
      args,
      options: { backend: { type: "string" }, json: { type: "boolean", default: false } },
      strict: true,
    });
    const backend = await startBackend({
      backend: parseBackendOption(values.backend),
      wasmThreads: cliWasmThreads(ctx.env),
      warn: warnTo(ctx.stderr),
    });
    const hub = hubSettingsFromEnv(ctx.env);
    const report: EnvReport = {
      llamats: packageVersion("@llamats/cli"),
      core: packageVersion("@llamats/core"),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      tfjs: tf.version_core,
      backend,
      hub: { cacheDir: hub.cacheDir, endpoint: hub.hubUrl, token: Boolean(hub.accessToken), offline: hub.offline },
    };
    ctx.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : text(report));
    return 0;
  },
};
