/** Training: the public API (docs/training.md). */
export { train, resumeTraining, type TrainOptions, type TrainHooks, type TrainProgress, type TrainStartInfo, type RunResult } from "./train.js";
export { exportRun, EXPORT_FORMATS, type ExportFormat, type ExportOptions, type ExportResult } from "./exportRun.js";
export { loadRunConfig, parseRunConfig, rawConfigFromFlags, runConfigSchema, type RunConfig, type RunConfigInput, type DataSource } from "./config.js";
export { readMetrics, readLatestCheckpoint, readCheckpoint, type Metric, type TrainMetric, type ValidationMetric, type Checkpoint } from "./runDirectory.js";
