/** What the trainer reports after each optimizer step (the CLI draws a bar from it). */
export interface TrainProgress {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  /** Input tokens per second, averaged over the steps of this process. */
  tokensPerSecond: number;
  elapsedSeconds: number;
  /** Seconds left at the current pace; NaN before the first step is timed. */
  etaSeconds: number;
}

/** "1:02:03" / "2:03" for a number of seconds; "--:--" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** One line: `step 12/100 [=====>      ] 12% loss 1.2345 lr 3.00e-4 812 tok/s ETA 1:23`. */
export function formatProgressLine(progress: TrainProgress, barWidth = 24): string {
  const fraction = progress.totalSteps > 0 ? Math.min(1, progress.step / progress.totalSteps) : 0;
  const filled = Math.round(fraction * barWidth);
  const bar =
    filled >= barWidth
      ? "=".repeat(barWidth)
      : `${"=".repeat(Math.max(0, filled - 1))}${filled > 0 ? ">" : ""}${" ".repeat(barWidth - filled)}`;
  return [
    `step ${progress.step}/${progress.totalSteps}`,
    `[${bar}]`,
    `${String(Math.floor(fraction * 100)).padStart(3)}%`,
    `loss ${progress.loss.toFixed(4)}`,
    `lr ${progress.lr.toExponential(2)}`,
    `${Math.round(progress.tokensPerSecond)} tok/s`,
    `ETA ${formatDuration(progress.etaSeconds)}`,
  ].join(" ");
}
