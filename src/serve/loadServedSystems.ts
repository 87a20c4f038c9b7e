/**
 * Which systems `vertical serve` serves, from one of three sources — all ending as SystemSpecs
 * (src/eval/spec.ts), the one definition of a system:
 * - `--model M.gguf [--lora A.gguf]`: one system named after the files;
 * - `--systems systems.yaml`: the file `eval run` reads; a system with `retrieval: {k, documents: DIR}`
 *   retrieves with BM25 over that folder's documents (resolved against the YAML's folder);
 * - `--lab DIR`: every route the lab has evaluated, as the lab defined it (lab/routeSystem.ts), with
 *   the lab's retriever and few-shot exemplars.
 */
import fs from "node:fs";
import path from "node:path";
import { loadSystems, systemSchema, type SystemSpec } from "../eval/spec.js";
import { exemplarsFrom } from "../lab/evaluateRoute.js";
import { loadLabConfig, type LabConfig } from "../lab/labConfig.js";
import { LabState } from "../lab/labState.js";
import { labPaths } from "../lab/labSteps.js";
import { LabRetrievers } from "../lab/labRetrievers.js";
import { ROUTES, retrieverKindOf, routeGenerates, routeUsesTools, type RetrieverKind, type RouteName } from "../lab/routes.js";
import { labRetriever, labRouteModel, labRouteSystem } from "../lab/routeSystem.js";
import type { Retriever } from "../llm/retriever.js";
import { Bm25Retriever } from "../rag/bm25Retriever.js";
import { chunkDocuments } from "../rag/chunkDocuments.js";
import { readTextDocuments } from "../rag/readTextDocuments.js";
import { ConfigError } from "../shared/errors.js";
import type { ServeSystemOptions } from "./servedSystem.js";

export interface SystemToServe {
  spec: SystemSpec;
  options: Omit<ServeSystemOptions, "queue">;
}

/** One system from a GGUF and optional LoRA adapters, named `model` or `model+adapter`. */
export function systemFromModel(modelPath: string, loraPaths: readonly string[] = [], threads?: number): SystemToServe {
  const stem = (file: string) => path.basename(file).replace(/\.gguf$/i, "");
  const spec = systemSchema.parse({
    name: [stem(modelPath), ...loraPaths.map(stem)].join("+").replace(/[^A-Za-z0-9._-]/g, "-"),
    backend: "llama-cpp",
    model: path.resolve(modelPath),
    adapters: loraPaths.map((file) => ({ path: path.resolve(file) })),
    ...(threads ? { threads } : {}),
  });
  return { spec, options: {} };
}

/** The systems of a systems.yaml; retrieval systems get a BM25 retriever over `retrieval.documents`. */
export function systemsFromFile(file: string): SystemToServe[] {
  const folder = path.dirname(path.resolve(file));
  return loadSystems(file).map((spec) => {
    if (!spec.retrieval) return { spec, options: {} };
    const documents = spec.retrieval.documents;
    if (typeof documents !== "string")
      throw new ConfigError("a served retrieval system needs `retrieval.documents`: the folder of documents to retrieve from", {
        where: `${path.resolve(file)}: system "${spec.name}"`,
        hint: "Add e.g. `retrieval: {k: 3, documents: docs/}` (relative to the YAML).",
      });
    const chunkChars = typeof spec.retrieval.chunkChars === "number" ? spec.retrieval.chunkChars : undefined;
    const retriever: Retriever = new Bm25Retriever(
      chunkDocuments(readTextDocuments(path.resolve(folder, documents)), chunkChars ? { maxChars: chunkChars } : {}),
      { topK: spec.retrieval.k },
    );
    return { spec, options: { retriever } };
  });
}

/** Every route the lab in `folder` has evaluated (its state in `outDir`, default DIR/out), as it evaluated it. */
export function systemsFromLab(folder: string, threads: number, outDir?: string, adjust?: (config: LabConfig) => LabConfig): SystemToServe[] {
  // `adjust` is the same hook `runLab` takes, so a run made with an adjusted config serves as it ran.
  const config = adjust ? adjust(loadLabConfig(folder)) : loadLabConfig(folder);
  const paths = labPaths(path.resolve(outDir ?? path.join(config.folder, "out")));
  const state = new LabState(paths.out);
  const outputsOf = (step: string) => {
    const record = state.steps[step];
    if (!record) throw new ConfigError(`the lab has not finished its step "${step}"`, { where: paths.out, hint: `Run \`vertical lab ${folder}\` first.` });
    return record.outputs;
  };
  // A soft-prompt route is scored by the engine, which does not generate: there is nothing to serve. The
  // tools route is not served either: the server has no tool loop, and without it it would not be the route measured.
  const evaluated = config.routes.filter((route) => state.steps[`eval:${route}`] && routeGenerates(route) && !routeUsesTools(route));
  if (evaluated.length === 0)
    throw new ConfigError("the lab has no evaluated route to serve", { where: paths.out, hint: `Run \`vertical lab ${folder}\` first.` });
  // One retriever per kind, shared by the routes that use it (a model-backed one loads on its first query).
  const retrievers = new Map<RetrieverKind, Retriever>();
  let modelRetrievers: LabRetrievers | undefined;
  const retrieverOf = (route: RouteName) => {
    const kind = retrieverKindOf(route);
    if (!retrievers.has(kind))
      retrievers.set(kind, kind === "bm25" ? labRetriever(config) : (modelRetrievers ??= new LabRetrievers(config, String(outputsOf("model").modelPath), () => path.resolve(paths.out, String(outputsOf("train:embedder").embedder)))).of(kind));
    return retrievers.get(kind)!;
  };
  return evaluated.map((route: RouteName) => {
    const spec = systemSchema.parse(labRouteSystem(config, route, labRouteModel(route, paths, outputsOf), threads));
    const prompting = ROUTES[route].prompting;
    const options: SystemToServe["options"] = {
      ...(prompting === "retrieval" ? { retriever: retrieverOf(route) } : {}),
      ...(prompting === "few-shot" && fs.existsSync(config.data.domainMcqDev) ? { exemplars: exemplarsFrom(config.data.domainMcqDev, config.fewShot.shots) } : {}),
    };
    return { spec, options };
  });
}
