import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const DEFAULT_HUB_URL = "https://huggingface.co";

/** The Hub settings a process gets from its environment (the same variables Python's huggingface_hub reads). */
export interface HubSettings {
  cacheDir: string;
  hubUrl: string;
  accessToken?: string;
  offline: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function hfHome(env: Env): string {
  const home = nonEmpty(env.HF_HOME);
  if (home) return expandHome(home);
  return join(expandHome(nonEmpty(env.XDG_CACHE_HOME) ?? join(homedir(), ".cache")), "huggingface");
}

/** `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub` (as huggingface_hub resolves it). */
export function hubCacheDir(env: Env = process.env): string {
  const explicit = nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE);
  return explicit ? expandHome(explicit) : join(hfHome(env), "hub");
}

/** The token from `HF_TOKEN`, else the file `huggingface-cli login` / `hf auth login` wrote. */
function tokenFrom(env: Env): string | undefined {
  const direct = nonEmpty(env.HF_TOKEN) ?? nonEmpty(env.HUGGING_FACE_HUB_TOKEN);
  if (direct) return direct;
  const path = nonEmpty(env.HF_TOKEN_PATH) ? expandHome(env.HF_TOKEN_PATH as string) : join(hfHome(env), "token");
  try {
    return nonEmpty(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

function isTruthy(value: string | undefined): boolean {
  return ["1", "true", "yes", "on"].includes((value ?? "").trim().toLowerCase());
}

/**
 * Reads `HF_TOKEN`, `HF_HOME` / `HF_HUB_CACHE`, `HF_ENDPOINT` and `HF_HUB_OFFLINE`. The only place llamats reads them:
 * the CLI passes the result on; library functions fall back to it for options left out.
 */
export function hubSettingsFromEnv(env: Env = process.env): HubSettings {
  const settings: HubSettings = {
    cacheDir: hubCacheDir(env),
    hubUrl: (nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_HUB_URL).replace(/\/+$/, ""),
    offline: isTruthy(env.HF_HUB_OFFLINE),
  };
  const token = tokenFrom(env);
  if (token) settings.accessToken = token;
  return settings;
}
