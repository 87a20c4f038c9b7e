import { describe, expect, it } from "vitest";
import { permuteRows, unpermuteRows } from "../model/hf/index.js";

describe("PEFT import", () => {
  it("permutes q/k rows as convert_hf_to_gguf does: the exact inverse of the export's un-permutation", () => {
    // numpy: permute(arange(24).reshape(8, 3), n_head=2) gives these GGUF rows (values of HF rows)
    const gguf = Float32Array.from([0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11, 12, 13, 14, 18, 19, 20, 15, 16, 17, 21, 22, 23]);
    const hf = Float32Array.from({ length: 24 }, (_, i) => i);
    expect([...permuteRows(hf, 8, 3, 2)]).toEqual([...gguf]);
    expect([...permuteRows(unpermuteRows(gguf, 8, 3, 2), 8, 3, 2)]).toEqual([...gguf]);
  });
});
