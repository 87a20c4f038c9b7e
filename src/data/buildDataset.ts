import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { ConfigError, InputError } from "../shared/errors.js";
import { writeFileAtomic } from "../shared/atomicWrite.js";
import type { Tokenizer } from "../tokenizer/types.js";
import { ChatTemplate } from "./chatTemplate.js";
import { ACTIVE_STATUSES, CorpusStore } from "./corpusStore.js";
import { readConversations, validateConversation, type Conversation } from "./conversations.js";
import type { DatasetManifest, InputHash, SourceReport } from "./datasetManifest.js";
import { parseDocumentFile } from "./parseDocumentFile.js";
import { SequencePacker } from "./packSequences.js";
import type { Recipe, RecipeSource } from "./recipe.js";
import { renderConversation } from "./renderConversation.js";
import { SeededRandom } from "../shared/seededRandom.js";
import { MANIFEST_FILE } from "./shardFormat.js";
import { ShardWriter } from "./shardWriter.js";

export interface BuildOptions {
  tokenizer: Tokenizer;
  /** Chat template source; defaults to tokenizer.chatTemplate. Needed for sft (and chat-formatted mip instructions). */
  chatTemplate?: string;
  /** Overrides recipe.output. */
  outputDirectory?: string;
  /** Called as stages progress (for CLI progress display). */
  onProgress?: (stage: "tokenize" | "pack", source: string, done: number) => void;
}

export interface BuildResult {
  directory: string;
  manifest: DatasetManifest;
}

/** One tokenized item in a source's cache file. */
interface CachedSource {
  tokensFile: number;
  maskFile: number;
  /** Start (in tokens) and length of each item in the cache. */
  offsets: number[];
  lengths: number[];
  available: number;
  inputs: InputHash[];
  dropped: Record<string, number>;
}

/** Streaming writer of one source's tokens and masks to two temporary files. */
class SourceCache {
  readonly offsets: number[] = [];
  readonly lengths: number[] = [];
  private cursor = 0;
  constructor(
    readonly tokensFile: number,
    readonly maskFile: number,
  ) {}

  append(tokens: ArrayLike<number>, mask: ArrayLike<number> | undefined): void {
    const tokenBytes = new Uint32Array(tokens.length);
    tokenBytes.set(tokens);
    const maskBytes = new Uint8Array(tokens.length);
    if (mask) maskBytes.set(mask);
    else maskBytes.fill(1);
    fs.writeSync(this.tokensFile, tokenBytes, 0, tokenBytes.byteLength, this.cursor * 4);
    fs.writeSync(this.maskFile, maskBytes, 0, maskBytes.byteLength, this.cursor);
    this.offsets.push(this.cursor);
    this.lengths.push(tokens.length);
    this.cursor += tokens.length;
  }

  get available(): number {
    return this.cursor;
  }
}

function sha256OfFile(file: string): string {
  const hash = createHash("sha256");
  const descriptor = fs.openSync(file, "r");
  const buffer = Buffer.alloc(1 << 20);
  try {
    for (;;) {
      const read = fs.readSync(descriptor, buffer, 0, buffer.length, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
    }
  } finally {
    fs.closeSync(descriptor);
  }
  return hash.digest("hex");
}

/** Streams the texts of a text source: store documents, JSONL lines, or whole TXT/MD/… files. */
async function* sourceTexts(source: RecipeSource, inputs: InputHash[]): AsyncGenerator<string> {
  if (source.store) {
    const store = new CorpusStore(source.store);
    const hash = createHash("sha256");
    let count = 0;
    try {
      for (const doc of store.documents({ statuses: ACTIVE_STATUSES, sources: [source.storeSource] })) {
        const text = doc.cleanText ?? doc.text;
        hash.update(`${doc.id}\u0000${text}\u0000`);
        count++;
        yield text;
      }
    } finally {
      store.dispose();
    }
    if (count === 0) throw new InputError(`no usable documents of source "${source.storeSource}" in the store`, { where: source.store, hint: "Ingest and clean them first (vertical data ingest/clean)." });
    inputs.push({ input: `store:${source.store}#${source.storeSource}`, sha256: hash.digest("hex") });
    return;
  }
  for (const file of source.files) {
    inputs.push({ input: file, sha256: sha256OfFile(file) });
    if (file.toLowerCase().endsWith(".jsonl")) {
      const lines = readline.createInterface({ input: fs.createReadStream(file, "utf8"), crlfDelay: Infinity });
      let lineNumber = 0;
      for await (const line of lines) {
        lineNumber++;
        if (line.trim() === "") continue;
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(line) as Record<string, unknown>;
        } catch (error) {
          throw new InputError(`invalid JSON: ${(error as Error).message}`, { where: `${file}:${lineNumber}` });
        }
        const field = source.textField ?? ["text", "content", "body"].find((name) => typeof record[name] === "string");
        const text = field === undefined ? undefined : record[field];
        if (typeof text !== "string") throw new InputError(`no text: field ${source.textField ? `"${source.textField}"` : "text/content/body"} missing`, { where: `${file}:${lineNumber}` });
        yield text;
      }
    } else {
      const parsed = await parseDocumentFile(file, fs.readFileSync(file), source.textField ? { textField: source.textField } : {});
      for (const doc of parsed.documents) yield doc.text;
    }
  }
}

