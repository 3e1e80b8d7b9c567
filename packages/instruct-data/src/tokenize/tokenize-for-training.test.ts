import { describe, expect, it } from "vitest";
import { getTemplate } from "../templates/get-template.js";
import { collateBatch } from "./collate-batch.js";
import { groupByLength } from "./group-by-length.js";
import { packExamples } from "./pack-examples.js";
import { IGNORE_INDEX } from "@llamats/core";
import { tokenizeForTraining } from "./tokenize-for-training.js";
import type { TrainingTokenizer } from "./training-tokenizer.js";

// A word-level stand-in for SentencePiece: a dummy-prefix space, "▁word" pieces, newlines on their own.
function wordTokenizer(): TrainingTokenizer & { pieces(ids: number[]): string[] } {
  const ids = new Map<string, number>([
    ["<s>", 1],
    ["</s>", 2],
  ]);
  const pieces = new Map<number, string>([
    [1, "<s>"],
    [2, "</s>"],
  ]);
  const idOf = (piece: string) => {
    if (!ids.has(piece)) {
      ids.set(piece, ids.size + 1);
      pieces.set(ids.size, piece);
    }
    return ids.get(piece) as number;
  };
  return {
    bosTokenId: 1,
    eosTokenId: 2,
    encode(text, options) {
      const out = (" " + text).match(/\n| ?[^ \n]+/g)?.map((p) => idOf(p.replace(" ", "▁"))) ?? [];
      return options?.addSpecialTokens === false ? out : [1, ...out];
    },
    pieces: (list) => list.map((id) => (id === IGNORE_INDEX ? "-" : (pieces.get(id) as string))),
  };
}

const record = { instruction: "Say hi.", input: "", output: "Hi there" };
const short = getTemplate("alpaca_short");
const legacy = getTemplate("alpaca_legacy");

