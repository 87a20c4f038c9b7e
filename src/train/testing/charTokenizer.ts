/**
 * A character-level tokenizer with ChatML special tokens, for training tests that need text and
 * chat data without a real vocabulary: ids 0..3 are <s>, </s>, <|im_start|>, <|im_end|>; then "\n"
 * and printable ASCII. 100 tokens in all.
 */
import type { EncodeOptions, Tokenizer } from "../../tokenizer/types.js";

const SPECIALS = ["<s>", "</s>", "<|im_start|>", "<|im_end|>"];
const CHARACTERS = ["\n", ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))];

export const CHATML_TEMPLATE =
  "{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n{% endfor %}" +
  "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

export class CharTokenizer implements Tokenizer {
  readonly vocabSize = SPECIALS.length + CHARACTERS.length;
  readonly bosId = undefined;
  readonly eosId = 1;
  readonly eotId = 3;
  readonly chatTemplate = CHATML_TEMPLATE;

  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    let index = 0;
    outer: while (index < text.length) {
      if (options.parseSpecial ?? true) {
        for (const [id, special] of SPECIALS.entries()) {
          if (text.startsWith(special, index)) {
            ids.push(id);
            index += special.length;
            continue outer;
          }
        }
      }
      const position = CHARACTERS.indexOf(text[index]!);
      ids.push(SPECIALS.length + (position < 0 ? CHARACTERS.indexOf("?") : position));
      index++;
    }
    return ids;
  }

  decode(ids: readonly number[]): string {
    return ids.map((id) => this.idToToken(id) ?? "").join("");
  }

  tokenToId(token: string): number | undefined {
    const special = SPECIALS.indexOf(token);
    if (special >= 0) return special;
    const position = CHARACTERS.indexOf(token);
    return position >= 0 ? SPECIALS.length + position : undefined;
  }

  idToToken(id: number): string | undefined {
    return id < SPECIALS.length ? SPECIALS[id] : CHARACTERS[id - SPECIALS.length];
  }
}
