export { runCli } from "./run-cli.js";
export type { Command, CommandContext } from "./command.js";
