import type { Command } from "commander";
import { commandGroup } from "./group.js";

interface ToolsAskOptions {
  tools: string;
  docs?: string;
  model?: string;
  endpoint?: string;
  endpointModel?: string;
  maxTokens: number;
  threads?: number;
  json?: boolean;
}

export function register(program: Command): void {
  commandGroup(program, "tools", "Ask a model that can call tools (search_docs, sql_query, calculator)")
    .command("ask")
    .description("Answer one question with the tool loop; prints each tool call, then the answer")
    .argument("<question>", "the question")
    .requiredOption("--tools <file>", "tools YAML (docs/tools.md), e.g. examples/harbor/tools.yaml")
    .option("--docs <folder>", "documents search_docs searches (BM25); needed when the YAML offers searchDocs")
    .option("--model <file>", "a local GGUF (node-llama-cpp function calling)")
    .option("--endpoint <url>", "an OpenAI-compatible base URL instead (e.g. http://127.0.0.1:8080/v1)")
    .option("--endpoint-model <name>", "the model name sent to --endpoint", "default")
    .option("--max-tokens <n>", "tokens per model turn", Number, 256)
    .option("--threads <n>", "threads for a local model", Number)
    .option("--json", "print the whole loop result as JSON")
    .action(async (question: string, options: ToolsAskOptions) => {
      const path = await import("node:path");
      const { ConfigError } = await import("../../shared/errors.js");
      const { buildTools, readToolsConfig, runToolLoop } = await import("../../tools/index.js");
      if (Boolean(options.model) === Boolean(options.endpoint))
        throw new ConfigError("give exactly one of --model (a GGUF) or --endpoint (an OpenAI-compatible URL)", {
          where: "vertical tools ask",
        });
      const config = readToolsConfig(options.tools);
      let retriever;
      if (options.docs) {
        const { Bm25Retriever, chunkDocuments, readTextDocuments } = await import("../../rag/index.js");
        retriever = new Bm25Retriever(chunkDocuments(readTextDocuments(options.docs)));
      }
      const tools = buildTools(config, {
        baseDir: path.dirname(path.resolve(options.tools)),
        ...(retriever ? { retriever } : {}),
      });
      const model = options.endpoint
        ? new (await import("../../llm/openaiCompatible.js")).OpenAICompatibleBackend({
            model: options.endpointModel ?? "default",
            baseUrl: options.endpoint,
          })
        : await (
            await import("../../llm/llamaCpp.js")
          ).LlamaCppBackend.load({
            modelPath: options.model!,
            ...(options.threads ? { threads: options.threads } : {}),
          });
      try {
        const result = await runToolLoop(model, tools, [{ role: "user", content: question }], {
          maxRounds: config.maxRounds,
          generate: { maxTokens: options.maxTokens },
        });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          return;
        }
        for (const record of result.calls)
          process.stdout.write(
            `round ${record.round} ${record.call.name}(${record.call.argumentsJson}) -> ${record.ok ? "" : "[error] "}${record.result.split("\n")[0]}\n`,
          );
        process.stdout.write(
          `${result.stoppedBy === "max-rounds" ? "(tools withdrawn after maxRounds)\n" : ""}${result.answer}\n`,
        );
      } finally {
        await (model as { dispose?: () => Promise<void> | void }).dispose?.();
      }
    });
}
