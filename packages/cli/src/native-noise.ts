/**
 * Lines that Dawn, Mesa and the Vulkan loader write from native code straight to stderr (no JS hook sees them):
 * lavapipe's "artificially reduced" limits, the loader's "Found no drivers", Dawn's source locations.
 */
const NATIVE_NOISE = [
  /^Warning: max\w+ artificially reduced from \d+ to \d+/,
  /^Warning: (loader_|vkCreateInstance|vkEnumerate)/,
  /^(ERROR|WARNING|INFO|DEBUG): \[Loader Message\]/,
  /^\s+at \w+ \(.*\/third_party\/dawn\/.*\)$/,
  /^MESA: (warning|error)/,
];

function isNativeNoise(line: string): boolean {
  return NATIVE_NOISE.some((pattern) => pattern.test(line));
}

/**
 * A stderr pass-through that drops native noise lines. Text is forwarded as it arrives (progress bars redraw with
 * \r and no newline); only a line that starts like noise waits for its newline to be judged.
 */
export class NoiseFilter {
  private pending = "";

  constructor(private readonly write: (text: string) => void) {}

  push(chunk: string): void {
    let text = this.pending + chunk;
    this.pending = "";
    for (;;) {
      const end = text.indexOf("\n");
      if (end < 0) break;
      const line = text.slice(0, end);
      if (!isNativeNoise(line)) this.write(`${line}\n`);
      text = text.slice(end + 1);
    }
    if (couldBeNoise(text)) this.pending = text;
    else if (text) this.write(text);
  }

  flush(): void {
    if (this.pending && !isNativeNoise(this.pending)) this.write(this.pending);
    this.pending = "";
  }
}

/** Whether an unfinished line may still turn into a noise line (so it is held until its newline). */
function couldBeNoise(partial: string): boolean {
  if (!partial) return false;
  const heads = [
    "Warning: ",
    "ERROR: [Loader",
    "WARNING: [Loader",
    "INFO: [Loader",
    "DEBUG: [Loader",
    "MESA: ",
    "    at ",
  ];
  return heads.some((head) => head.startsWith(partial) || partial.startsWith(head));
}
