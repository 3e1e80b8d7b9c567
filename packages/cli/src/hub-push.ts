import { stat } from "node:fs/promises";
import { join } from "node:path";
import { hubSettingsFromEnv, pushToHub, writeFileAtomic, type PushResult } from "@llamats/core";
import type { CommandContext } from "./command.js";
import { gatherCardFacts, type CardFacts } from "./model-card/card-facts.js";
import { renderModelCard } from "./model-card/render-model-card.js";
import { readTrainingArgs } from "./model-card/training-args.js";
import { createProgressBar } from "./progress-bar.js";

export interface PushFolderOptions {
  dir: string;
  repo: string;
  private?: boolean;
  revision?: string;
  commitMessage?: string;
  /** Also write the generated README.md into `dir` (by default it goes only into the push). */
  writeCard?: boolean;
  /** What the folder holds, for the card; default: an adapter when it has adapter_config.json. */
  kind?: CardFacts["kind"];
  baseModel?: string;
  adapter?: string;
  /** Where the adapter's training outputs are, for a merged model's card. */
  trainingDir?: string;
  ctx: CommandContext;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}

/** An adapter folder has adapter_config.json; a model folder is a full fine-tune when finetune's record says so. */
async function folderKind(dir: string): Promise<CardFacts["kind"]> {
  if (await exists(join(dir, "adapter_config.json"))) return "adapter";
  return (await readTrainingArgs(dir))?.method === "full" ? "full" : "merged";
}

/** The folder's own README.md, or a generated model card (pushed, and written into the folder only when asked). */
async function modelCard(options: PushFolderOptions, hub: { hubUrl: string; accessToken: string; cacheDir: string }) {
  if (await exists(join(options.dir, "README.md"))) return null;
  const kind = options.kind ?? (await folderKind(options.dir));
  const facts = await gatherCardFacts({
    dir: options.dir,
    repo: options.repo,
    kind,
    ...(options.baseModel ? { baseModel: options.baseModel } : {}),
    ...(options.adapter ? { adapter: options.adapter } : {}),
    ...(options.trainingDir ? { trainingDir: options.trainingDir } : {}),
    hub: { ...hub, signal: options.ctx.signal },
  });
  const card = renderModelCard(facts);
  if (options.writeCard) await writeFileAtomic(join(options.dir, "README.md"), card);
  return card;
}

/** Pushes a folder with the CLI's settings (HF_TOKEN, HF_ENDPOINT) and progress bar; prints where it went. */
export async function pushFolder(options: PushFolderOptions): Promise<PushResult> {
  const { ctx } = options;
  const settings = hubSettingsFromEnv(ctx.env);
  const hub = { hubUrl: settings.hubUrl, accessToken: settings.accessToken ?? "", cacheDir: settings.cacheDir };
  const card = await modelCard(options, hub);
  const bar = createProgressBar({ stream: ctx.stderr });
  try {
    const result = await pushToHub({
      dir: options.dir,
      repo: options.repo,
      ...(options.private !== undefined ? { private: options.private } : {}),
      ...(options.revision ? { revision: options.revision } : {}),
      ...(options.commitMessage ? { commitMessage: options.commitMessage } : {}),
      ...(card ? { extraFiles: { "README.md": card } } : {}),
      hubUrl: hub.hubUrl,
      accessToken: hub.accessToken,
      signal: ctx.signal,
      onProgress: (p) => bar.update(`[${p.fileIndex}/${p.fileCount}] ${p.phase} ${p.file}`, p.loaded, p.total),
    });
    bar.done();
    const cardNote = card
      ? `, with a generated model card${options.writeCard ? " (also written to README.md)" : ""}`
      : "";
    ctx.stderr.write(
      `${result.created ? "created" : "updated"} ${result.repoUrl}: ${result.files.length} file${result.files.length === 1 ? "" : "s"} in commit ${result.commit.slice(0, 12)}${cardNote}\n`,
    );
    return result;
  } finally {
    bar.done();
  }
}
