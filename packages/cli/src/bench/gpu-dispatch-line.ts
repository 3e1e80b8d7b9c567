/** The bench line for GPU dispatches per unit of work (a step, a token); off webgpu, why there is no count. */
export function gpuDispatchLine(options: { perUnit: number | null; unit: string; backend: string }): string {
  if (options.perUnit === null)
    return `GPU dispatches per ${options.unit}: n/a on ${options.backend} (a WebGPU measure: run with --backend webgpu)`;
  const shown = Number.isInteger(options.perUnit) ? String(options.perUnit) : options.perUnit.toFixed(1);
  return `GPU dispatches per ${options.unit}: ${shown}`;
}
