/**
 * A script-based language guess, good enough to route n-gram and quality rules: "zh" when Han
 * characters dominate the letters, "ja"/"ko" for kana/hangul, "en" for Latin, "ru" Cyrillic,
 * "ar" Arabic, "und" when there are no letters. It does not tell Latin-script languages apart.
 */
export type LanguageCode = "zh" | "ja" | "ko" | "en" | "ru" | "ar" | "und";

export function detectLanguage(text: string): LanguageCode {
  const sample = text.length > 20_000 ? text.slice(0, 20_000) : text;
  let han = 0, kana = 0, hangul = 0, latin = 0, cyrillic = 0, arabic = 0;
  for (const character of sample) {
    const code = character.codePointAt(0)!;
    if ((code >= 0x4e00 && code <= 0x9fff) || (code >= 0x3400 && code <= 0x4dbf) || (code >= 0xf900 && code <= 0xfaff)) han++;
    else if (code >= 0x3040 && code <= 0x30ff) kana++;
    else if (code >= 0xac00 && code <= 0xd7af) hangul++;
    else if ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || (code >= 0xc0 && code <= 0x24f)) latin++;
    else if (code >= 0x400 && code <= 0x4ff) cyrillic++;
    else if (code >= 0x600 && code <= 0x6ff) arabic++;
  }
  // A Han character carries about as much as a 3-4 letter word: weigh it up so mixed zh/en text
  // with Chinese prose and English terms counts as Chinese.
  const scores: [LanguageCode, number][] = [
    ["zh", han * 3],
    ["ja", kana * 3 + (kana > 0 ? han : 0)],
    ["ko", hangul * 3],
    ["en", latin],
    ["ru", cyrillic],
    ["ar", arabic],
  ];
  let best: [LanguageCode, number] = ["und", 0];
  for (const score of scores) if (score[1] > best[1]) best = score;
  return best[0];
}
