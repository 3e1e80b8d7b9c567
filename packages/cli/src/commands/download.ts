import { parseArgs } from "node:util";
import { ConfigError, downloadRepo, hubSettingsFromEnv, type RepoType } from "@llamats/core";
import type { Command, CommandContext } from "../command.js";
import { createProgressBar } from "../progress-bar.js";

const USAGE = `llamats download <repo> [--revision <rev>] [--include <glob> ...] [--exclude <glob> ...]
                 [--repo-type model|dataset] [--offline]

Download a model (or dataset) repository from the Hugging Face Hub into the shared cache
(the one Python's huggingface_hub uses: $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub)
and print the snapshot folder. Files already in the cache are not downloaded again.

Options:
  --revision <rev>     branch, tag or commit (default main)
  --include <glob>     only files matching this pattern, e.g. "*.json" "*.safetensors" (repeatable)
  --exclude <glob>     skip files matching this pattern (repeatable)
  --repo-type <type>   model (default) or dataset
  --offline            use only the cache (also HF_HUB_OFFLINE=1)

Environment: HF_TOKEN (gated/private repos), HF_HOME / HF_HUB_CACHE, HF_ENDPOINT, HF_HUB_OFFLINE.`;

function repoType(value: string | undefined): RepoType {
  if (value === undefined || value === "model" || value === "dataset") return value ?? "model";
  throw new ConfigError(`--repo-type must be model or dataset; got "${value}".`, { key: "repo-type" });
}

export const command: Command = {
  name: "download",
  summary: "Download a model repository from the Hugging Face Hub into the shared cache",
  usage: USAGE,
  async run(args: string[], ctx: CommandContext): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        revision: { type: "string" },
        include: { type: "string", multiple: true },
        exclude: { type: "string", multiple: true },
        "repo-type": { type: "string" },
        offline: { type: "boolean", default: false },
      },
    });
    const [repo, ...extra] = positionals;
    if (!repo || extra.length > 0) {
      ctx.stderr.write(`llamats download: give exactly one repo id, e.g. \`llamats download org/name\`.\n`);
      return 2;
    }
    const settings = hubSettingsFromEnv(ctx.env);
    const bar = createProgressBar({ stream: ctx.stderr });
    try {
      const result = await downloadRepo({
        repo,
        repoType: repoType(values["repo-type"]),
        revision: values.revision ?? "main",
        ...(values.include ? { include: values.include } : {}),
        ...(values.exclude ? { exclude: values.exclude } : {}),
        offline: values.offline || settings.offline,
        cacheDir: settings.cacheDir,
        hubUrl: settings.hubUrl,
        // '' (no token) rather than undefined, so the library does not fall back to process.env.
        accessToken: settings.accessToken ?? "",
        signal: ctx.signal,
        onProgress: (p) =>
          bar.update(p.fileCount ? `[${p.fileIndex}/${p.fileCount}] ${p.file}` : p.file, p.loaded, p.total),
      });
      bar.done();
      ctx.stderr.write(
        `${result.files.length} file${result.files.length === 1 ? "" : "s"} of ${repo} at commit ${result.commit.slice(0, 12)} in the cache.\n`,
      );
      ctx.stdout.write(`${result.path}\n`);
      return 0;
    } finally {
      bar.done();
    }
  },
};
