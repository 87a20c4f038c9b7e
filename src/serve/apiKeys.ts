/**
 * Bearer API keys. Keys come from a file (one per line, `#` comments) and/or VERTICAL_SERVE_API_KEYS
 * (src/config.ts). A presented key is compared with every accepted key through SHA-256 digests and
 * `crypto.timingSafeEqual`, with no early exit, so the time taken says nothing about how much of a
 * key was right or which key was close.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { ConfigError, UnauthorizedError } from "../shared/errors.js";

const digest = (key: string) => crypto.createHash("sha256").update(key, "utf8").digest();

export function readApiKeyFile(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read the API key file: ${(error as Error).message}`, { where: file, cause: error });
  }
  const keys = text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*/, "").trim())
    .filter(Boolean);
  if (keys.length === 0) throw new ConfigError("the API key file holds no key", { where: file, hint: "Put one key per line." });
  return keys;
}

export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  /** False when no key is configured: every request is let in. */
  get required(): boolean {
    return this.digests.length > 0;
  }

  /** Throws UnauthorizedError unless `authorization` is `Bearer <an accepted key>`. */
  check(authorization: string | undefined): void {
    if (!this.required) return;
    const presented = digest(/^Bearer (.+)$/i.exec(authorization ?? "")?.[1]?.trim() ?? "");
    let matched = false;
    for (const accepted of this.digests) matched = crypto.timingSafeEqual(accepted, presented) || matched;
    if (!matched)
      throw new UnauthorizedError("missing or wrong API key", { hint: "Send the header Authorization: Bearer <key>." });
  }
}
