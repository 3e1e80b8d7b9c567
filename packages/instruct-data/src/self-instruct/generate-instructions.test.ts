import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AlpacaRecord } from "../dataset/records.js";
import { rougeL } from "../rouge/rouge-l.js";
import { generateInstructions } from "./generate-instructions.js";
import { chatCompletion, startMockOpenAIServer, type MockOpenAIServer } from "./mock-openai-server.js";

const FIXTURES = new URL("../../test-fixtures/alpaca/", import.meta.url);
const PROMPT_TXT = readFileSync(new URL("prompt.txt", FIXTURES), "utf8");
const SEEDS: AlpacaRecord[] = readFileSync(new URL("seed_tasks.jsonl", FIXTURES), "utf8")
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line) as { instruction: string; instances: { input: string; output: string }[] })
  .map((t) => ({
    instruction: t.instruction,
    input: t.instances[0]?.input ?? "",
    output: t.instances[0]?.output ?? "",
  }));

function item(n: number, instruction: string, input = "<noinput>", output = "An answer."): string {
  return `${n}. Instruction: ${instruction}\n${n}. Input:\n${input}\n${n}. Output:\n${output}\n`;
}

const FIRST = [
  "Describe how volcanoes change the landscape around them over centuries.",
  "Explain why glaciers appear blue when seen up close.",
  "Suggest three names for a bakery that sells only croissants.",
  "Convert the following temperature from Celsius into Fahrenheit.",
  "Classify these animals as mammals, birds or reptiles.",
  "Rewrite this sentence so that it sounds more polite.",
  "Compose a haiku about autumn leaves falling in Kyoto.",
  "Predict what happens when you mix baking soda and vinegar.",
  "Summarize the plot of Romeo and Juliet in two sentences.",
  "Recommend a beginner exercise routine for someone with back pain.",
  "Identify the grammatical error in the given sentence.",
  "Calculate the area of a circle whose radius is seven centimeters.",
];
const SECOND = [
  "Give reasons why octopuses are considered intelligent creatures.",
  "List five famous lighthouses and the countries they stand in.",
  "What are the health benefits of eating saffron regularly?",
  "Tell me which chess opening suits an aggressive player best.",
  "Propose a weekend itinerary for visiting Lisbon on a budget.",
  "How do vaccines train the immune system to fight viruses?",
  "Draft an email asking a landlord to repair a leaking faucet.",
  "Which programming language should a data analyst learn first, and why?",
  "Explain the difference between weather and climate to a teenager.",
  "Create a shopping list for a vegetarian lasagna dinner party.",
  "Argue for or against a four day working week.",
  "Invent a riddle whose answer is the word shadow.",
];
const first = (k: number) => FIRST[k % FIRST.length] as string;
const second = (k: number) => SECOND[(k * 5) % SECOND.length] as string;

// Distinct instructions per request number, plus one of each kind the filters must drop.
function answer(k: number): string {
  return [
    ` ${first(k)}\n${k % 2 === 0 ? "4. Input:\n<noinput>\n4. Output:\nSunny.\n" : "4. Input:\nIt rained all week.\n4. Output:\nWet.\n"}`,
    item(5, second(k)),
    item(6, "Draw a picture of a house."),
    item(7, "Short one."),
    item(8, "Write a program that adds numbers."),
    item(9, SEEDS[0]?.instruction ?? ""),
  ].join("###\n");
}

let server: MockOpenAIServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function tempOut(name = "regen.jsonl"): string {
  return join(mkdtempSync(join(tmpdir(), "llamats-gen-")), name);
}

