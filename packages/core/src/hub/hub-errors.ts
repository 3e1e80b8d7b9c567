import { HubApiError } from "@huggingface/hub";
import { HubError } from "../errors.js";
import { repoPageUrl } from "./repo-id.js";
import type { RepoType } from "./types.js";

export interface RequestContext {
  repo: string;
  repoType: RepoType;
  revision: string;
  hubUrl: string;
  hasToken: boolean;
  /** The file being fetched, when there is one. */
  file?: string;
  /** What the request was for (default "download"): a push needs a token with write access. */
  action?: "download" | "push";
}

function what(ctx: RequestContext): string {
  const kind = ctx.repoType === "dataset" ? "dataset" : "model";
  return `${ctx.file ? `${ctx.file} of ` : ""}${kind} ${ctx.repo} (revision "${ctx.revision}")`;
}

export function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

/** A fetch that got no HTTP answer at all (refused, DNS, reset): undici throws TypeError("fetch failed"). */
function isConnectionError(error: unknown): boolean {
  return error instanceof TypeError && error.message === "fetch failed";
}

/** True for a HubError made from a failure to reach the Hub (the cache may still serve the file). */
export function isNetworkFailure(error: unknown): boolean {
  return HubError.isInstance(error) && isConnectionError((error as Error).cause);
}

/** Turns what @huggingface/hub or fetch threw into a HubError that says what to do. */
export function toHubError(error: unknown, ctx: RequestContext): unknown {
  if (HubError.isInstance(error) || isAbort(error)) return error;
  const page = repoPageUrl(ctx.hubUrl, ctx.repo, ctx.repoType);
  if (error instanceof HubApiError) {
    const status = error.statusCode;
    const said = error.message.split(". URL:")[0];
    if ((status === 401 || status === 403) && ctx.action === "push") {
      const advice =
        status === 401
          ? "The access token (HF_TOKEN) is invalid or expired: create one with the Write role at https://huggingface.co/settings/tokens and set HF_TOKEN (or run `huggingface-cli login`)."
          : `The access token (HF_TOKEN) may not write there: use a token with the Write role (or a fine-grained token with write access to ${ctx.repo.split("/")[0]}), from https://huggingface.co/settings/tokens.`;
      return new HubError(
        `The Hub refused the push (HTTP ${status}) to ${what(ctx)}. ${advice} (The Hub said: ${said})`,
        {
          statusCode: status,
          url: error.url,
          cause: error,
        },
      );
    }
    if (status === 401 || status === 403) {
      const advice = ctx.hasToken
        ? `The access token (HF_TOKEN) was refused: check that it has read access, and accept the terms on the repo's page, ${page}.`
        : `It is gated or private: set HF_TOKEN to a Hugging Face access token (https://huggingface.co/settings/tokens), and accept the model's terms on its page, ${page}.`;
      return new HubError(
        `The Hub refused access (HTTP ${status}) to ${what(ctx)}. ${advice} (The Hub said: ${said})`,
        {
          statusCode: status,
          url: error.url,
          cause: error,
        },
      );
    }
    if (status === 404) {
      return new HubError(
        `The Hub has no ${what(ctx)} (HTTP 404: ${said}). Check the repo id and revision${ctx.hasToken ? "" : "; a private repo also needs HF_TOKEN"}.`,
        { statusCode: status, url: error.url, cause: error },
      );
    }
    return new HubError(`The Hub answered HTTP ${status} for ${what(ctx)}: ${said}`, {
      statusCode: status,
      url: error.url,
      cause: error,
    });
  }
  if (error instanceof TypeError && /access token must start with/.test(error.message)) {
    return new HubError(`The access token (HF_TOKEN) is malformed: Hugging Face tokens start with "hf_".`, {
      cause: error,
    });
  }
  if (isConnectionError(error)) {
    const reason = ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
    return new HubError(
      `Cannot reach the Hub at ${ctx.hubUrl} for ${what(ctx)} (${reason}). Check the network or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use only cached files.`,
      { url: ctx.hubUrl, cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  const doing = ctx.action === "push" ? `Pushing to ${what(ctx)} at` : `Downloading ${what(ctx)} from`;
  return new HubError(`${doing} ${ctx.hubUrl} failed: ${message}`, {
    url: ctx.hubUrl,
    cause: error,
  });
}
