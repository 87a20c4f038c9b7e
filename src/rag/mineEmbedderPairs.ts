/**
 * (query, passage) pairs for training a domain embedder, mined from the domain documents alone:
 * - heading -> section: a Markdown heading (`# …`) is a query for the first passage of its section;
 * - sentence -> passage (the inverse cloze task of Lee et al. 2019): a sentence of a passage is a query
 *   for that passage with the sentence taken out, so the pair cannot be matched by copying words. A
 *   sentence found in more than one document (boilerplate, a fact every notice repeats) names no
 *   single passage and is not used.
 * Passages are the retrieval chunks themselves (chunkDocuments at the caller's settings), so the
 * embedder trains on the units it will index. Each pair carries BM25-mined hard negatives: the best
 * BM25 passages of other documents that do not contain the query text.
 * A pair whose query overlaps an evaluation item (src/data/decontaminate.ts n-grams) is dropped and
 * counted, so no evaluation question is trained on. Passages are the domain documents, which the lab
 * trains on and indexes anyway (its CPT data keeps documents that share wording with an evaluation
 * item, and reports them); their overlaps are counted, and `dropPassageOverlaps` drops those pairs too.
 */
import type { Decontaminator } from "../data/decontaminate.js";
import { textUnits } from "../data/textUnits.js";
import { Bm25Retriever } from "./bm25Retriever.js";
import { chunkDocuments, splitSentences, type ChunkOptions } from "./chunkDocuments.js";
import type { Passage, SourceDocument } from "./types.js";

export type PairKind = "heading" | "sentence";

export interface MinedPair {
  kind: PairKind;
  query: string;
  /** The passage (chunk id and text) the query belongs to; for sentence pairs without the sentence. */
  positive: { id: string; text: string };
  /** BM25 hard negatives, best first. */
  negatives: { id: string; text: string }[];
}

export interface MinePairsOptions extends ChunkOptions {
  /** Hard negatives mined per pair. Defaults to 3. */
  hardNegatives?: number;
  /** Evaluation items to keep out of the pairs. */
  decontaminator?: Decontaminator;
  /** Also drop pairs whose passage shares an n-gram with an evaluation item. Defaults to false. */
  dropPassageOverlaps?: boolean;
}

export interface MinedPairs {
  pairs: MinedPair[];
  passages: number;
  /** Pairs found, before decontamination, by kind. */
  found: Record<PairKind, number>;
  /** Pairs dropped because their query (or, with dropPassageOverlaps, their passage) overlaps an evaluation item. */
  dropped: number;
  /** Kept pairs whose passage shares an n-gram with an evaluation item (0 with dropPassageOverlaps). */
  keptPassageOverlaps: number;
  /** Evaluation items (file and id) the dropped pairs overlapped, with how many pairs each. */
  overlaps: { file: string; item: string; pairs: number }[];
}

const HEADING = /^#{1,6}\s+(.+?)\s*#*$/u;

/** A key under which reformatting of the same words matches (NFKC, case, punctuation ignored). */
function textKey(text: string): string {
  return textUnits(text).join(" ");
}

/** The first sentence of each section, keyed by document, with the heading that opens it. */
function headingQueries(document: SourceDocument): { heading: string; firstSentence: string }[] {
  const found: { heading: string; firstSentence: string }[] = [];
  let pending: string | undefined;
  for (const line of document.text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    const heading = HEADING.exec(trimmed);
    if (heading) pending = heading[1]!;
    else if (pending) {
      found.push({ heading: pending, firstSentence: splitSentences(trimmed)[0]! });
      pending = undefined;
    }
  }
  return found;
}

