/**
 * Word segmentation for retrieval: Chinese runs go through jieba (search mode, which also emits the
 * sub-words of long compounds, so "交通管理" matches a query for "管理"); everything else is split into
 * lowercased words that keep internal dots and hyphens, so "14.5", "QDG-3" and "Q07" stay one token.
 */
import { Jieba } from "@node-rs/jieba";
import { dict } from "@node-rs/jieba/dict.js";

let jieba: Jieba | undefined;
/** jieba's dictionary takes ~0.2 s to load: do it once, on first use. */
function segmenter(): Jieba {
  jieba ??= Jieba.withDict(dict);
  return jieba;
}

const ENGLISH_STOPWORDS = new Set(
  "a an and are as at be by for from has have in is it its of on or that the this to was were which with what who whom how does do shall should may any all".split(
    " ",
  ),
);
const CHINESE_STOPWORDS = new Set(["的", "是", "了", "在", "和", "与", "及", "为", "对", "按", "请", "吗", "呢", "什么", "多少", "哪", "谁", "哪一个"]);

// A Han run, or a run of letters/digits that are not Han (with inner . or - kept).
const TOKEN_PATTERN = /(\p{Script=Han}+)|((?:(?!\p{Script=Han})[\p{L}\p{N}])+(?:[.-](?:(?!\p{Script=Han})[\p{L}\p{N}])+)*)/gu;

/** Index terms of `text`, in order, stopwords removed. The same function must serve documents and queries. */
export function segmentWords(text: string): string[] {
  const terms: string[] = [];
  for (const match of text.normalize("NFKC").matchAll(TOKEN_PATTERN)) {
    const [, han, other] = match;
    if (han !== undefined) {
      for (const word of segmenter().cutForSearch(han, true)) if (!CHINESE_STOPWORDS.has(word)) terms.push(word);
    } else if (other !== undefined) {
      const word = other.toLowerCase();
      if (!ENGLISH_STOPWORDS.has(word)) terms.push(word);
    }
  }
  return terms;
}
