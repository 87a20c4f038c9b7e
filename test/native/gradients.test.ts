/**
 * The forward graph is trainable the way a trainer will use it: trainable LoRA tensors and a soft
 * prompt marked as parameters in their own context, forward + backward through the scheduler,
 * gradients checked against central finite differences of the same graph.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Backend, Context, GgmlType, Graph, type Tensor } from "../../src/engine/index.js";
import { buildForward, createScheduler, loadModel, normalSampler, type LoraWeights } from "../../src/model/index.js";
import { writeTinyModel } from "./reference.js";

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-grad-"));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

describe("backward through the llama-family graph", () => {
  it("LoRA and soft-prompt gradients match finite differences", async () => {
    const file = path.join(directory, "qwen3.gguf");
    await writeTinyModel(file, { architecture: "qwen3", layers: 1 });
    using backend = Backend.cpu(1);
    using model = loadModel(file, { backend });
    const E = model.hparams.embeddingLength;
    const B = 2;
    const T = 5;
    const P = 2;
    const rank = 2;

    // Trainable tensors in their own context and buffer.
    using trainable = new Context({ maxTensors: 8 });
    const q = model.weight("blk.0.attn_q.weight");
    const down = model.weight("blk.0.ffn_down.weight");
    const qA = trainable.tensor(GgmlType.F32, [q.shape[0], rank], "q.lora_a").markParameter();
    const qB = trainable.tensor(GgmlType.F32, [rank, q.shape[1]], "q.lora_b").markParameter();
    const dA = trainable.tensor(GgmlType.F32, [down.shape[0], rank], "down.lora_a").markParameter();
    const dB = trainable.tensor(GgmlType.F32, [rank, down.shape[1]], "down.lora_b").markParameter();
    const prompt = trainable.tensor(GgmlType.F32, [E, P], "soft_prompt").markParameter();
    using buffer = backend.allocate(trainable);
    expect(buffer.bytes).toBeGreaterThan(0);
    const noise = normalSampler(3);
    for (const tensor of [qA, qB, dA, dB, prompt])
      tensor.write(Float32Array.from({ length: tensor.elements }, () => noise() * 0.3));
    const lora: LoraWeights = new Map([
      ["blk.0.attn_q.weight", [{ a: qA, b: qB, scale: 1.5 }]],
      ["blk.0.ffn_down.weight", [{ a: dA, b: dB, scale: 1 }]],
    ]);

    // loss = sum(logits[selected rows] * R): linear in the logits, so every path is exercised.
    const size = 2048;
    using compute = new Context({ maxTensors: size * 3, graphBytes: Graph.bytesFor(size, true) * 2 });
    const rows = compute.tensor(GgmlType.I32, [3], "rows").markInput();
    const forward = buildForward(compute, model, { batch: B, length: T, lora, softPrompt: prompt, outputRows: rows });
    const weights = compute.tensor(GgmlType.F32, forward.logits!.shape.slice(0, 2), "loss_weights").markInput();
    const loss = compute.sum(compute.mul(forward.logits!, weights)).markOutput().markLoss();
    const graph = new Graph(compute, { size, gradients: true }).expand(loss).expandBackward();
    const { scheduler } = createScheduler(backend, size * 2);
    using _scheduler = scheduler;

    const ids = Int32Array.from({ length: B * T }, (_, i) => 100 + i * 37);
    const S = P + T;
    const rowIds = Int32Array.from([P + 1, S - 1, S + P + 3]);
    const lossWeights = Float32Array.from({ length: weights.elements }, () => noise());
    const evaluate = (): number => {
      scheduler.allocate(graph);
      forward.writeInputs(ids);
      rows.write(rowIds);
      weights.write(lossWeights);
      graph.resetGradients();
      scheduler.compute(graph);
      return loss.readFloats()[0]!;
    };

    evaluate();
    const checks: [Tensor, number[]][] = [
      [qA, [0, 17, 40]],
      [qB, [1, 30]],
      [dA, [5, 77]],
      [dB, [3, 20]],
      [prompt, [0, 9, E + 4]],
    ];
    const analytic = checks.map(([tensor]) => graph.gradient(tensor)!.readFloats());
    const epsilon = 1e-2;
    checks.forEach(([tensor, indices], k) => {
      const values = tensor.readFloats();
      for (const index of indices) {
        const original = values[index]!;
        values[index] = original + epsilon;
        tensor.write(values);
        const up = evaluate();
        values[index] = original - epsilon;
        tensor.write(values);
        const downLoss = evaluate();
        values[index] = original;
        tensor.write(values);
        const numeric = (up - downLoss) / (2 * epsilon);
        const exact = analytic[k]![index]!;
        expect(Math.abs(numeric - exact), `${tensor.name}[${index}]: ${numeric} vs ${exact}`).toBeLessThan(
          2e-2 * Math.max(1, Math.abs(exact)),
        );
      }
    });
    // Frozen weights get no gradient.
    expect(graph.gradient(model.weight("blk.0.attn_k.weight"))).toBeUndefined();
  });
});
