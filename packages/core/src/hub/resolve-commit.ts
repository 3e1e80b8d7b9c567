import { datasetInfo, modelInfo } from "@huggingface/hub";
import { HubError } from "../errors.js";
import { COMMIT_SHA } from "./cache-layout.js";
import { toHubError } from "./hub-errors.js";
import type { HubSession } from "./hub-session.js";

/** Asks the Hub which commit a revision (branch, tag or sha) points at, and records it in `refs/<revision>`. */
export async function resolveCommit(session: HubSession): Promise<string> {
  const params = {
    name: session.repo,
    revision: session.revision,
    hubUrl: session.hubUrl,
    fetch: session.fetch,
    additionalFields: ["sha" as const],
    ...(session.accessToken ? { accessToken: session.accessToken } : {}),
  };
  let sha: unknown;
  try {
    const info = session.repoType === "dataset" ? await datasetInfo(params) : await modelInfo(params);
    sha = info.sha;
  } catch (error) {
    throw toHubError(error, session.ctx);
  }
  if (typeof sha !== "string" || !COMMIT_SHA.test(sha)) {
    throw new HubError(
      `The Hub gave no commit sha for ${session.repo} at revision "${session.revision}" (got ${JSON.stringify(sha)}).`,
      {
        url: session.hubUrl,
      },
    );
  }
  await session.cache.writeRef(session.revision, sha);
  return sha;
}
