import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Command, CommandContext } from "../command.js";
import { pushFolder } from "../hub-push.js";

const USAGE = `llamats push <dir> --repo <user/name> [--private] [--revision <branch>] [--commit-message <text>] [--write-card]

Upload an adapter folder (from \`llamats finetune\`) or a model folder (from \`llamats merge\` or
\`finetune --full\`) to the Hugging Face Hub in one commit, creating the repo when it does not exist.
Large files go through LFS; a push run again after an interruption does not re-send what the Hub
already has. Checkpoint folders (checkpoint-*/) and hidden files stay local.

When the folder has no README.md, a model card is generated from what finetune saved
(adapter_config.json, training_args.json, metrics.jsonl, loss_curve.svg) and pushed with it.

Options:
  --repo <user/name>          the Hub repo to push to (required)
  --private                   create the repo private (an existing repo keeps its visibility)
  --revision <branch>         the branch to commit to (default main; created when missing)
  --commit-message <text>     the commit's title
  --write-card                also write the generated model card into <dir>/README.md

Environment: HF_TOKEN (a token with the Write role; or the file \`huggingface-cli login\` writes), HF_ENDPOINT.`;

export const command: Command = {
  name: "push",
  summary: "Upload an adapter or model folder to the Hugging Face Hub, with a model card",
  usage: USAGE,
  async run(args: string[], ctx: CommandContext): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        repo: { type: "string" },
        private: { type: "boolean" },
        revision: { type: "string" },
        "commit-message": { type: "string" },
        "write-card": { type: "boolean", default: false },
      },
    });
    const [dir, ...extra] = positionals;
    if (!dir || extra.length > 0 || !values.repo) {
      ctx.stderr.write(
        "llamats push: give one folder and --repo, e.g. `llamats push ./lora-alpaca --repo you/alpaca-lora`.\n",
      );
      return 2;
    }
    const result = await pushFolder({
      dir: resolve(ctx.cwd, dir),
      repo: values.repo,
      ...(values.private ? { private: true } : {}),
      ...(values.revision ? { revision: values.revision } : {}),
      ...(values["commit-message"] ? { commitMessage: values["commit-message"] } : {}),
      writeCard: values["write-card"],
      ctx,
    });
    ctx.stdout.write(`${result.repoUrl}\n`);
    return 0;
  },
};
