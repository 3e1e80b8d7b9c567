import { initBackend, type BackendInfo, type InitBackendOptions } from "@llamats/core";

export interface StartBackendOptions extends InitBackendOptions {
  /** Receives the backend's one-line warning, e.g. that the WebGPU adapter is a CPU emulation. */
  warn: (line: string) => void;
}

/** initBackend for the CLI: the backend's warning (if any) is passed on as one line. */
export async function startBackend(options: StartBackendOptions): Promise<BackendInfo> {
  const { warn, ...init } = options;
  const info = await initBackend(init);
  if (info.webgpu?.warning) warn(info.webgpu.warning);
  return info;
}

/** A `warn` that writes `warning: <line>` to a stream (stderr). */
export function warnTo(stream: { write(text: string): unknown }): (line: string) => void {
  return (line) => void stream.write(`warning: ${line}\n`);
}