async function* sourceConversations(source: RecipeSource, inputs: InputHash[]): AsyncGenerator<Conversation> {
  for (const file of source.files) {
    inputs.push({ input: file, sha256: sha256OfFile(file) });
    yield* readConversations(file);
  }
}

/** Splits `total` into integer budgets proportional to `shares` that sum exactly to `total`. */
export function apportion(total: number, shares: readonly number[]): number[] {
  const exact = shares.map((share) => total * share);
  const budgets = exact.map(Math.floor);
  let remainder = total - budgets.reduce((a, b) => a + b, 0);
  const order = exact.map((value, i) => ({ i, fraction: value - Math.floor(value) })).sort((a, b) => b.fraction - a.fraction || a.i - b.i);
  for (const { i } of order) {
    if (remainder <= 0) break;
    budgets[i]!++;
    remainder--;
  }
  return budgets;
}

function replaceDirectory(temporary: string, target: string): void {
  if (fs.existsSync(target)) {
    const entries = fs.readdirSync(target);
    if (entries.length > 0 && !entries.includes(MANIFEST_FILE)) {
      throw new ConfigError("output directory exists and is not a Vertical dataset; refusing to replace it", { where: target, hint: "Choose another output or empty it." });
    }
    const old = `${target}.old-${process.pid}`;
    fs.renameSync(target, old);
    fs.renameSync(temporary, target);
    fs.rmSync(old, { recursive: true, force: true });
  } else fs.renameSync(temporary, target);
}

/**
 * Builds a training set from a validated recipe: tokenizes every source once into a temporary
 * cache, fixes each source's token budget from its share, picks documents in a seeded order
 * (cutting the last one to hit the budget exactly; whole conversations for sft), interleaves the
 * sources in a seeded order, packs rows of recipe.seqLen and writes shards + manifest. The output
 * appears only when complete (built in a temporary sibling, then renamed). Same inputs + recipe +
 * seed = same bytes.
 */
