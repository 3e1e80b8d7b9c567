/** The exit status a shell reports for a process ended by each signal (128 + its number). */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

export type InterruptSignal = keyof typeof SIGNAL_EXIT_CODES;

export interface Interrupts {
  /** Aborted on the first SIGINT/SIGTERM, with an Error named after the signal as its reason. */
  signal: AbortSignal;
  /** 130 or 143 once a signal came, else null. */
  exitCode(): number | null;
  /** Removes the handlers. */
  dispose(): void;
}

export interface ListenForInterruptsOptions {
  /** Called on a second signal: the command did not stop in time, so the process must end now. */
  onSecondSignal: (exitCode: number) => void;
  /** Where signals come from (tests pass an EventEmitter). */
  source?: Pick<NodeJS.Process, "on" | "off">;
  /** Milliseconds clock (tests pass their own). */
  now?: () => number;
}

/** How soon after the first signal a second one counts as the same keypress. */
const REPEAT_MS = 100;

/** First signal: ask the running command to stop cleanly (it sees `signal`); second: end at once. */
export function listenForInterrupts(options: ListenForInterruptsOptions): Interrupts {
  const source = options.source ?? process;
  const now = options.now ?? Date.now;
  const controller = new AbortController();
  let code: number | null = null;
  let firstAt = 0;
  const handlers = (Object.keys(SIGNAL_EXIT_CODES) as InterruptSignal[]).map((name) => {
    const handler = (): void => {
      // A repeat within a moment is the same Ctrl-C reaching us twice (a terminal signals a whole process group).
      if (code !== null && now() - firstAt < REPEAT_MS) return;
      if (code !== null) {
        options.onSecondSignal(SIGNAL_EXIT_CODES[name]);
        return;
      }
      code = SIGNAL_EXIT_CODES[name];
      firstAt = now();
      controller.abort(
        Object.assign(new Error(`interrupted by ${name}`), { name: "AbortError", code: "ABORT_ERR", signal: name }),
      );
    };
    source.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    exitCode: () => code,
    dispose: () => {
      for (const [name, handler] of handlers) source.off(name, handler);
    },
  };
}
