/**
 * Structure-following chunking. A document (Markdown, or the Markdown-like text the readers make of
 * HTML/PDF/DOCX) is cut into blocks — headings, paragraphs, list items, table rows — and the blocks
 * of one section are packed into chunks under a token budget measured by the caller's tokenizer. A
 * chunk never spans two sections (so its heading trail is exact); a block longer than the budget is
 * cut between sentences (Intl.Segmenter, which knows Chinese and English sentence ends), and a
 * sentence longer than the budget between characters. Each chunk's text is an exact slice of the
 * document, so `start`/`end` locate it in the source.
 */
import { ConfigError } from "../shared/errors.js";

export interface StructuredChunkOptions {
  /** Tokens in a piece of text: pass the model's tokenizer. */
  countTokens: (text: string) => number;
  /** Largest chunk, in tokens. Defaults to 256. */
  maxTokens?: number;
  /** Tokens of the previous chunk (whole sentences/rows) repeated at the start of the next one in the same section. Defaults to 32. */
  overlapTokens?: number;
}

export interface StructuredChunk {
  /** `<documentId>#<ordinal>`. */
  id: string;
  documentId: string;
  /** File the document was read from. */
  sourcePath: string;
  /** Headings above the chunk, outermost first. */
  headings: string[];
  text: string;
  /** Character offsets of `text` in the document: text === document.slice(start, end). */
  start: number;
  end: number;
  tokenCount: number;
}

export interface ChunkableDocument {
  id: string;
  sourcePath: string;
  text: string;
}

/** A span of the document that is never cut unless it alone exceeds the budget. */
interface Unit {
  start: number;
  end: number;
}

interface Section {
  headings: string[];
  units: Unit[];
}

const HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;
const LIST_ITEM = /^\s*(?:[-*+]|\d+[.)])\s+/;
const TABLE_ROW = /^\s*\|/;

const sentenceSegmenter = new Intl.Segmenter("zh", { granularity: "sentence" });
const graphemeSegmenter = new Intl.Segmenter("zh", { granularity: "grapheme" });

export function chunkStructured(document: ChunkableDocument, options: StructuredChunkOptions): StructuredChunk[] {
  const maxTokens = options.maxTokens ?? 256;
  const overlapTokens = options.overlapTokens ?? 32;
  if (!Number.isInteger(maxTokens) || maxTokens < 1)
    throw new ConfigError(`chunk maxTokens must be a positive integer, got ${maxTokens}`, {
      where: "retrieval.maxTokens",
    });
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens >= maxTokens)
    throw new ConfigError(`chunk overlapTokens must be an integer in [0, maxTokens), got ${overlapTokens}`, {
      where: "retrieval.overlapTokens",
    });
  const chunks: StructuredChunk[] = [];
  for (const section of splitSections(document.text)) {
    const units = section.units.flatMap((unit) => fitUnit(document.text, unit, maxTokens, options.countTokens));
    for (const span of packUnits(document.text, units, maxTokens, overlapTokens, options.countTokens)) {
      const text = document.text.slice(span.start, span.end);
      chunks.push({
        id: `${document.id}#${chunks.length}`,
        documentId: document.id,
        sourcePath: document.sourcePath,
        headings: section.headings,
        text,
        start: span.start,
        end: span.end,
        tokenCount: span.tokens,
      });
    }
  }
  return chunks;
}

/** Sections of the text (split at headings) with their blocks: paragraphs, list items, table rows. */
function splitSections(text: string): Section[] {
  const sections: Section[] = [];
  let trail: string[] = [];
  let current: Section = { headings: [], units: [] };
  let paragraph: Unit | undefined;
  const closeParagraph = () => {
    if (paragraph) current.units.push(paragraph);
    paragraph = undefined;
  };
  let offset = 0;
  for (const line of text.split("\n")) {
    const start = offset;
    const end = start + line.replace(/\s+$/, "").length;
    offset += line.length + 1;
    const heading = HEADING.exec(line);
    if (heading) {
      closeParagraph();
      if (current.units.length > 0) sections.push(current);
      trail = [...trail.slice(0, heading[1]!.length - 1), heading[2]!];
      current = { headings: trail.filter((title) => title !== undefined), units: [] };
      continue;
    }
    if (line.trim() === "") {
      closeParagraph();
      continue;
    }
    const contentStart = start + (line.length - line.trimStart().length);
    // A list item or a table row is its own block; a paragraph runs until a blank line.
    if (LIST_ITEM.test(line) || TABLE_ROW.test(line)) {
      closeParagraph();
      current.units.push({ start: contentStart, end });
    } else if (paragraph) paragraph.end = end;
    else paragraph = { start: contentStart, end };
  }
  closeParagraph();
  if (current.units.length > 0) sections.push(current);
  return sections;
}

/** The unit itself when it fits, else its sentences (and a sentence that is still too long, cut between characters). */
function fitUnit(text: string, unit: Unit, maxTokens: number, countTokens: (text: string) => number): Unit[] {
  if (countTokens(text.slice(unit.start, unit.end)) <= maxTokens) return [unit];
  const pieces: Unit[] = [];
  for (const sentence of sentenceSegmenter.segment(text.slice(unit.start, unit.end))) {
    const trimmed = sentence.segment.trimEnd();
    if (trimmed.trim() === "") continue;
    const piece = { start: unit.start + sentence.index, end: unit.start + sentence.index + trimmed.length };
    if (countTokens(trimmed) <= maxTokens) pieces.push(piece);
    else pieces.push(...cutCharacters(text, piece, maxTokens, countTokens));
  }
  return pieces;
}

/** Longest runs of whole characters (graphemes) that fit the budget. */
function cutCharacters(text: string, unit: Unit, maxTokens: number, countTokens: (text: string) => number): Unit[] {
  const pieces: Unit[] = [];
  let pieceStart = unit.start;
  let pieceEnd = unit.start;
  for (const grapheme of graphemeSegmenter.segment(text.slice(unit.start, unit.end))) {
    const next = unit.start + grapheme.index + grapheme.segment.length;
    if (pieceEnd > pieceStart && countTokens(text.slice(pieceStart, next)) > maxTokens) {
      pieces.push({ start: pieceStart, end: pieceEnd });
      pieceStart = pieceEnd;
    }
    pieceEnd = next;
  }
  if (pieceEnd > pieceStart) pieces.push({ start: pieceStart, end: pieceEnd });
  return pieces;
}

/** Greedy packing of consecutive units under the budget, each chunk starting with up to `overlapTokens` of the previous one's last units. */
function packUnits(
  text: string,
  units: Unit[],
  maxTokens: number,
  overlapTokens: number,
  countTokens: (text: string) => number,
): (Unit & { tokens: number })[] {
  const spans: (Unit & { tokens: number })[] = [];
  let first = 0;
  while (first < units.length) {
    let last = first;
    let tokens = countTokens(text.slice(units[first]!.start, units[first]!.end));
    while (last + 1 < units.length) {
      const candidate = countTokens(text.slice(units[first]!.start, units[last + 1]!.end));
      if (candidate > maxTokens) break;
      last++;
      tokens = candidate;
    }
    spans.push({ start: units[first]!.start, end: units[last]!.end, tokens });
    if (last + 1 >= units.length) break;
    // Step back over whole units while they fit the overlap, but always move forward.
    let next = last + 1;
    while (next - 1 > first && countTokens(text.slice(units[next - 1]!.start, units[last]!.end)) <= overlapTokens)
      next--;
    first = next;
  }
  return spans;
}
