import type { HeldOutAnswer } from "./held-out-answers.js";

export interface HeldOutScore {
  exactMatch: number;
  correct: number;
  total: number;
  /** Teacher-forced next-token accuracy on the reference responses. */
  tokenAccuracy: number;
  loss: number;
  perplexity: number;
}

const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** One line: exact match, token accuracy and response loss / perplexity on the held-out set. */
export function formatScore(label: string, score: HeldOutScore): string {
  return `${label.padEnd(7)} exact match ${percent(score.exactMatch).padStart(6)} (${score.correct}/${score.total})   token accuracy ${percent(score.tokenAccuracy).padStart(6)}   response loss ${score.loss.toFixed(3)}   perplexity ${score.perplexity.toFixed(2)}`;
}

function quoted(text: string): string {
  return text === "" ? "(empty)" : JSON.stringify(text.length > 70 ? `${text.slice(0, 67)}...` : text);
}

/** Held-out instructions side by side: the reference, the base model's answer, the fine-tuned answer. */
export function formatSideBySide(before: readonly HeldOutAnswer[], after: readonly HeldOutAnswer[]): string {
  const lines: string[] = [];
  before.forEach((b, i) => {
    const a = after[i];
    lines.push(`  Instruction: ${b.item.instruction}${b.item.input ? `  Input: ${b.item.input}` : ""}`);
    lines.push(`    expected: ${quoted(b.item.output)}`);
    lines.push(`    before:   ${quoted(b.answer)} ${b.correct ? "✓" : "✗"}`);
    lines.push(`    after:    ${quoted(a.answer)} ${a.correct ? "✓" : "✗"}`);
  });
  return lines.join("\n");
}

/** Exact match per instruction family, before → after. */
export function formatPerFamily(before: readonly HeldOutAnswer[], after: readonly HeldOutAnswer[]): string {
  const families = [...new Set(before.map((a) => a.item.family))];
  return families
    .map((family) => {
      const count = (answers: readonly HeldOutAnswer[]): string => {
        const mine = answers.filter((a) => a.item.family === family);
        return `${mine.filter((a) => a.correct).length}/${mine.length}`;
      };
      return `  ${family.padEnd(16)} ${count(before).padStart(5)} → ${count(after)}`;
    })
    .join("\n");
}

/** What to do next: chat with the result, and the same recipe on a real Hub model on a GPU. */
export function nextStepsText(baseModelDir: string, adapterDir: string): string {
  return [
    'Chat with the fine-tuned model (greedy, as scored here; an instruction\'s input goes after "Input:"):',
    `  llamats chat ${JSON.stringify(baseModelDir)} --adapter ${JSON.stringify(adapterDir)} --temperature 0 --repetition-penalty 1`,
    "  > Is this number even or odd? Input: 4817",
    "",
    "The same on a real base model from the Hugging Face Hub, on a GPU (alpaca-lora's recipe; see examples/alpaca-lora-tinyllama):",
    "  npm i webgpu @tensorflow/tfjs-backend-webgpu",
    "  llamats finetune --model TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T --data tatsu-lab/alpaca \\",
    "    --backend webgpu --lora-r 8 --lora-alpha 16 --target-modules q_proj,v_proj \\",
    "    --micro-batch-size 4 --batch-size 128 --epochs 3 --lr 3e-4 --cutoff-len 256 --out ./tinyllama-alpaca-lora",
    "  llamats chat TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T --adapter ./tinyllama-alpaca-lora",
  ].join("\n");
}
