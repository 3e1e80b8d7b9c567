import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "@llamats/core";
import { HfTokenizer, SentencePieceTokenizer, type Tokenizer } from "@llamats/tokenizer";
import type { CommandContext } from "../command.js";

const TOKENIZER_BENCH_USAGE = `llamats bench tokenizer [--fixtures DIR] [--repeat 20] [--rounds 3] [--json]

Encodes the fixture texts line by line (the texts of tokenizer-sp/cases.json joined and repeated
--repeat times, as ../shared/bench/sp_speed.py does) and prints tokens/s for llamats and, in the
same run, for @huggingface/tokenizers on the same tokenizer.json and for SentencePiece C++ through
sp_speed.py when Debian's python3-sentencepiece is installed. --fixtures defaults to ../shared/fixtures.`;

interface JsTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] } | number[];
}
type JsTokenizerClass = new (json: unknown, config: unknown) => JsTokenizer;

interface Measurement {
  name: string;
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
}

function findFixtures(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, "..", "shared", "fixtures");
    if (existsSync(join(candidate, "tokenizer-sp", "cases.json"))) return resolve(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/** @huggingface/tokenizers is a dev dependency of the CLI: absent from a user's install, where its row is skipped. */
async function loadJsTokenizers(): Promise<JsTokenizerClass | undefined> {
  const pick = (mod: Record<string, unknown>): JsTokenizerClass | undefined =>
    (mod.Tokenizer ?? (mod.default as Record<string, unknown> | undefined)?.Tokenizer) as JsTokenizerClass | undefined;
  try {
    return pick(await import("@huggingface/tokenizers"));
  } catch {
    return undefined;
  }
}

function measure(name: string, lines: string[], rounds: number, encode: (line: string) => number): Measurement {
  // One untimed pass so that JIT warm-up is not measured.
  for (const line of lines) encode(line);
  let tokens = 0;
  const start = performance.now();
  for (let r = 0; r < rounds; r++) for (const line of lines) tokens += encode(line);
  const seconds = (performance.now() - start) / 1000;
  return { name, tokens, seconds, tokensPerSecond: tokens / seconds };
}

function runSentencePieceAnchor(
  fixtures: string,
): Promise<{ perLine: number; mismatch: number; version: string } | string> {
  const script = join(fixtures, "..", "bench", "sp_speed.py");
  if (!existsSync(script)) return Promise.resolve(`no ${script}`);
  return new Promise((done) => {
    execFile("/usr/bin/python3", [script, fixtures], { timeout: 300_000 }, (error, stdout, stderr) => {
      if (error) {
        done(
          /No module named .sentencepiece/.test(stderr)
            ? "python3-sentencepiece is not installed (apt-get install -y python3-sentencepiece)"
            : `sp_speed.py failed: ${stderr.trim().split("\n").pop()}`,
        );
        return;
      }
      try {
        const out = JSON.parse(stdout.trim().split("\n").pop()!) as {
          per_line_ktok_s: number;
          mismatch: number;
          anchor: string;
        };
        done({ perLine: out.per_line_ktok_s * 1000, mismatch: out.mismatch, version: out.anchor });
      } catch {
        done(`could not read sp_speed.py output: ${stdout.slice(0, 200)}`);
      }
    });
  });
}

/** `llamats bench tokenizer`. */
export async function runTokenizerBench(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      fixtures: { type: "string" },
      repeat: { type: "string" },
      rounds: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) {
    ctx.stdout.write(TOKENIZER_BENCH_USAGE + "\n");
    return 0;
  }
  const fixtures = values.fixtures ? resolve(ctx.cwd, values.fixtures) : findFixtures(ctx.cwd);
  if (!fixtures || !existsSync(join(fixtures, "tokenizer-sp", "cases.json"))) {
    throw new ConfigError(
      `no tokenizer fixtures found${fixtures ? ` in ${fixtures}` : " (looked for ../shared/fixtures above the current folder)"}; pass --fixtures DIR`,
      {
        key: "fixtures",
      },
    );
  }
  const repeat = Number(values.repeat ?? 20);
  const rounds = Number(values.rounds ?? 3);
  const readJson = (path: string): unknown => JSON.parse(readFileSync(join(fixtures, path), "utf8"));
  const texts = (readJson("tokenizer-sp/cases.json") as Array<{ text: string }>).map((c) => c.text);
  // Same text as sp_speed.py: the cases joined by newlines, repeated, then split into lines.
  const lines = texts.join("\n").repeat(repeat).split("\n");

  const sp = SentencePieceTokenizer.fromModelProto(
    new Uint8Array(readFileSync(join(fixtures, "tokenizer-sp/tokenizer.model"))),
  );
  const spHfJson = readJson("tokenizer-sp-hf/tokenizer.json");
  const byteLevelJson = readJson("tokenizer-bytelevel/tokenizer.json");
  const ours = (t: Tokenizer) => (line: string) => t.encode(line, { addSpecialTokens: false }).length;
  const results: Measurement[] = [
    measure("llamats tokenizer.model (SentencePiece)", lines, rounds, ours(sp)),
    measure("llamats tokenizer.json (tokenizer-sp-hf)", lines, rounds, ours(HfTokenizer.fromTokenizerJson(spHfJson))),
    measure(
      "llamats tokenizer.json (tokenizer-bytelevel)",
      lines,
      rounds,
      ours(HfTokenizer.fromTokenizerJson(byteLevelJson)),
    ),
  ];
  const JsTokenizers = await loadJsTokenizers();
  const notes: string[] = [];
  if (JsTokenizers) {
    const js = (json: unknown) => {
      const t = new JsTokenizers(json, {});
      return (line: string) => {
        const out = t.encode(line, { add_special_tokens: false });
        return Array.isArray(out) ? out.length : out.ids.length;
      };
    };
    results.push(measure("@huggingface/tokenizers (tokenizer-sp-hf)", lines, rounds, js(spHfJson)));
    results.push(measure("@huggingface/tokenizers (tokenizer-bytelevel)", lines, rounds, js(byteLevelJson)));
  } else notes.push("@huggingface/tokenizers not found: install it to compare");
  const anchor = await runSentencePieceAnchor(fixtures);
  if (typeof anchor === "string") notes.push(`SentencePiece C++ skipped: ${anchor}`);
  else
    results.push({ name: `${anchor.version} (C++, per line)`, tokens: 0, seconds: 0, tokensPerSecond: anchor.perLine });

  const rate = (name: string): number | undefined => results.find((r) => r.name.startsWith(name))?.tokensPerSecond;
  const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a && b ? a / b : undefined);
  const ratios = {
    sentencepieceModelVsSentencePieceCpp: ratio(
      rate("llamats tokenizer.model"),
      typeof anchor === "string" ? undefined : anchor.perLine,
    ),
    spHfJsonVsHuggingfaceTokenizers: ratio(
      rate("llamats tokenizer.json (tokenizer-sp-hf)"),
      rate("@huggingface/tokenizers (tokenizer-sp-hf)"),
    ),
    byteLevelJsonVsHuggingfaceTokenizers: ratio(
      rate("llamats tokenizer.json (tokenizer-bytelevel)"),
      rate("@huggingface/tokenizers (tokenizer-bytelevel)"),
    ),
  };
  if (values.json) {
    ctx.stdout.write(JSON.stringify({ lines: lines.length, rounds, results, ratios, notes }, null, 2) + "\n");
    return 0;
  }
  ctx.stdout.write(`tokenizer encode, line by line: ${lines.length} lines × ${rounds} rounds\n`);
  for (const r of results)
    ctx.stdout.write(`  ${r.name.padEnd(48)} ${(r.tokensPerSecond / 1e6).toFixed(2).padStart(7)} M tokens/s\n`);
  const show = (label: string, value: number | undefined): void => {
    if (value !== undefined) ctx.stdout.write(`  ${label.padEnd(48)} ${value.toFixed(2).padStart(7)} ×\n`);
  };
  ctx.stdout.write("ratios (llamats / anchor, same run):\n");
  show("tokenizer.model vs SentencePiece C++", ratios.sentencepieceModelVsSentencePieceCpp);
  show("tokenizer-sp-hf vs @huggingface/tokenizers", ratios.spHfJsonVsHuggingfaceTokenizers);
  show("tokenizer-bytelevel vs @huggingface/tokenizers", ratios.byteLevelJsonVsHuggingfaceTokenizers);
  for (const note of notes) ctx.stdout.write(`note: ${note}\n`);
  return 0;
}
