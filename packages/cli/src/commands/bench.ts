import type { Command, CommandContext } from "../command.js";

type BenchRunner = (args: string[], ctx: CommandContext) => Promise<number>;

/** Each benchmark prints its figures and, where an anchor runs on this machine, the ratio measured in the same run. */
const BENCHES: Record<string, { summary: string; load: () => Promise<BenchRunner> }> = {
  tokenizer: {
    summary:
      "encode throughput vs @huggingface/tokenizers and SentencePiece C++ (when python3-sentencepiece is installed)",
    load: async () => (await import("../bench/tokenizer.js")).runTokenizerBench,
  },
  generate: {
    summary: "generation tokens/s for a stories15M-shaped model, batch 1, 256 new tokens",
    load: async () => (await import("../bench/generate.js")).runGenerateBench,
  },
  train: {
    summary: "LoRA training tokens/s (stories15M shape, batch 8 × 256) vs PyTorch CPU in the same run",
    load: async () => (await import("../bench/train.js")).runTrainBench,
  },
  dedup: {
    summary: "ROUGE-L dedup of 10,000 instructions against each other",
    load: async () => (await import("../bench/dedup.js")).runDedupBench,
  },
  serve: {
    summary: "load test: 50 concurrent streaming clients against `llamats serve` on the tiny model",
    load: async () => (await import("../bench/serve.js")).runServeBench,
  },
};

const usage = [
  "llamats bench <name> [options]",
  "",
  "Benchmarks print absolute figures and ratios against the anchors measured in the same run.",
  "",
  ...Object.entries(BENCHES).map(([name, b]) => `  ${name.padEnd(10)} ${b.summary}`),
  "",
  "Run `llamats bench <name> --help` for the options of one benchmark.",
].join("\n");

export const command: Command = {
  name: "bench",
  summary: "Benchmarks: tokenizer, generate, train, dedup, serve",
  usage,
  handlesSubcommandHelp: true,
  async run(args, ctx) {
    const [name, ...rest] = args;
    const bench = name ? BENCHES[name] : undefined;
    if (!bench) {
      ctx.stderr.write(`${name ? `llamats bench: unknown benchmark "${name}".\n\n` : ""}${usage}\n`);
      return 2;
    }
    const runner = await bench.load();
    return runner(rest, ctx);
  },
};
