export { splitCitedSentences, type CitedSentence } from "./splitCitedSentences.js";
export {
  lexicalSupportJudge,
  lexicalCoverage,
  entailmentSupportJudge,
  ENTAILMENT_PROMPTS,
  type SupportJudge,
  type LexicalSupportOptions,
} from "./supportJudge.js";
export {
  checkCitations,
  summariseCitations,
  type CitationCheck,
  type CitationSummary,
  type SentenceCheck,
} from "./checkCitations.js";
