import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { initBackend, registerGradients, releaseBackend } from "../backend/init-backend.js";
import { TEST_BACKENDS } from "../backend/test-backends.js";
import { probeWebgpuAdapter } from "../backend/webgpu-probe.js";
import { packWeight } from "../quantize/packed-weight-writer.js";
import { unpackWeight, type PackWeightOptions } from "../quantize/packed-weight.js";
import { disposePackedWeight, packedMatMul, packedWeightTensors } from "./packed-matmul.js";
import { rmsNorm, rmsNormReference } from "./rms-norm.js";
import { softmaxCrossEntropy, softmaxCrossEntropyReference } from "./softmax-cross-entropy.js";
import { maxScaledDiff, randomValues, valueAndGrads } from "./test-support.js";

/** What a run on one device gave, and the shader keys it compiled (tfjs's pipeline cache, per backend). */
interface DeviceRun {
  outputs: Float32Array[];
  shaders: string[];
}

type Outputs = () => Promise<Float32Array[]>;

/** Runs `outputs` on a fresh webgpu device with or without subgroups (a device's features are fixed at creation). */
async function onDevice(subgroups: boolean, outputs: Outputs): Promise<DeviceRun> {
  await registerGradients();
  releaseBackend();
  const info = await initBackend({ backend: "webgpu", webgpuSubgroups: subgroups });
  expect(info.webgpu?.subgroups, "the device has the subgroups asked for").toBe(subgroups);
  const before = tf.memory().numTensors;
  const result = await outputs();
  expect(tf.memory().numTensors, "no tensor leaks").toBe(before);
  const cache = (tf.backend() as unknown as { pipelineCache: Record<string, unknown> }).pipelineCache;
  return { outputs: result, shaders: Object.keys(cache) };
}

/** Both devices' results, each against the reference (computed by `reference` on the device without subgroups). */
async function twins(
  outputs: Outputs,
  reference: Outputs,
): Promise<{ subgroup: DeviceRun; workgroup: DeviceRun; want: Float32Array[] }> {
  const subgroup = await onDevice(true, outputs);
  let want: Float32Array[] = [];
  const workgroup = await onDevice(false, async () => {
    want = await reference();
    return outputs();
  });
  return { subgroup, workgroup, want };
}

function expectClose(label: string, got: Float32Array[], want: Float32Array[], tolerance: number): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(maxScaledDiff(g, want[i]), `${label} output ${i}`).toBeLessThan(tolerance));
}

const probe = probeWebgpuAdapter();
const offered = probe.ok && probe.adapter.features.includes("subgroups");