describe("tokenizeForTraining", () => {
  it("joint: encodes the full text once, masks BOS and the prompt, appends EOS", () => {
    const tok = wordTokenizer();
    const { input_ids, labels } = tokenizeForTraining(record, { tokenizer: tok, template: short, cutoffLen: 64 });
    expect(tok.pieces(input_ids)).toEqual([
      "<s>",
      "▁###",
      "▁Instruction:",
      "\n",
      "Say",
      "▁hi.",
      "\n",
      "\n",
      "###",
      "▁Response:",
      "\n",
      "Hi",
      "▁there",
      "</s>",
    ]);
    expect(tok.pieces(labels)).toEqual(["-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "Hi", "▁there", "</s>"]);
  });

  it("segmented: prompt and response each get the dummy prefix", () => {
    const tok = wordTokenizer();
    const { input_ids, labels } = tokenizeForTraining(record, {
      tokenizer: tok,
      template: legacy,
      cutoffLen: 64,
      tokenization: "segmented",
    });
    expect(tok.pieces(input_ids).slice(-5)).toEqual(["###", "▁Response:", "▁Hi", "▁there", "</s>"]);
    expect(tok.pieces(labels).filter((p) => p !== "-")).toEqual(["▁Hi", "▁there", "</s>"]);
    // Joint with the same template glues the response to "Response:" — the two modes differ.
    const joint = tokenizeForTraining(record, { tokenizer: tok, template: legacy, cutoffLen: 64 });
    expect(tok.pieces(joint.input_ids).slice(-4)).toEqual(["###", "▁Response:Hi", "▁there", "</s>"]);
  });

  it("trainOnInputs copies the ids into the labels; cutoffLen cuts and then leaves EOS out", () => {
    const tok = wordTokenizer();
    const full = tokenizeForTraining(record, { tokenizer: tok, template: short, cutoffLen: 64, trainOnInputs: true });
    expect(full.labels).toEqual(full.input_ids);
    const cut = tokenizeForTraining(record, { tokenizer: tok, template: short, cutoffLen: 12 });
    expect(tok.pieces(cut.input_ids)).toEqual(tok.pieces(full.input_ids).slice(0, 12));
    expect(tok.pieces(cut.labels).slice(-1)).toEqual(["Hi"]);
    const exact = tokenizeForTraining(record, { tokenizer: tok, template: short, cutoffLen: 13 });
    expect(tok.pieces(exact.input_ids).slice(-1)).toEqual(["▁there"]);
    const noEos = tokenizeForTraining(record, { tokenizer: tok, template: short, cutoffLen: 64, addEos: false });
    expect(noEos.input_ids).toEqual(full.input_ids.slice(0, -1));
  });

  it("masks every non-assistant part of a multi-turn chat", () => {
    const tok = wordTokenizer();
    tok.chatTemplate = "x";
    tok.applyChatTemplate = (messages, options) =>
      messages.map((m) => `${m.role}: ${m.content}\n`).join("") + (options?.addGenerationPrompt ? "assistant:" : "");
    const messages = [
      { role: "user", content: "a b" },
      { role: "assistant", content: "c" },
      { role: "user", content: "d" },
      { role: "assistant", content: "e f" },
    ];
    const { input_ids, labels } = tokenizeForTraining(
      { messages },
      { tokenizer: tok, template: getTemplate("chat"), cutoffLen: 64, tokenization: "segmented" },
    );
    expect(tok.pieces(input_ids)).toEqual([
      "<s>",
      "▁user:",
      "▁a",
      "▁b",
      "\n",
      "assistant:",
      "▁c",
      "\n",
      "▁user:",
      "▁d",
      "\n",
      "assistant:",
      "▁e",
      "▁f",
      "\n",
      "</s>",
    ]);
    expect(tok.pieces(labels)).toEqual([
      "-",
      "-",
      "-",
      "-",
      "-",
      "-",
      "▁c",
      "\n",
      "-",
      "-",
      "-",
      "-",
      "▁e",
      "▁f",
      "\n",
      "</s>",
    ]);
  });

  it("passes pre-tokenized records through, cut to cutoffLen", () => {
    const tok = wordTokenizer();
    expect(tokenizeForTraining({ input_ids: [1, 5, 6, 7] }, { tokenizer: tok, template: short, cutoffLen: 3 })).toEqual(
      { input_ids: [1, 5, 6], labels: [1, 5, 6] },
    );
    expect(
      tokenizeForTraining({ input_ids: [1, 5], labels: [-100, 5] }, { tokenizer: tok, template: short, cutoffLen: 8 }),
    ).toEqual({ input_ids: [1, 5], labels: [-100, 5] });
  });
});

describe("collateBatch", () => {
  const examples = [
    { input_ids: [1, 5, 6], labels: [-100, 5, 6] },
    { input_ids: [1, 7], labels: [-100, 7] },
  ];
  it("pads right with the pad id, mask 0 and label -100", () => {
    expect(collateBatch(examples, { padId: 0 })).toEqual({
      inputIds: [
        [1, 5, 6],
        [1, 7, 0],
      ],
      attentionMask: [
        [1, 1, 1],
        [1, 1, 0],
      ],
      labels: [
        [-100, 5, 6],
        [-100, 7, -100],
      ],
    });
  });
  it("pads left, and to a multiple", () => {
    expect(collateBatch(examples, { padId: 9, paddingSide: "left", padToMultipleOf: 4 })).toEqual({
      inputIds: [
        [9, 1, 5, 6],
        [9, 9, 1, 7],
      ],
      attentionMask: [
        [0, 1, 1, 1],
        [0, 0, 1, 1],
      ],
      labels: [
        [-100, -100, 5, 6],
        [-100, -100, -100, 7],
      ],
    });
  });
});

describe("packExamples", () => {
  const examples = [
    { input_ids: [1, 10, 11, 2], labels: [1, 10, 11, 2] },
    { input_ids: [1, 20, 2], labels: [-100, 20, 2] },
    { input_ids: [1, 30, 31, 32, 33, 2], labels: [-100, -100, 31, 32, 33, 2] },
  ];
  it("fills rows up to maxLength, never trains the first token of a later example, and restarts positions", () => {
    const rows = packExamples(examples, { maxLength: 8, strategy: "sequential" });
    expect(rows.map((r) => r.exampleIndices)).toEqual([[0, 1], [2]]);
    expect(rows[0]).toMatchObject({
      input_ids: [1, 10, 11, 2, 1, 20, 2],
      labels: [1, 10, 11, 2, -100, 20, 2],
      sequenceIds: [0, 0, 0, 0, 1, 1, 1],
      positionIds: [0, 1, 2, 3, 0, 1, 2],
    });
    const ffd = packExamples(examples, { maxLength: 10 });
    expect(ffd.map((r) => r.exampleIndices)).toEqual([[2, 0], [1]]);
    expect(() => packExamples(examples, { maxLength: 5 })).toThrow(/Example 2 has 6 tokens/);
  });
});

describe("groupByLength", () => {
  it("batches similar lengths, longest batch first, every index once, seeded", () => {
    const lengths = Array.from({ length: 40 }, (_, i) => (i * 37) % 101);
    const batches = groupByLength(lengths, { batchSize: 4, megaBatchMultiplier: 5, seed: 3 });
    expect(batches.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    expect(lengths[(batches[0] as number[])[0] as number]).toBe(Math.max(...lengths));
    for (const batch of batches) {
      const ls = batch.map((i) => lengths[i] as number);
      expect(ls).toEqual([...ls].sort((a, b) => b - a));
    }
    expect(groupByLength(lengths, { batchSize: 4, megaBatchMultiplier: 5, seed: 3 })).toEqual(batches);
  });
});
