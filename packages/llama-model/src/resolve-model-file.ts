import { resolveRepoFile } from "@llamats/core";

export interface ResolveOptions {
  revision?: string;
  offline?: boolean;
  /** The huggingface_hub cache folder (default: from HF_HUB_CACHE / HF_HOME). */
  cacheDir?: string;
  /** A Hub access token; '' means none (default: HF_TOKEN). */
  accessToken?: string;
  /** The Hub's base URL (default: HF_ENDPOINT, else https://huggingface.co). */
  hubUrl?: string;
  fetch?: typeof fetch;
  onProgress?: (event: { file: string; loaded: number; total?: number }) => void;
  signal?: AbortSignal;
}

/** Local path of `file` in a model directory or Hub repo (downloaded into the HF cache), or null if the repo has no such file. */
export function resolveModelFile(
  repoIdOrDir: string,
  file: string,
  options: ResolveOptions = {},
): Promise<string | null> {
  return resolveRepoFile({ repo: repoIdOrDir, file, ...options });
}
