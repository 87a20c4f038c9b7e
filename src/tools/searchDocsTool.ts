/**
 * `search_docs`: the domain documents through any Retriever (BM25 today, the persistent index when it
 * lands). Results are numbered "[n] (source) text" like formatPassages, so an answer can cite them.
 */
import type { Retriever } from "../llm/retriever.js";
import type { Tool } from "./tool.js";

export interface SearchDocsToolOptions {
  /** Passages returned when the model does not ask for a number. Defaults to 4. */
  defaultK?: number;
  /** Most passages one call may ask for. Defaults to 10. */
  maxK?: number;
  /** Longest passage text returned, in characters. Defaults to 800. */
  maxCharsPerPassage?: number;
}

/** The name the model calls the tool by. */
export const SEARCH_DOCS_TOOL = "search_docs";

export function createSearchDocsTool(retriever: Retriever, options: SearchDocsToolOptions = {}): Tool {
  const maxK = options.maxK ?? 10;
  const limit = options.maxCharsPerPassage ?? 800;
  return {
    definition: {
      name: SEARCH_DOCS_TOOL,
      description: "Search the domain documents. Returns numbered passages with their source; cite them as [n].",
      parameters: {
        type: "object",
        properties: {
          query: { type: "string", minLength: 1, description: "What to look for, in the documents' language." },
          k: { type: "integer", minimum: 1, maximum: maxK, description: "How many passages to return." },
        },
        required: ["query"],
        additionalProperties: false,
      },
    },
    async run(args) {
      const passages = await retriever.retrieve(
        args.query as string,
        (args.k as number | undefined) ?? options.defaultK ?? 4,
      );
      if (passages.length === 0) return "(no passages found)";
      return passages
        .map((passage, index) => {
          const text = passage.text.length > limit ? `${passage.text.slice(0, limit)}…` : passage.text;
          return `[${index + 1}] (${passage.source}) ${text}`;
        })
        .join("\n");
    },
  };
}
