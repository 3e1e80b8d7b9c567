import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const LIBRARY = "libvulkan.so.1";
const COMMON_DIRS = [
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/usr/lib64",
  "/usr/lib",
  "/lib/x86_64-linux-gnu",
  "/lib64",
  "/usr/local/lib",
];

/**
 * On Linux, whether the Vulkan loader (libvulkan.so.1) can be found, as the dynamic linker would. Dawn prints a
 * "Couldn't load Vulkan" warning straight to stderr (from native code, so it cannot be caught) when it is
 * missing; checking first lets us skip Dawn quietly. Other platforms return true (Dawn uses Metal / D3D12 there).
 */
export function hasVulkanLoader(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (platform !== "linux") return true;
  const dirs = [...(env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean), ...COMMON_DIRS];
  if (dirs.some((dir) => existsSync(join(dir, LIBRARY)))) return true;
  try {
    return readFileSync("/etc/ld.so.cache").includes(LIBRARY);
  } catch {
    return false;
  }
}
