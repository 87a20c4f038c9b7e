/**
 * A short stable hash of what makes trained weights fit a model: architecture, and every tensor's
 * name and shape (not its storage type: an adapter trained on a q8_0 copy fits the f32 original).
 * Checkpoints and exports compare it to refuse an adapter for another model.
 */
import crypto from "node:crypto";
import type { GgufFile } from "../engine/gguf/index.js";

export function fingerprintOfGguf(file: GgufFile): string {
  const tensors = file.tensors.map((info) => `${info.name}:${info.shape.join("x")}`).sort();
  const description = JSON.stringify({ architecture: file.getString("general.architecture"), tensors });
  return crypto.createHash("sha256").update(description).digest("hex").slice(0, 16);
}
