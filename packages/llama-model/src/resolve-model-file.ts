import { resolveRepoFile } from '@llamats/core';

export interface ResolveOptions {
  revision?: string;
  offline?: boolean;
  onProgress?: (event: { file: string; loaded: number; total?: number }) => void;
  signal?: AbortSignal;
}

/** Local path of `file` in a model directory or Hub repo (downloaded into the HF cache), or null if the repo has no such file. */
export function resolveModelFile(repoIdOrDir: string, file: string, options: ResolveOptions = {}): Promise<string | null> {
  return resolveRepoFile({ repo: repoIdOrDir, file, ...options });
}
