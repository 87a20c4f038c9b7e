import fs from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { ConfigError } from "../shared/errors.js";
import type { CleanOptions } from "./cleanText.js";

const ratio = z.number().min(0).max(1);
const cleanConfigSchema = z.strictObject({
  pii: z.union([z.boolean(), z.strictObject({ email: z.boolean().optional(), phone: z.boolean().optional(), chinese_id_number: z.boolean().optional(), bank_card: z.boolean().optional() })]).optional(),
  remove_boilerplate_lines: z.boolean().optional(),
  quality: z
    .strictObject({
      min_units: z.number().int().min(0).optional(),
      max_units: z.number().int().positive().optional(),
      min_mean_word_length: z.number().min(0).optional(),
      max_mean_word_length: z.number().positive().optional(),
      max_symbol_ratio: ratio.optional(),
      max_digit_ratio: ratio.optional(),
      min_letter_ratio: ratio.optional(),
      max_bullet_line_ratio: ratio.optional(),
      max_ellipsis_line_ratio: ratio.optional(),
      max_duplicate_line_ratio: ratio.optional(),
      max_duplicate_line_char_ratio: ratio.optional(),
      max_top_ngram_char_ratio: z.tuple([ratio, ratio, ratio]).optional(),
      max_duplicate_ngram_char_ratio: ratio.optional(),
      languages: z.array(z.enum(["zh", "ja", "ko", "en", "ru", "ar", "und"])).optional(),
    })
    .optional(),
});

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
function camelKeys(value: unknown): unknown {
  if (Array.isArray(value) || value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [camel(k), camelKeys(v)]));
}

/** Reads a cleaning config (YAML, snake_case keys mirroring CleanOptions); errors name file and field. */
export function loadCleanConfig(file: string): CleanOptions {
  let raw: unknown;
  try {
    raw = parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError(`cannot read the cleaning config: ${(error as Error).message}`, { where: file, cause: error });
  }
  const parsed = cleanConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}${issue.code === "unrecognized_keys" ? ` (${issue.keys.join(", ")})` : ""}`);
    throw new ConfigError(`invalid cleaning config:\n  ${lines.join("\n  ")}`, { where: file });
  }
  return camelKeys(parsed.data) as CleanOptions;
}
