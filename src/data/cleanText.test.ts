import { describe, expect, it } from "vitest";
import { cleanText, maskPii, normalizeText, qualityRejection } from "./cleanText.js";

const prose =
  "The harbour master schedules every arrival according to the tide tables published each season. Vessels wait at the outer " +
  "anchorage until a pilot boards them, and tugboats then guide the larger ships through the narrow channel toward the berths. " +
  "Cargo handling begins once the mooring lines are secured and the customs officers have inspected the manifest documents.";
const chineseProse =
  "港务长根据每个季节公布的潮汐表安排船舶进港。船舶在外锚地等待引航员登船，随后拖船引导大型船舶穿过狭窄的航道驶向泊位。系泊缆绳固定并且海关人员检查舱单之后，装卸作业才开始进行。";

describe("cleanText", () => {
  it("normalises NFKC, control characters, whitespace and blank-line runs", () => {
    expect(normalizeText("ＡＢＣ\u200b１２３\r\n\r\n\r\n\r\nx\u0007  \t y  ")).toBe("ABC123\n\nx y");
  });

  it("masks e-mail, phone numbers, valid Chinese ID numbers and Luhn-valid bank cards only", () => {
    const { text, masked } = maskPii(
      "mail li.wei@port.example.cn, call 138 0013 8000 or +1 415-555-0132; ID 11010519491231002X; bad ID 110105194912310021; " +
        "card 4111 1111 1111 1111; order number 4111111111111112.",
    );
    expect(text).toBe(
      "mail [EMAIL], call [PHONE] or [PHONE]; ID [ID_NUMBER]; bad ID 110105194912310021; card [BANK_CARD]; order number 4111111111111112.",
    );
    expect(masked).toEqual({ email: 1, phone: 2, chineseIdNumber: 1, bankCard: 1 });
  });

  it("keeps good English and Chinese prose and drops boilerplate lines", () => {
    const en = cleanText(`${prose}\nWe use cookies to improve your experience.\n© 2024 All rights reserved.`);
    expect(en.rejection).toBeNull();
    expect(en.language).toBe("en");
    expect(en.text).toBe(prose);
    const zh = cleanText(chineseProse);
    expect(zh.rejection).toBeNull();
    expect(zh.language).toBe("zh");
  });

  it("rejects by Gopher/C4-style rules with the rule and numbers in the reason", () => {
    expect(qualityRejection("Too short.", "en")).toMatch(/^too-short: 2 units < 50/);
    expect(cleanText(`${"Buy now! ".repeat(40)}`).rejection).toMatch(/^(top-2gram|duplicate-5grams)/);
    expect(cleanText(Array.from({ length: 60 }, (_, i) => `${i * 7919} ${i * 104729} ${i}`).join(" ")).rejection).toMatch(/^(digit-ratio|mean-word-length)/);
    const repeatedLines = Array.from({ length: 10 }, () => "Click here to continue reading the full story today").join("\n");
    expect(cleanText(repeatedLines).rejection).toMatch(/^duplicate-lines/);
    expect(qualityRejection(prose, "en", { languages: ["zh"] })).toBe("language: en not in [zh]");
    expect(qualityRejection(prose, "en", { minUnits: 500 })).toMatch(/^too-short/);
  });
});
