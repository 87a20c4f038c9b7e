/**
 * Pointing at the field a config validation issue (zod's `issue.path`) names, for error messages
 * that say which field is wrong and what was found there.
 */

/** The field of an issue path, as a reader writes it: `batch.sequences`, `data[2].path` ("" for the root). */
export function describeIssuePath(issuePath: readonly PropertyKey[]): string {
  return issuePath.map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`)).join("").replace(/^\./, "");
}

/** The raw value at an issue path (undefined where the path leaves the object). */
export function valueAt(root: unknown, issuePath: readonly PropertyKey[]): unknown {
  let current = root;
  for (const part of issuePath) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}
