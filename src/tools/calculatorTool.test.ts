import { describe, expect, it } from "vitest";
import { createCalculatorTool, evaluateArithmetic } from "./calculatorTool.js";

describe("calculator", () => {
  it("evaluates arithmetic with precedence, powers, functions and constants", () => {
    expect(evaluateArithmetic("2 + 3 * 4")).toBe(14);
    expect(evaluateArithmetic("2 ** 3 ** 2")).toBe(512);
    expect(evaluateArithmetic("-(1800 * 3) / 100 + max(2, 5)")).toBe(-49);
    expect(evaluateArithmetic("round(pi * 100)")).toBe(314);
    expect(evaluateArithmetic("12,500 * 2")).toBe(25000);
  });

  it("rounds binary noise away in the text it returns", async () => {
    expect(await createCalculatorTool().run({ expression: "0.1 + 0.2" })).toBe("0.3");
  });

  it("refuses anything that is not arithmetic, without evaluating it", () => {
    expect(() => evaluateArithmetic("process.exit(1)")).toThrow(/MemberExpression is not arithmetic|not allowed/);
    expect(() => evaluateArithmetic("require('fs')")).toThrow(/function require is not allowed/);
    expect(() => evaluateArithmetic("x + 1")).toThrow(/unknown name "x"/);
    expect(() => evaluateArithmetic("'a' + 1")).toThrow(/is not a number/);
    expect(() => evaluateArithmetic("1 / 0")).toThrow(/no finite value/);
    expect(() => evaluateArithmetic("2 +")).toThrow(/cannot parse/);
  });
});
