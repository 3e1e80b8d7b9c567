import { access } from "node:fs/promises";

/** True when `path` exists and can be reached (a file or a folder). */
export function pathExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
