/** One multiple-choice question as every loader returns it, whatever the file format. */
export interface McqOption {
  /** "A", "B", … */
  letter: string;
  text: string;
}

export interface McqItem {
  /** Stable across runs: the file's id column, else `<subject>/<row>`. Resume relies on it. */
  id: string;
  subject: string;
  question: string;
  options: McqOption[];
  /** Gold letter, one of the options' letters. */
  answer: string;
  /** Explanation (C-Eval dev split), used by nothing but kept for exemplars. */
  explanation?: string;
  /** Where the item came from: file path and 1-based row (CSV: header = row 1) or JSONL line. */
  source: { file: string; row: number };
}
