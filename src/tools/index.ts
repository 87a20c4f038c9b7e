export type { Tool } from "./tool.js";
export { runToolLoop, type ToolLoopOptions, type ToolLoopResult, type ToolCallRecord } from "./runToolLoop.js";
export { compileArgumentsValidator } from "./validateToolArguments.js";
export { createSearchDocsTool, type SearchDocsToolOptions } from "./searchDocsTool.js";
export { createSqlQueryTool, describeTables, type SqlQueryToolOptions } from "./sqlQueryTool.js";
export { runReadOnlyQuery, type ReadOnlyQuery, type QueryRows } from "./runReadOnlyQuery.js";
export { createCalculatorTool, evaluateArithmetic } from "./calculatorTool.js";
export { buildTools, parseToolsConfig, readToolsConfig, toolsConfigSchema, type ToolsConfig } from "./toolsConfig.js";
