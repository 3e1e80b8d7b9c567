import { describe, expect, it } from "vitest";
import { NoiseFilter } from "./native-noise.js";

function filtered(chunks: string[]): string {
  let out = "";
  const filter = new NoiseFilter((text) => (out += text));
  for (const chunk of chunks) filter.push(chunk);
  filter.flush();
  return out;
}

describe("NoiseFilter", () => {
  it("drops lavapipe's and the Vulkan loader's native warnings, even split across chunks", () => {
    const noise = [
      "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n",
      "Warning: vkCreateInstance: Found no drivers!\n",
      "    at CheckVkSuccessImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/VulkanError.cpp:106)\n",
    ].join("");
    expect(filtered([`step 1\n${noise.slice(0, 30)}`, noise.slice(30), "step 2\n"])).toBe("step 1\nstep 2\n");
  });

  it("passes everything else through as it comes, progress redraws included", () => {
    expect(
      filtered([
        "\r[##   ] 40%",
        "\r[#####] 100%\n",
        "Warning: the loss is NaN\n",
        "warning: WebGPU adapter is a CPU emulation\n",
      ]),
    ).toBe("\r[##   ] 40%\r[#####] 100%\nWarning: the loss is NaN\nwarning: WebGPU adapter is a CPU emulation\n");
  });
});
