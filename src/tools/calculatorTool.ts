/**
 * `calculator`: arithmetic a small model gets wrong (fee × tonnage, percentages). The expression is
 * parsed by jsep into a syntax tree and evaluated here over a closed set of operators, constants and
 * Math functions — no eval, no property access, no calls outside the list.
 */
import jsep from "jsep";
import { ToolRefusedError } from "../shared/errors.js";
import type { Tool } from "./tool.js";

const BINARY: Record<string, (a: number, b: number) => number> = {
  "+": (a, b) => a + b,
  "-": (a, b) => a - b,
  "*": (a, b) => a * b,
  "/": (a, b) => a / b,
  "%": (a, b) => a % b,
  "**": (a, b) => a ** b,
};
const UNARY: Record<string, (a: number) => number> = { "-": (a) => -a, "+": (a) => a };
const FUNCTIONS: Record<string, (...values: number[]) => number> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  round: Math.round,
  sqrt: Math.sqrt,
  min: Math.min,
  max: Math.max,
  log: Math.log,
  exp: Math.exp,
};
const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };

// jsep knows no "**" by default; precedence above * and /, as in JavaScript.
jsep.addBinaryOp("**", 11, true);

function refuse(message: string): never {
  throw new ToolRefusedError(message, {
    where: "tool calculator",
    hint: `Use numbers, + - * / % ** and parentheses, ${Object.keys(CONSTANTS).join(", ")}, and ${Object.keys(FUNCTIONS).join(", ")}().`,
  });
}

function evaluateNode(node: jsep.Expression): number {
  switch (node.type) {
    case "Literal":
      if (typeof node.value !== "number") return refuse(`${String(node.raw)} is not a number`);
      return node.value;
    case "Identifier": {
      const name = (node as jsep.Identifier).name;
      const value = CONSTANTS[name.toLowerCase()];
      return value ?? refuse(`unknown name "${name}"`);
    }
    case "UnaryExpression": {
      const unary = node as jsep.UnaryExpression;
      const apply = UNARY[unary.operator];
      return apply ? apply(evaluateNode(unary.argument)) : refuse(`operator ${unary.operator} is not allowed`);
    }
    case "BinaryExpression": {
      const binary = node as jsep.BinaryExpression;
      const apply = BINARY[binary.operator];
      return apply
        ? apply(evaluateNode(binary.left), evaluateNode(binary.right))
        : refuse(`operator ${binary.operator} is not allowed`);
    }
    case "CallExpression": {
      const call = node as jsep.CallExpression;
      const name = call.callee.type === "Identifier" ? (call.callee as jsep.Identifier).name.toLowerCase() : "";
      const apply = FUNCTIONS[name];
      if (!apply) return refuse(`function ${name || "call"} is not allowed`);
      return apply(...call.arguments.map(evaluateNode));
    }
    default:
      return refuse(`${node.type} is not arithmetic`);
  }
}

/** The value of an arithmetic expression; ToolRefusedError for anything else. */
export function evaluateArithmetic(expression: string): number {
  let tree: jsep.Expression;
  try {
    // Thousands separators ("12,500") are common in documents; jsep would read them as a sequence.
    tree = jsep(expression.replace(/(\d),(?=\d{3}\b)/g, "$1"));
  } catch (error) {
    return refuse(`cannot parse "${expression}": ${(error as Error).message}`);
  }
  const value = evaluateNode(tree);
  if (!Number.isFinite(value)) return refuse(`"${expression}" has no finite value`);
  return value;
}

/** The name the model calls the tool by. */
export const CALCULATOR_TOOL = "calculator";

export function createCalculatorTool(): Tool {
  return {
    definition: {
      name: CALCULATOR_TOOL,
      description: "Evaluate an arithmetic expression, e.g. (12.5 * 3200) / 100 or max(3, 7) * 2.",
      parameters: {
        type: "object",
        properties: { expression: { type: "string", minLength: 1 } },
        required: ["expression"],
        additionalProperties: false,
      },
    },
    async run(args) {
      // Rounded to 12 significant digits so 0.1 + 0.2 reads 0.3.
      return String(Number(evaluateArithmetic(args.expression as string).toPrecision(12)));
    },
  };
}
