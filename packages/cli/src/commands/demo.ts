import type { Command } from "../command.js";
import { cliWasmThreads } from "../backend-option.js";
import { DEMO_USAGE, parseDemoOptions } from "../demo/demo-options.js";
import { warnTo } from "../start-backend.js";

export const command: Command = {
  name: "demo",
  summary:
    "Run the embedded end-to-end demo: LoRA-fine-tune a tiny LLaMA offline on CPU, with held-out scores before and after",
  usage: DEMO_USAGE,
  async run(args, ctx) {
    const options = {
      ...parseDemoOptions(args, ctx.cwd),
      wasmThreads: cliWasmThreads(ctx.env),
      warn: warnTo(ctx.stderr),
    };
    // Loaded here so `llamats --help` does not pull in tfjs.
    const { runDemo } = await import("../demo/run-demo.js");
    await runDemo(options, (text) => ctx.stdout.write(text), ctx.signal);
    return 0;
  },
};
