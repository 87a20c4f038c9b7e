/**
 * The names LLaMA-Factory accepts, in one place, so every key the export writes can be checked against them.
 * `llamafactory-cli train job.yaml` parses the YAML with HfArgumentParser into these dataclasses and (without
 * ALLOW_EXTRA_KEYS) refuses any other key, so a misspelt key would fail on the cluster, not here.
 *
 * Sources, read with the project's search tool (hiyouga/LLaMA-Factory at commit 00577a85775a2a78b14641ff8f68c58c6f46b027
 * for model/finetuning/training, 072bfe29d3b10447b0702196028af2f0fb87ad6b for data):
 * - src/llamafactory/hparams/model_args.py      BaseModelArguments (+ Quantization/Processor/Export arguments)
 * - src/llamafactory/hparams/data_args.py       DataArguments
 * - src/llamafactory/hparams/finetuning_args.py FinetuningArguments (+ Freeze, LoRA, RLHF arguments)
 * - src/llamafactory/hparams/training_args.py   TrainingArguments(RayArguments, transformers.Seq2SeqTrainingArguments)
 * - huggingface/transformers src/transformers/training_args.py at 00349ae87eddc872ffa21a8a54f264375a0056a8,
 *   TrainingArguments (the subset a job uses; that version has no warmup_ratio: warmup_steps takes a ratio below 1),
 *   and trainer_utils.py SchedulerType for lr_scheduler_type "cosine_with_min_lr" (kwarg min_lr_rate)
 * - src/llamafactory/data/parser.py (commit 01d3ac67e604447345b01dfb2bc318200a135d8e) DatasetAttr and
 *   get_dataset_list: the keys of a dataset_info.json entry, its `columns` and its `tags`
 * Only names seen in those files are listed; extend the list from the same files, never from memory.
 */

/** BaseModelArguments (model_args.py). */
const MODEL_ARGUMENTS = [
  "model_name_or_path",
  "adapter_name_or_path",
  "adapter_folder",
  "cache_dir",
  "use_fast_tokenizer",
  "resize_vocab",
  "split_special_tokens",
  "add_tokens",
  "add_special_tokens",
  "model_revision",
  "low_cpu_mem_usage",
  "rope_scaling",
  "flash_attn",
  "shift_attn",
  "use_unsloth",
  "use_unsloth_gc",
  "enable_liger_kernel",
  "disable_gradient_checkpointing",
  "use_reentrant_gc",
  "upcast_layernorm",
  "upcast_lmhead_output",
  "train_from_scratch",
  "infer_backend",
  "infer_dtype",
  "hf_hub_token",
  "print_param_status",
  "trust_remote_code",
  "quantization_method",
  "quantization_bit",
  "quantization_type",
  "double_quantization",
  "export_dir",
  "export_size",
] as const;

/** DataArguments (data_args.py). */
const DATA_ARGUMENTS = [
  "template",
  "dataset",
  "eval_dataset",
  "dataset_dir",
  "media_dir",
  "cutoff_len",
  "train_on_prompt",
  "mask_history",
  "streaming",
  "buffer_size",
  "mix_strategy",
  "interleave_probs",
  "overwrite_cache",
  "preprocessing_batch_size",
  "preprocessing_num_workers",
  "max_samples",
  "eval_num_beams",
  "ignore_pad_token_for_loss",
  "val_size",
  "eval_on_each_dataset",
  "packing",
  "neat_packing",
  "tool_format",
  "tokenized_path",
] as const;

/** FinetuningArguments and its Freeze/LoRA parents (finetuning_args.py). */
const FINETUNING_ARGUMENTS = [
  "stage",
  "finetuning_type",
  "pure_bf16",
  "freeze_trainable_layers",
  "freeze_trainable_modules",
  "freeze_extra_modules",
  "additional_target",
  "lora_alpha",
  "lora_dropout",
  "lora_rank",
  "lora_target",
  "loraplus_lr_ratio",
  "use_rslora",
  "use_dora",
  "pissa_init",
  "create_new_adapter",
  "disable_shuffling",
  "plot_loss",
  "include_effective_tokens_per_second",
] as const;

/** LLaMA-Factory's TrainingArguments (training_args.py) and the transformers TrainingArguments fields a job sets. */
const TRAINING_ARGUMENTS = [
  "overwrite_output_dir",
  "ray_run_name",
  "ray_num_workers",
  "output_dir",
  "do_train",
  "do_eval",
  "per_device_train_batch_size",
  "gradient_accumulation_steps",
  "learning_rate",
  "weight_decay",
  "adam_beta1",
  "adam_beta2",
  "adam_epsilon",
  "max_grad_norm",
  "num_train_epochs",
  "max_steps",
  "lr_scheduler_type",
  "lr_scheduler_kwargs",
  "warmup_steps",
  "logging_steps",
  "save_strategy",
  "save_steps",
  "save_total_limit",
  "seed",
  "data_seed",
  "bf16",
  "fp16",
  "tf32",
  "deepspeed",
  "gradient_checkpointing",
  "report_to",
  "run_name",
  "ddp_timeout",
  "resume_from_checkpoint",
] as const;

export const LLAMA_FACTORY_ARGUMENTS: ReadonlySet<string> = new Set([...MODEL_ARGUMENTS, ...DATA_ARGUMENTS, ...FINETUNING_ARGUMENTS, ...TRAINING_ARGUMENTS]);

/** FinetuningArguments.stage and finetuning_type values (finetuning_args.py Literal types). */
export const LLAMA_FACTORY_STAGES: ReadonlySet<string> = new Set(["pt", "sft", "rm", "ppo", "dpo", "kto"]);
export const LLAMA_FACTORY_FINETUNING_TYPES: ReadonlySet<string> = new Set(["lora", "oft", "freeze", "full"]);
/** DataArguments.mix_strategy values (data_args.py Literal type). */
export const LLAMA_FACTORY_MIX_STRATEGIES: ReadonlySet<string> = new Set(["concat", "interleave_under", "interleave_over"]);

/** Keys of one dataset_info.json entry and of its `columns` and `tags` (data/parser.py get_dataset_list). */
export const DATASET_INFO_KEYS: ReadonlySet<string> = new Set(["file_name", "hf_hub_url", "ms_hub_url", "script_url", "formatting", "ranking", "subset", "split", "folder", "num_samples", "columns", "tags"]);
export const DATASET_COLUMN_KEYS: ReadonlySet<string> = new Set(["system", "tools", "images", "chosen", "rejected", "kto_tag", "prompt", "query", "response", "history", "messages"]);
export const DATASET_TAG_KEYS: ReadonlySet<string> = new Set(["role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag"]);

/** Keys of a job (its sections flattened) that LLaMA-Factory does not accept, and values outside its Literal types. */
export function unacceptedJobKeys(job: Record<string, unknown>): string[] {
  const problems = Object.keys(job).filter((key) => !LLAMA_FACTORY_ARGUMENTS.has(key));
  const oneOf = (key: string, allowed: ReadonlySet<string>) => {
    if (job[key] !== undefined && !allowed.has(String(job[key]))) problems.push(`${key}: ${String(job[key])}`);
  };
  oneOf("stage", LLAMA_FACTORY_STAGES);
  oneOf("finetuning_type", LLAMA_FACTORY_FINETUNING_TYPES);
  oneOf("mix_strategy", LLAMA_FACTORY_MIX_STRATEGIES);
  return problems;
}
