import { parseArgs } from "node:util";
import { ValidationError } from "@llamats/core";
import {
  createFakeEngine,
  createServer,
  runLoadTest,
  type GenerationEngine,
  type LoadTestReport,
} from "@llamats/server";
import { BACKEND_USAGE, parseBackendOption } from "../backend-option.js";
import type { CommandContext } from "../command.js";
import { startBackend, warnTo } from "../start-backend.js";
import { loadServeEngine, parseAdapterArg, parsePromptFormats, positiveInteger } from "../commands/serve.js";

const usage = `llamats bench serve --model <repo|dir> [options]
llamats bench serve --fake [options]

Starts the server in this process on 127.0.0.1 (a free port), sends --clients streaming chat requests at once,
and checks that each one is either served with a well-formed SSE stream or answered 429 with Retry-After.
Prints time to first token (p50/p95), tokens/s, and memory before and after. Exit code 1 on any crash,
malformed stream or other failure.

Options:
  --model <repo|dir>       the model to serve (e.g. the tiny test model: packages/server/test-fixtures/llama1-tiny)
  --adapter <name=path>    serve an adapter too; the clients ask for the last one given
  --fake                   a deterministic fake engine instead of a model: measures the HTTP layer alone
  --clients <n>            concurrent streaming clients (default 50, at most 500)
  --max-tokens <n>         tokens per reply (default 16)
  --max-concurrency <n>    server concurrency limit (default 4)
  --queue-size <n>         server queue size (default 32)
  --rounds <n>             repeat the burst n times, to see memory stay flat (default 1, at most 20)
${BACKEND_USAGE}
  --json                   print the report as JSON`;

/** `llamats bench serve`: a bounded load test of the server on 127.0.0.1. */
export async function runServeBench(args: string[], ctx: CommandContext): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    ctx.stdout.write(`${usage}\n`);
    return 0;
  }
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      model: { type: "string" },
      adapter: { type: "string", multiple: true },
      "prompt-format": { type: "string", multiple: true },
      fake: { type: "boolean" },
      clients: { type: "string" },
      "max-tokens": { type: "string" },
      "max-concurrency": { type: "string" },
      "queue-size": { type: "string" },
      rounds: { type: "string" },
      backend: { type: "string" },
      json: { type: "boolean" },
    },
  });
  if (!values.model && !values.fake)
    throw new ValidationError("Give --model <repo|dir>, or --fake to bench the HTTP layer alone.", {
      location: "--model",
    });
  const clients = Math.min(500, positiveInteger(values.clients, "--clients", 50));
  const rounds = Math.min(20, positiveInteger(values.rounds, "--rounds", 1));
  const maxTokens = positiveInteger(values["max-tokens"], "--max-tokens", 16);
  const log = (line: string): void => void ctx.stderr.write(`[bench serve] ${line}\n`);

  let engine: GenerationEngine;
  let backendName = "none (fake engine)";
  if (values.fake) {
    engine = createFakeEngine({ models: [{ id: "fake" }] });
  } else {
    const backend = await startBackend({ backend: parseBackendOption(values.backend), warn: warnTo(ctx.stderr) });
    backendName = backend.backend;
    const adapters = (values.adapter ?? []).map(parseAdapterArg);
    engine = await loadServeEngine({
      model: values.model!,
      adapters,
      promptFormats: parsePromptFormats(values["prompt-format"] ?? []),
      cwd: ctx.cwd,
      log,
    });
  }
  const model = engine.listModels().at(-1)!.id;
  const server = await createServer({
    engine,
    maxConcurrency: positiveInteger(values["max-concurrency"], "--max-concurrency", 4),
    queueSize: positiveInteger(values["queue-size"], "--queue-size", 32, 0),
  });
  const baseUrl = await server.listen({ host: "127.0.0.1", port: 0 });
  const memoryBefore = process.memoryUsage();
  const reports: LoadTestReport[] = [];
  try {
    for (let round = 0; round < rounds && !ctx.signal.aborted; round += 1) {
      reports.push(await runLoadTest({ baseUrl, model, clients, maxTokens, timeoutMs: 300_000 }));
    }
  } finally {
    await server.close({ graceMs: 1000 });
  }
  const memoryAfter = process.memoryUsage();
  const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const bad = reports.reduce(
    (sum, report) => sum + report.malformed + report.failed + (report.healthyAfter ? 0 : 1),
    0,
  );

  if (values.json) {
    const summaries = reports.map(({ outcomes: _outcomes, ...summary }) => summary);
    ctx.stdout.write(
      `${JSON.stringify({ backend: backendName, model, clients, maxTokens, rounds: summaries, memoryBefore, memoryAfter }, null, 2)}\n`,
    );
  } else {
    const ms = (value: number | null): string => (value === null ? "n/a" : `${value.toFixed(0)} ms`);
    ctx.stdout.write(
      `llamats bench serve — ${clients} concurrent streaming clients, ${maxTokens} tokens each, model '${model}', backend ${backendName}\n`,
    );
    reports.forEach((report, index) => {
      ctx.stdout.write(
        `round ${index + 1}: served ${report.served}, 429 ${report.rejected}, malformed ${report.malformed}, failed ${report.failed}; ` +
          `TTFT p50 ${ms(report.timeToFirstTokenMs.p50)}, p95 ${ms(report.timeToFirstTokenMs.p95)}; ` +
          `${report.tokensPerSecond.toFixed(1)} tokens/s; wall ${(report.wallMs / 1000).toFixed(2)} s; healthy after: ${report.healthyAfter ? "yes" : "NO"}\n`,
      );
      for (const problem of report.problems.slice(0, 5)) ctx.stdout.write(`  problem: ${problem}\n`);
    });
    ctx.stdout.write(
      `memory: heap ${mib(memoryBefore.heapUsed)} → ${mib(memoryAfter.heapUsed)}, rss ${mib(memoryBefore.rss)} → ${mib(memoryAfter.rss)}\n`,
    );
    ctx.stdout.write(
      bad === 0 ? "result: OK (every request served or answered 429)\n" : `result: FAILED (${bad} bad outcomes)\n`,
    );
  }
  return bad === 0 ? 0 : 1;
}
