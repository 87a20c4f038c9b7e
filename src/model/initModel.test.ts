import { describe, expect, it } from "vitest";
import { gguf } from "../engine/gguf/index.js";
import { checkModelSize, createModel, type TokenizerMetadata } from "./initModel.js";

const tokenizer: TokenizerMetadata = new Map([
  ["tokenizer.ggml.model", gguf.string("gpt2")],
  ["tokenizer.ggml.tokens", gguf.stringArray(Array.from({ length: 1000 }, (_, i) => `t${i}`))],
]);
const spec = { architecture: "llama", hidden: 64, layers: 2, heads: 4, ffn: 128, context: 64 };

describe("model init sizes", () => {
  it("--hidden 1000000 is an InputError naming the parameter count, raised before any value is allocated", () => {
    expect(() => createModel({ ...spec, hidden: 1_000_000 }, tokenizer)).toThrow(
      /blk\.0\.attn_q\.weight \[1000000, 1000000\] would hold 1,000,000,000,000 values, more than one array can hold\nHint: lower --hidden/,
    );
    expect(() => createModel({ ...spec, hidden: 16_384, ffn: 65_536 }, tokenizer)).toThrow(
      /would hold|the model would have/,
    );
  });

  it("the memory check names both sizes; a small model passes and keeps its values", () => {
    const shapes = [{ name: "w", shape: [1024, 1024] }];
    expect(() => checkModelSize(shapes, 2 ** 20)).toThrow(
      /the model would have 1,048,576 parameters \(0\.0 GiB as f32 while it is initialised\); this machine has 0\.0 GiB/,
    );
    expect(() => checkModelSize(shapes, 2 ** 30)).not.toThrow();
    const model = createModel(spec, tokenizer);
    expect(model.tensors.find((tensor) => tensor.name === "token_embd.weight")?.values.length).toBe(64 * 1000);
    expect(
      model.tensors.find((tensor) => tensor.name === "output_norm.weight")?.values.every((value) => value === 1),
    ).toBe(true);
  });
});
