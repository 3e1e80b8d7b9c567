export type RepoType = "model" | "dataset";

/** One progress report while a file downloads. */
export interface HubProgress {
  /** Path of the file inside the repo. */
  file: string;
  /** Bytes of this file received so far. */
  loaded: number;
  /** Size of this file in bytes. */
  total: number;
  /** 1-based position of the file among those being downloaded (downloadRepo only). */
  fileIndex?: number;
  /** How many files are being downloaded (downloadRepo only). */
  fileCount?: number;
}

/** Options every Hub function takes; anything left out comes from `hubSettingsFromEnv()`. */
export interface HubOptions {
  repoType?: RepoType;
  /** Branch, tag or commit sha; default "main". */
  revision?: string;
  /** Use only the local cache (also `HF_HUB_OFFLINE=1`). */
  offline?: boolean;
  /** The huggingface_hub cache folder (`HF_HUB_CACHE`, `HF_HOME/hub`, `~/.cache/huggingface/hub`). */
  cacheDir?: string;
  /** A Hugging Face access token (`HF_TOKEN`), needed for gated and private repos; '' means none (no fallback to the environment). */
  accessToken?: string;
  /** The Hub's base URL (`HF_ENDPOINT`), default https://huggingface.co. */
  hubUrl?: string;
  fetch?: typeof fetch;
  onProgress?: (progress: HubProgress) => void;
  signal?: AbortSignal;
}
