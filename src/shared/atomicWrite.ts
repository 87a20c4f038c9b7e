import fs from "node:fs";
import path from "node:path";

/** A temporary path beside `target`, so a rename onto it is atomic on the same filesystem. */
export function temporaryPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
}

/** Writes a file so that readers see either the old content or the whole new one, never a half. */
export function writeFileAtomic(target: string, data: string | NodeJS.ArrayBufferView): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = temporaryPathFor(target);
  try {
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw error;
  }
}

/**
 * Runs `write(tmpPath)` and renames the result onto `target` only if it succeeded; for writers that
 * need a path (native code, directories). The temporary is removed on failure.
 */
export async function withAtomicPath<T>(target: string, write: (tmpPath: string) => T | Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = temporaryPathFor(target);
  try {
    const result = await write(tmp);
    fs.renameSync(tmp, target);
    return result;
  } catch (error) {
    fs.rmSync(tmp, { force: true, recursive: true });
    throw error;
  }
}
