import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, hubSettingsFromEnv, isLocalPath } from "@llamats/core";
import { loadTokenizer } from "@llamats/tokenizer";
import type { Command, CommandContext } from "../command.js";

const USAGE = `llamats tokenize <model-dir | tokenizer file | repo> (--text T | --file F) [--json] [--pieces]

Encode text with a tokenizer.json or tokenizer.model (a folder or Hub repo with both uses tokenizer.json,
as transformers does) and print the token ids.

Options:
  --text T           the text to encode
  --file F           encode the contents of file F (as one text)
  --pieces           print the token strings instead of the ids
  --json             print { ids, tokens, count, decoded } as JSON
  --no-special       do not add BOS/EOS (by default they are added as the tokenizer's config says)
  --prefer NAME      tokenizer.json or tokenizer.model, when the folder or repo has both
  --revision REV     Hub branch, tag or commit
  --offline          use only the local Hub cache`;

async function run(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      text: { type: "string" },
      file: { type: "string" },
      json: { type: "boolean" },
      pieces: { type: "boolean" },
      "no-special": { type: "boolean" },
      prefer: { type: "string" },
      revision: { type: "string" },
      offline: { type: "boolean" },
    },
  });
  const [source, ...extra] = positionals;
  if (!source || extra.length > 0 || (values.text === undefined) === (values.file === undefined)) {
    ctx.stderr.write(`llamats tokenize: give one tokenizer source and exactly one of --text or --file.\n\n${USAGE}\n`);
    return 2;
  }
  const prefer = values.prefer;
  if (prefer !== undefined && prefer !== "tokenizer.json" && prefer !== "tokenizer.model") {
    throw new ConfigError(`--prefer must be tokenizer.json or tokenizer.model; found ${JSON.stringify(prefer)}`, {
      key: "prefer",
    });
  }
  const text = values.text ?? (await readFile(resolve(ctx.cwd, values.file!), "utf8"));
  const settings = hubSettingsFromEnv(ctx.env);
  const target = isLocalPath(source) && !isAbsolute(source) ? resolve(ctx.cwd, source) : source;
  const tokenizer = await loadTokenizer(target, {
    prefer,
    revision: values.revision,
    offline: values.offline || settings.offline,
    cacheDir: settings.cacheDir,
    hubUrl: settings.hubUrl,
    // '' (no token) rather than undefined, so the library does not fall back to process.env.
    accessToken: settings.accessToken ?? "",
    signal: ctx.signal,
  });
  const ids = tokenizer.encode(text, { addSpecialTokens: !values["no-special"] });
  const tokens = ids.map((id) => tokenizer.idToToken(id) ?? `<id ${id}>`);
  if (values.json) {
    ctx.stdout.write(JSON.stringify({ ids, tokens, count: ids.length, decoded: tokenizer.decode(ids) }) + "\n");
  } else if (values.pieces) {
    ctx.stdout.write(tokens.map((t) => JSON.stringify(t)).join(" ") + "\n");
  } else {
    ctx.stdout.write(ids.join(" ") + "\n");
  }
  return 0;
}

export const command: Command = {
  name: "tokenize",
  summary: "Tokenize text with a tokenizer.model, tokenizer.json, model directory or Hub repo",
  usage: USAGE,
  run,
};