export function mineEmbedderPairs(documents: readonly SourceDocument[], options: MinePairsOptions = {}): MinedPairs {
  const passages = chunkDocuments(documents, options);
  const bm25 = new Bm25Retriever(passages);
  const documentsOfSentence = new Map<string, Set<string>>();
  for (const document of documents)
    for (const sentence of splitSentences(document.text)) {
      const key = textKey(sentence);
      if (!documentsOfSentence.has(key)) documentsOfSentence.set(key, new Set());
      documentsOfSentence.get(key)!.add(document.id);
    }

  const candidates: { kind: PairKind; query: string; positive: Passage; positiveText: string }[] = [];
  for (const document of documents) {
    const own = passages.filter((passage) => passage.documentId === document.id);
    for (const { heading, firstSentence } of headingQueries(document)) {
      const positive = own.find((passage) => passage.text.includes(firstSentence));
      if (positive) candidates.push({ kind: "heading", query: heading, positive, positiveText: positive.text });
    }
  }
  const documentSentences = new Map(documents.map((document) => [document.id, splitSentences(document.text)]));
  for (const passage of passages) {
    const all = sentencesOf(passage, documentSentences.get(passage.documentId) ?? []);
    const sentences = all.filter((sentence) => !HEADING.test(sentence));
    if (sentences.length < 2) continue; // taking the only sentence out leaves nothing to find
    for (const sentence of sentences) {
      if ((documentsOfSentence.get(textKey(sentence))?.size ?? 0) > 1) continue;
      const rest = all.filter((other) => other !== sentence).join(" ");
      candidates.push({ kind: "sentence", query: sentence, positive: passage, positiveText: rest });
    }
  }

  const found: Record<PairKind, number> = { heading: 0, sentence: 0 };
  const overlaps = new Map<string, { file: string; item: string; pairs: number }>();
  const pairs: MinedPair[] = [];
  let dropped = 0;
  let keptPassageOverlaps = 0;
  for (const candidate of candidates) {
    found[candidate.kind]++;
    const detector = options.decontaminator;
    const passageMatches = detector ? detector.matches(candidate.positive.text) : [];
    const matches = detector ? [...detector.matches(candidate.query), ...(options.dropPassageOverlaps ? passageMatches : [])] : [];
    if (matches.length === 0 && passageMatches.length > 0) keptPassageOverlaps++;
    if (matches.length > 0) {
      dropped++;
      for (const match of matches) {
        const key = `${match.file}\u0000${match.item}`;
        const entry = overlaps.get(key) ?? { file: match.file, item: match.item, pairs: 0 };
        entry.pairs++;
        overlaps.set(key, entry);
      }
      continue;
    }
    pairs.push({
      kind: candidate.kind,
      query: candidate.query,
      positive: { id: candidate.positive.id, text: candidate.positiveText },
      negatives: hardNegatives(bm25, candidate.query, candidate.positive, options.hardNegatives ?? 3),
    });
  }
  return { pairs, passages: passages.length, found, dropped, keptPassageOverlaps, overlaps: [...overlaps.values()] };
}

/**
 * The document sentences a passage was joined from (chunkDocuments joins whole sentences with a space;
 * splitting its text again would merge a heading line with the sentence after it).
 */
function sentencesOf(passage: Passage, sentences: readonly string[]): string[] {
  for (let start = 0; start < sentences.length; start++) {
    if (!passage.text.startsWith(sentences[start]!)) continue;
    let joined = sentences[start]!;
    let end = start + 1;
    while (joined.length < passage.text.length && end < sentences.length) joined += ` ${sentences[end++]!}`;
    if (joined === passage.text) return sentences.slice(start, end);
  }
  return [passage.text];
}

/** The best BM25 passages of other documents that do not contain the query (which would make them positives). */
function hardNegatives(bm25: Bm25Retriever, query: string, positive: Passage, count: number): { id: string; text: string }[] {
  if (count === 0) return [];
  const queryKey = textKey(query);
  return bm25
    .retrieveSync(query, count * 4 + 4)
    .filter((hit) => hit.documentId !== positive.documentId && !textKey(hit.text).includes(queryKey))
    .slice(0, count)
    .map((hit) => ({ id: hit.id, text: hit.text }));
}