// Each kernel with a subgroup path, on a device with subgroups and on one without, against each other and the
// reference, and the shaders compiled say which path ran (`_sg` reductions, `packed_matvec`).
describe.each(TEST_BACKENDS.filter((b) => b === "webgpu"))("subgroup kernels against their twins on %s", () => {
  afterAll(() => releaseBackend());

  if (!offered) {
    it("cannot run: this adapter offers no subgroups (the tests below need one that does, as lavapipe does)", () => {
      process.stderr.write("NOTE: the WebGPU adapter offers no `subgroups`: subgroup kernels untested here.\n");
      expect(offered).toBe(false);
    });
    return;
  }

  it("rmsNorm's value, dx and dweight (workgroupSum): rows of 1000 and of 7 columns", async () => {
    // Host values: each device makes its own tensors (a released device loses its tensors).
    const cases = [
      { rows: 5, cols: 1000, x: randomValues(5 * 1000, 1, 3), w: randomValues(1000, 2) },
      { rows: 3, cols: 7, x: randomValues(3 * 7, 3), w: randomValues(7, 4) },
    ];
    const run =
      (f: typeof rmsNorm): Outputs =>
      async () => {
        const all: Float32Array[] = [];
        for (const c of cases) {
          const x = tf.tensor2d(c.x, [c.rows, c.cols]);
          const w = tf.tensor1d(c.w);
          const { value, grads } = await valueAndGrads((a, b) => f(a, b, 1e-6), [x, w]);
          all.push(value, ...grads);
          tf.dispose([x, w]);
        }
        return all;
      };
    const { subgroup, workgroup, want } = await twins(run(rmsNorm), run(rmsNormReference));
    expect(subgroup.shaders.some((k) => k.startsWith("llamats_rms_norm_sg_"))).toBe(true);
    expect(workgroup.shaders.some((k) => k.includes("_sg_"))).toBe(false);
    expectClose("subgroups vs reference", subgroup.outputs, want, 1e-5);
    expectClose("workgroup memory vs reference", workgroup.outputs, want, 1e-5);
    expectClose("subgroups vs workgroup memory", subgroup.outputs, workgroup.outputs, 1e-5);
  }, 120_000);

  it("softmaxCrossEntropy's value and dlogits (workgroupMax, workgroupSum): 3000 columns, rows far apart", async () => {
    const rows = 4;
    const cols = 3000;
    const logits = randomValues(rows * cols, 5, 4);
    for (let c = 0; c < cols; c++) logits[2 * cols + c] += 60; // a row whose max is far from 0
    logits[3 * cols + 2999] = 40; // one large logit at a row's last column
    const targets = Int32Array.of(7, -100, 2999, 1234);
    const run =
      (f: (l: tf.Tensor2D, t: tf.Tensor1D) => tf.Tensor1D): Outputs =>
      async () => {
        const l = tf.tensor2d(logits, [rows, cols]);
        const t = tf.tensor1d(targets, "int32");
        const { value, grads } = await valueAndGrads((a) => f(a as tf.Tensor2D, t), [l]);
        tf.dispose([l, t]);
        return [value, ...grads];
      };
    const { subgroup, workgroup, want } = await twins(run(softmaxCrossEntropy), run(softmaxCrossEntropyReference));
    expect(subgroup.shaders.some((k) => k.startsWith("llamats_ce_lse_sg_"))).toBe(true);
    expectClose("subgroups vs reference", subgroup.outputs, want, 1e-5);
    expectClose("workgroup memory vs reference", workgroup.outputs, want, 1e-5);
    expectClose("subgroups vs workgroup memory", subgroup.outputs, workgroup.outputs, 1e-5);
  }, 120_000);

  it("packedMatMul at 1-4 rows (the subgroup mat-vec) against the tiled kernel and a float64 host product", async () => {
    const formats: Omit<PackWeightOptions, "outFeatures" | "inFeatures">[] = [
      { format: "bfloat16" },
      { format: "int8" },
      { format: "nf4" },
      { format: "nf4", nf4BlockSize: 32, doubleQuant: true },
    ];
    // 37 outputs: fewer than a workgroup's share; 300: several workgroups and a partial last one. 320 and 1024 in.
    const shapes = [
      { out: 37, in: 320 },
      { out: 300, in: 1024 },
    ];
    const cases = formats.flatMap((f, i) =>
      shapes.flatMap((s, j) =>
        [1, 2, 3, 4].map((m) => {
          const data = packWeight(randomValues(s.out * s.in, 40 + i * 7 + j, 0.1), {
            ...f,
            outFeatures: s.out,
            inFeatures: s.in,
          });
          return {
            label: `${f.format}${f.nf4BlockSize ?? ""} ${m}×${s.in}·[${s.out}]ᵀ`,
            data,
            m,
            x: randomValues(m * s.in, 90 + m, 2),
          };
        }),
      ),
    );
    const run: Outputs = async () => {
      const all: Float32Array[] = [];
      for (const c of cases) {
        const packed = packedWeightTensors(c.data);
        const x = tf.tensor2d(c.x, [c.m, c.data.inFeatures]);
        const y = packedMatMul(x, packed);
        all.push((await y.data()) as Float32Array);
        disposePackedWeight(packed);
        tf.dispose([x, y]);
      }
      return all;
    };
    const host = cases.map((c) => {
      const w = unpackWeight(c.data);
      const { outFeatures: n, inFeatures: k } = c.data;
      const y = new Float32Array(c.m * n);
      for (let r = 0; r < c.m; r++)
        for (let o = 0; o < n; o++) {
          let s = 0;
          for (let i = 0; i < k; i++) s += c.x[r * k + i] * w[o * k + i];
          y[r * n + o] = s;
        }
      return y;
    });
    const subgroup = await onDevice(true, run);
    const workgroup = await onDevice(false, run);
    expect(subgroup.shaders.some((k) => k.startsWith("llamats_packed_matvec"))).toBe(true);
    expect(subgroup.shaders.some((k) => k.startsWith("llamats_packed_matmul"))).toBe(false);
    expect(workgroup.shaders.some((k) => k.startsWith("llamats_packed_matvec"))).toBe(false);
    cases.forEach((c, i) => {
      expect(maxScaledDiff(subgroup.outputs[i], host[i]), `${c.label}: subgroups vs host`).toBeLessThan(2e-5);
      expect(maxScaledDiff(workgroup.outputs[i], host[i]), `${c.label}: tiled vs host`).toBeLessThan(2e-5);
      expect(maxScaledDiff(subgroup.outputs[i], workgroup.outputs[i]), `${c.label}: twins`).toBeLessThan(2e-5);
    });
  }, 180_000);
});
