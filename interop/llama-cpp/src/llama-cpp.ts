// llama.cpp through node-llama-cpp: its CPU build, loaded once; tokenization and greedy decoding of a GGUF file.
import { getLlama, LlamaLogLevel, type Llama, type Token } from "node-llama-cpp";

let llama: Promise<Llama> | undefined;

/** The prebuilt CPU binary only: never a GPU build, never a download or compile. */
function llamaCpp(): Promise<Llama> {
  llama ??= getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  return llama;
}

/** llama.cpp's ids for each text (no BOS, special-token text read as text). */
export async function llamaCppTokenize(modelPath: string, texts: readonly string[]): Promise<number[][]> {
  const model = await (await llamaCpp()).loadModel({ modelPath });
  try {
    return texts.map((text) => [...model.tokenize(text, false)]);
  } finally {
    await model.dispose();
  }
}

/** llama.cpp's greedy continuation (temperature 0) of each prompt, `count` tokens, not stopping at EOS. */
export async function llamaCppGreedy(
  modelPath: string,
  prompts: readonly number[][],
  count: number,
): Promise<number[][]> {
  const model = await (await llamaCpp()).loadModel({ modelPath });
  try {
    const results: number[][] = [];
    for (const prompt of prompts) {
      const context = await model.createContext({ contextSize: 256, threads: 1 });
      try {
        const ids: number[] = [];
        for await (const id of context.getSequence().evaluate(
          prompt.map((id) => id as Token),
          { temperature: 0 },
        )) {
          ids.push(id);
          if (ids.length === count) break;
        }
        results.push(ids);
      } finally {
        await context.dispose();
      }
    }
    return results;
  } finally {
    await model.dispose();
  }
}