function readLines(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("generateInstructions against a mock OpenAI server", () => {
  it("sends self-instruct prompts and keeps only filtered, deduplicated instructions with their similarities", async () => {
    server = await startMockOpenAIServer((_body, n) => ({
      status: 200,
      body: chatCompletion(n % 2 === 0 ? answer(n) : `4. Instruction:${answer(n)}`),
    }));
    const outputPath = tempOut();
    const result = await generateInstructions({
      baseUrl: server.baseUrl,
      model: "teacher",
      apiKey: "sk-test",
      seedTasks: SEEDS,
      promptText: PROMPT_TXT,
      numInstructions: 6,
      requestBatchSize: 2,
      outputPath,
      seed: 1,
      pricing: { promptPerMillion: 2, completionPerMillion: 4 },
    });
    expect(result.kept).toBe(6);
    const first = server.requests[0];
    expect(first?.path).toBe("/v1/chat/completions");
    expect(first?.authorization).toBe("Bearer sk-test");
    expect(first?.body.stop).toEqual(["\n20", "20.", "20."]);
    const content = (first?.body.messages as { content: string }[])[0]?.content ?? "";
    expect(content.startsWith(PROMPT_TXT)).toBe(true);
    expect(content.endsWith("###\n4. Instruction:")).toBe(true);
    expect(content.match(/^\d\. Instruction: /gm)).toHaveLength(3);

    const lines = readLines(outputPath);
    expect(lines).toHaveLength(6);
    for (const line of lines) {
      expect([...FIRST, ...SECOND]).toContain(line.instruction);
      const similar = line.most_similar_instructions as Record<string, number>;
      const [closest, score] = Object.entries(similar)[0] ?? ["", 0];
      expect(Object.keys(similar).length).toBe(10);
      expect(score).toBe(rougeL(line.instruction as string, closest).fmeasure);
      expect(score).toBeLessThanOrEqual(0.7);
      expect(typeof line.avg_similarity_score).toBe("number");
    }
    expect(lines.some((l) => l.input === "It rained all week.")).toBe(true);
    expect(lines.some((l) => l.input === "")).toBe(true);
    expect(result.rejected.blacklisted).toBeGreaterThan(0);
    expect(result.rejected["too-short"]).toBeGreaterThan(0);
    expect(result.rejected["write-a-program"]).toBeGreaterThan(0);
    expect(result.rejected["too-similar"]).toBeGreaterThan(0);
    expect(result.promptTokens).toBe(100 * result.requests);
    expect(result.costUsd).toBeCloseTo((result.promptTokens * 2 + result.completionTokens * 4) / 1e6, 12);
  });

  it("retries 429, 5xx, dropped connections, stalls and garbage without losing kept instructions", async () => {
    const script = ["429", "500", "destroy", "stall", "garbage", "ok", "ok", "ok", "ok", "ok"];
    server = await startMockOpenAIServer((_body, n) => {
      const step = script[n] ?? "ok";
      if (step === "429") return { status: 429, body: { error: "slow down" }, headers: { "retry-after": "0" } };
      if (step === "500") return { status: 500, body: { error: "boom" } };
      if (step === "destroy" || step === "stall") return step;
      if (step === "garbage") return { status: 200, body: chatCompletion("Sorry, I am just a language model.") };
      return { status: 200, body: chatCompletion(answer(n)) };
    });
    const outputPath = tempOut();
    const logs: string[] = [];
    const result = await generateInstructions({
      baseUrl: `${server.baseUrl}/v1`,
      model: "teacher",
      seedTasks: SEEDS,
      promptText: PROMPT_TXT,
      numInstructions: 4,
      requestBatchSize: 1,
      outputPath,
      seed: 2,
      requestTimeoutMs: 300,
      retryBaseDelayMs: 5,
      log: (l) => logs.push(l),
    });
    expect(result.kept).toBe(4);
    expect(readLines(outputPath)).toHaveLength(4);
    expect(logs.some((l) => l.includes("HTTP 429"))).toBe(true);
    expect(logs.some((l) => l.includes("HTTP 500"))).toBe(true);
    expect(logs.some((l) => l.includes("no answer within 300 ms"))).toBe(true);
  });

  it("stops when the teacher keeps repeating itself instead of asking forever", async () => {
    server = await startMockOpenAIServer(() => ({ status: 200, body: chatCompletion(answer(0)) }));
    const outputPath = tempOut();
    const result = await generateInstructions({
      baseUrl: server.baseUrl,
      model: "m",
      seedTasks: SEEDS,
      numInstructions: 10,
      requestBatchSize: 1,
      outputPath,
      seed: 4,
      maxFruitlessRequests: 3,
    });
    expect(result.kept).toBe(2);
    expect(result.stoppedEarly).toBe("fruitless");
    expect(result.requests).toBe(4);
    expect(readLines(outputPath)).toHaveLength(2);
  });

  it("resumes from the output file and stops on a refusal with what it kept on disk", async () => {
    const outputPath = tempOut();
    const previous = {
      instruction: second(7),
      input: "",
      output: "x",
      most_similar_instructions: {},
      avg_similarity_score: 0,
    };
    // A crash left a cut line after one good record.
    writeFileSync(outputPath, `${JSON.stringify(previous)}\n{"instruction": "cut`);
    let calls = 0;
    server = await startMockOpenAIServer((_body, n) => {
      calls++;
      return n === 0
        ? {
            status: 200,
            body: chatCompletion(answer(7) + "###\n" + item(10, "Explain how tides are caused by the moon.")),
          }
        : { status: 401, body: { error: "bad key" } };
    });
    await expect(
      generateInstructions({
        baseUrl: server.baseUrl,
        model: "m",
        seedTasks: SEEDS,
        promptText: PROMPT_TXT,
        numInstructions: 10,
        requestBatchSize: 1,
        outputPath,
        seed: 3,
      }),
    ).rejects.toThrow(/Generation stopped with 3 of 10 instructions.*401/);
    expect(calls).toBe(2);
    const text = readFileSync(outputPath, "utf8");
    expect(text.startsWith(`${JSON.stringify(previous)}\n{"instruction": "cut\n`)).toBe(true);
    const kept = text
      .trim()
      .split("\n")
      .slice(2)
      .map((l) => (JSON.parse(l) as { instruction: string }).instruction);
    // second(7) is already in the file, so only the other two are new.
    expect(kept).toEqual([first(7), "Explain how tides are caused by the moon."]);
  });
});
