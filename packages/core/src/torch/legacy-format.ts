// Recognises what a `.bin` is when it is not a zip, so the error says what to do instead.
import { FormatError } from "../errors.js";

const CONVERT =
  `Convert it with a newer PyTorch (1.6 or later): python -c "import torch; torch.save(torch.load('pytorch_model.bin', weights_only=True), 'pytorch_model.bin')", ` +
  `or to safetensors (e.g. transformers' save_pretrained(..., safe_serialization=True)).`;

/** Throws a FormatError naming the file and what it looks like, unless it starts like a zip archive. */
export function checkZipMagic(file: string, head: Uint8Array): void {
  if (head[0] === 0x50 && head[1] === 0x4b && (head[2] === 0x03 || head[2] === 0x05)) return;
  const text = new TextDecoder("latin1").decode(head);
  if (text.startsWith("version https://git-lfs")) {
    throw new FormatError(
      `${file}: this is a Git LFS pointer, not the checkpoint; fetch the real file (git lfs pull) or download it from the Hub.`,
      { file },
    );
  }
  // Pre-1.6 torch.save: a bare pickle (protocol 2 opens with 0x80 0x02) of a magic number, then the storages.
  if (head[0] === 0x80) {
    throw new FormatError(
      `${file}: a legacy (pre-1.6, non-zip) PyTorch checkpoint; llamats reads only the zip format. ${CONVERT}`,
      { file },
    );
  }
  const shown = [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  throw new FormatError(
    `${file}: not a PyTorch zip checkpoint (expected a zip archive starting "50 4b 03 04", found "${shown}"). ${CONVERT}`,
    { file },
  );
}