export async function buildDataset(recipe: Recipe, options: BuildOptions): Promise<BuildResult> {
  const { tokenizer } = options;
  const target = path.resolve(options.outputDirectory ?? recipe.output);
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.building-${process.pid}`);
  fs.rmSync(temporary, { recursive: true, force: true });
  fs.mkdirSync(temporary, { recursive: true });
  const descriptors: number[] = [];
  try {
    const padId = tokenizer.eosId ?? 0;
    const needsTemplate = recipe.sources.some((s) => s.kind === "chat" || s.kind === "instructions");
    const templateSource = options.chatTemplate ?? tokenizer.chatTemplate;
    if (recipe.sources.some((s) => s.kind === "chat") && !templateSource) {
      throw new ConfigError("objective sft needs the model's chat template, and the tokenizer has none", { where: recipe.file, hint: "Use the chat model's tokenizer (GGUF or tokenizer_config.json with chat_template)." });
    }
    const template = needsTemplate && templateSource ? new ChatTemplate(templateSource, tokenizer) : undefined;
    const specialTexts = [tokenizer.eotId, tokenizer.eosId, tokenizer.bosId].flatMap((id) => (id === undefined ? [] : [tokenizer.idToToken(id) ?? ""])).filter((t) => t !== "");
    const mode = recipe.objective === "sft" ? "whole" : "continuous";

    // 1. Tokenize every source once into its cache.
    const caches: CachedSource[] = [];
    for (const [k, source] of recipe.sources.entries()) {
      const tokensFile = fs.openSync(path.join(temporary, `.source-${k}.tokens`), "w+");
      const maskFile = fs.openSync(path.join(temporary, `.source-${k}.mask`), "w+");
      descriptors.push(tokensFile, maskFile);
      const cache = new SourceCache(tokensFile, maskFile);
      const inputs: InputHash[] = [];
      const dropped: Record<string, number> = {};
      const drop = (reason: string) => (dropped[reason] = (dropped[reason] ?? 0) + 1);
      if (source.kind === "text") {
        for await (const text of sourceTexts(source, inputs)) {
          if (text.trim() === "") continue;
          const tokens = tokenizer.encode(text, { addBos: true, parseSpecial: false });
          if (tokenizer.eosId !== undefined) tokens.push(tokenizer.eosId);
          cache.append(tokens, undefined);
          if (cache.lengths.length % 1000 === 0) options.onProgress?.("tokenize", source.name, cache.lengths.length);
        }
      } else {
        for await (const conversation of sourceConversations(source, inputs)) {
          validateConversation(conversation, { forbiddenTexts: specialTexts });
          if (template) {
            const rendered = renderConversation(conversation, template, tokenizer);
            for (const example of rendered.examples) {
              if (mode === "whole" && example.tokens.length > recipe.seqLen) {
                drop(`longer than seq_len ${recipe.seqLen}`);
                continue;
              }
              const trainAll = source.kind === "instructions" && source.loss === "all";
              cache.append(example.tokens, trainAll ? undefined : example.lossMask);
            }
          } else {
            // No chat template (base model): instructions become plain text, replies trained.
            const tokens: number[] = tokenizer.encode("", { addBos: true });
            const mask: number[] = tokens.map(() => 0);
            for (const message of conversation.messages) {
              const piece = tokenizer.encode(`${message.content}\n\n`, { addBos: false, parseSpecial: false });
              const bit = message.role === "assistant" || source.loss === "all" ? 1 : 0;
              // A loop, not push(...piece): a spread of a 100k-token message overflows the call stack.
              for (const token of piece) {
                tokens.push(token);
                mask.push(bit);
              }
            }
            if (tokenizer.eosId !== undefined) {
              tokens.push(tokenizer.eosId);
              mask.push(1);
            }
            cache.append(tokens, mask);
          }
        }
      }
      if (cache.available === 0) throw new InputError(`source "${source.name}" has no usable items`, { where: recipe.file });
      caches.push({ tokensFile, maskFile, offsets: cache.offsets, lengths: cache.lengths, available: cache.available, inputs, dropped });
    }

    // 2. Token budgets from the shares.
    const shares = recipe.sources.map((s) => s.share);
    const total =
      recipe.totalTokens ??
      Math.min(...recipe.sources.map((source, k) => (source.repeat ? Number.POSITIVE_INFINITY : Math.floor(caches[k]!.available / source.share))));
    if (!Number.isFinite(total)) throw new ConfigError("every source has repeat: true; set total_tokens", { where: recipe.file });
    const budgets = apportion(total, shares);
    budgets.forEach((budget, k) => {
      const source = recipe.sources[k]!;
      if (budget > caches[k]!.available && !source.repeat) {
        throw new ConfigError(`source "${source.name}" has ${caches[k]!.available} tokens, its share ${source.share} of ${total} needs ${budget}`, {
          where: `${recipe.file}: sources[${k}]`,
          hint: "Add data, lower total_tokens, or set repeat: true on this source.",
        });
      }
    });

    // 3. Pick items per source in a seeded order until the budget is met.
    const picks: { k: number; item: number; take: number }[] = [];
    const reports: SourceReport[] = recipe.sources.map((source, k) => ({
      name: source.name,
      kind: source.kind,
      share: source.share,
      tokens: 0,
      achievedShare: 0,
      targetTokens: 0,
      documents: 0,
      truncatedDocuments: 0,
      availableTokens: caches[k]!.available,
      epochs: 0,
      dropped: caches[k]!.dropped,
      inputs: caches[k]!.inputs,
    }));
    recipe.sources.forEach((source, k) => {
      const cache = caches[k]!;
      const random = new SeededRandom((recipe.seed + 0x9e3779b9 * (k + 1)) >>> 0);
      let remaining = budgets[k]!;
      const used = new Set<number>();
      while (remaining > 0) {
        const order = random.shuffle(Array.from(cache.lengths.keys()));
        reports[k]!.epochs++;
        let placedThisEpoch = false;
        for (const item of order) {
          if (remaining <= 0) break;
          const length = cache.lengths[item]!;
          if (mode === "whole" && length > remaining) continue;
          const take = Math.min(length, remaining);
          picks.push({ k, item, take });
          if (take < length) reports[k]!.truncatedDocuments++;
          if (!used.has(item)) {
            used.add(item);
            reports[k]!.documents++;
          }
          remaining -= take;
          placedThisEpoch = true;
        }
        if (!source.repeat || !placedThisEpoch) break;
      }
    });

    // 4. Interleave sources in a seeded order and pack.
    new SeededRandom(recipe.seed).shuffle(picks);
    const writer = new ShardWriter(temporary, recipe.seqLen, padId, recipe.sequencesPerShard);
    const packer = new SequencePacker(recipe.seqLen, padId, mode, (row) => writer.add(row));
    let packed = 0;
    for (const pick of picks) {
      const cache = caches[pick.k]!;
      const offset = cache.offsets[pick.item]!;
      const tokens = new Uint32Array(pick.take);
      fs.readSync(cache.tokensFile, new Uint8Array(tokens.buffer), 0, pick.take * 4, offset * 4);
      const mask = new Uint8Array(pick.take);
      fs.readSync(cache.maskFile, mask, 0, pick.take, offset);
      packer.add({ tokens, lossMask: mask, sourceIndex: pick.k });
      if (++packed % 1000 === 0) options.onProgress?.("pack", recipe.sources[pick.k]!.name, packed);
    }
    packer.finish();
    const shards = writer.finish();
    for (const descriptor of descriptors.splice(0)) fs.closeSync(descriptor);
    for (const k of recipe.sources.keys()) {
      fs.rmSync(path.join(temporary, `.source-${k}.tokens`));
      fs.rmSync(path.join(temporary, `.source-${k}.mask`));
    }

    const totalTokens = packer.tokensBySource.reduce((a, b) => a + (b ?? 0), 0);
    reports.forEach((report, k) => {
      report.tokens = packer.tokensBySource[k] ?? 0;
      report.targetTokens = packer.targetTokensBySource[k] ?? 0;
      report.achievedShare = totalTokens > 0 ? report.tokens / totalTokens : 0;
    });
    const manifest: DatasetManifest = {
      format: "vertical-shards",
      version: 1,
      objective: recipe.objective,
      seqLen: recipe.seqLen,
      padId,
      seed: recipe.seed,
      tokenizer: {
        vocabSize: tokenizer.vocabSize,
        bosId: tokenizer.bosId ?? null,
        eosId: tokenizer.eosId ?? null,
        eotId: tokenizer.eotId ?? null,
        chatTemplateSha256: template ? createHash("sha256").update(template.source).digest("hex") : null,
      },
      recipeSha256: recipe.sha256,
      totals: {
        sequences: packer.sequences,
        tokens: totalTokens,
        targetTokens: packer.targetTokensBySource.reduce((a, b) => a + (b ?? 0), 0),
        paddingTokens: packer.paddingTokens,
      },
      sources: reports,
      shards,
    };
    writeFileAtomic(path.join(temporary, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    replaceDirectory(temporary, target);
    return { directory: target, manifest };
  } catch (error) {
    for (const descriptor of descriptors) fs.closeSync(descriptor);
    fs.rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}
