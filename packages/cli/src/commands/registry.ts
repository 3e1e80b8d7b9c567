import type { Command } from "../command.js";

/** Every command, loaded lazily so `llamats --help` stays fast and a broken backend cannot break `env`. */
export const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  env: () => import("./env.js"),
  download: () => import("./download.js"),
  push: () => import("./push.js"),
  tokenize: () => import("./tokenize.js"),
  generate: () => import("./generate.js"),
  chat: () => import("./chat.js"),
  merge: () => import("./merge.js"),
  finetune: () => import("./finetune.js"),
  data: () => import("./data.js"),
  serve: () => import("./serve.js"),
  demo: () => import("./demo.js"),
  bench: () => import("./bench.js"),
  export: () => import("./export.js"),
};
