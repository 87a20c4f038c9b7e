/**
 * `vertical lab init DIR`: a domain folder with a commented lab.yaml and the folders it names, each
 * with a one-line example of its format, so a new user sees the layout before filling it.
 */
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../shared/atomicWrite.js";
import { InputError } from "../shared/errors.js";

export const LAB_YAML_TEMPLATE = `# lab.yaml — what \`vertical lab .\` compares on this domain. Every field is documented in docs/lab.md.
# Paths are relative to this folder.

# name: my-domain            # shown in the report; defaults to the folder's name
seed: 0                       # model building, data order, sampling and bootstrap intervals

model:
  # The model to specialise: a GGUF file (a base or chat model; llama.cpp's formats).
  path: models/base.gguf
  # A chat model (the base after general-purpose SFT, or any chat GGUF) adds the routes chat, chat-sft and
  # chat-sft-small: does SFT on the chat model beat SFT on the base, with all the data and with a quarter of it?
  # chat: models/chat.gguf
  # Or let the lab build a small llama-family model from this folder's own text (tokenizer + pre-training on
  # general/), cached under the cache folder. Use one of path / build.
  # build:
  #   tokenizer: { vocabSize: 2048 }
  #   hidden: 128
  #   layers: 4
  #   heads: 4
  #   ffn: 384
  #   context: 256
  #   pretrain: { steps: 600, lr: 0.003, sequences: 8 }
  chatTemplate: auto          # auto: chat routes use the model's own template (keep a chat model's template); none: plain text
  # systemPrompt: "You answer questions about ..."

data:                         # the defaults below are the layout \`vertical lab init\` writes
  docs: docs                  # domain documents (.md, .txt): retrieval index and CPT text
  sft: sft                    # chat conversations, JSONL: {"messages": [{"role": "user", ...}, {"role": "assistant", ...}]}
  general: general/text       # general text: mixed into CPT against forgetting (and pre-training of a built model)
  domainMcq: eval/mcq.jsonl   # {"question", "choices": [...], "answer": index, "source": doc id}
  domainMcqDev: eval/mcq-dev.jsonl   # solved examples for the few-shot route; none of them in the test set
  generalMcq: general/mcq.jsonl      # general knowledge questions: the forgetting check
  open: eval/open.jsonl       # {"question", "reference", "source"}

# Routes to compare (base always runs). Default: all of them (the chat ones only with model.chat). Known: base,
# few-shot, retrieval, cpt, cpt-general, sft, sft-small, mip, cpt-sft, retrieval-sft, chat, chat-sft, chat-sft-small.
# routes: [base, retrieval, cpt-general, sft]

# These defaults suit a real model (~0.1-8B parameters, LoRA). For a small model (under ~50M parameters, e.g. one
# from \`vertical model init\`), use method: full and lr: 0.001 — \`vertical lab . --check\` says which applies.
training:
  method: lora                # lora | full
  rank: 16
  alpha: 32
  lr: 0.0002
  sequences: 8                # sequences per step
  generalPerDomain: 5         # cpt-general: general tokens per domain token (1:5)

budgets:                      # per training stage; each must be >= 1
  cpt: { steps: 200 }         # optional: tokens: N (cap), minutes: M (wall-clock limit)
  sft: { steps: 200 }
  mip: { steps: 200 }
  # embedder: { steps: 30, batch: 8 }   # retrieval-embedder: the embedder trained on docs/ (optional minutes: M)

retrieval: { topK: 3, chunkChars: 400, overlapSentences: 1 }
fewShot: { shots: 3 }
eval:
  maxTokens: 64               # longest open-ended answer
  scoring: option             # option: log-likelihood of each option's text; letter: of A-D
  # limit: 200                # score at most N items per MCQ set
  # openLimit: 50
`;

/** Every example line `lab init` writes starts its text with this: the lab refuses to train or measure on it. */
export const PLACEHOLDER_MARKER = "Replace me";

/** The files `lab init` writes, by path relative to the folder: the lab refuses any of them left unchanged. */
export const PLACEHOLDERS: Record<string, string> = {
  "docs/README.md": "# Domain documents\n\nPut the domain's documents here (.md or .txt; convert PDF/DOCX with `vertical data ingest`).\n",
  "eval/mcq.jsonl": '{"id": "q1", "question": "Replace me: a question about the domain?", "choices": ["right", "wrong 1", "wrong 2", "wrong 3"], "answer": 0, "source": "README"}\n',
  "eval/mcq-dev.jsonl": '{"id": "d1", "question": "Replace me: a solved example (not in mcq.jsonl)?", "choices": ["right", "wrong 1", "wrong 2", "wrong 3"], "answer": 0, "source": "README"}\n',
  "eval/open.jsonl": '{"id": "o1", "question": "Replace me: an open question?", "reference": "The reference answer.", "source": "README"}\n',
  "sft/chat.jsonl": '{"messages": [{"role": "user", "content": "Replace me: a user question"}, {"role": "assistant", "content": "The answer."}]}\n',
  "general/text/README.txt": "General text (encyclopaedic, everyday language) goes here; it is mixed into CPT against forgetting.\n",
  "general/mcq.jsonl": '{"id": "g1", "question": "What is 2 plus 3?", "choices": ["5", "4", "6", "7"], "answer": 0}\n',
};

/** Writes the scaffold; refuses to overwrite an existing lab.yaml. Returns the files written. */
export function initLab(folder: string): string[] {
  const target = path.resolve(folder);
  const yamlPath = path.join(target, "lab.yaml");
  if (fs.existsSync(yamlPath)) throw new InputError("lab.yaml already exists; not overwriting it", { where: yamlPath, hint: "Edit it, or init another folder." });
  const written: string[] = [];
  writeFileAtomic(yamlPath, LAB_YAML_TEMPLATE);
  written.push("lab.yaml");
  for (const [relative, content] of Object.entries(PLACEHOLDERS)) {
    const file = path.join(target, relative);
    if (fs.existsSync(file)) continue;
    writeFileAtomic(file, content);
    written.push(relative);
  }
  fs.mkdirSync(path.join(target, "models"), { recursive: true });
  return written;
}
