/**
 * DeepSpeed ZeRO configs for the exported jobs, in the form the Hugging Face Trainer integration fills in:
 * "auto" takes batch size, accumulation, clipping and precision from the job's own arguments, so the YAML
 * stays the one place they are set. ZeRO-2 shards optimiser state and gradients (adapters and models that fit
 * one GPU's weights); ZeRO-3 also shards the weights (full fine-tuning of models larger than one GPU).
 */
const common = {
  train_batch_size: "auto",
  train_micro_batch_size_per_gpu: "auto",
  gradient_accumulation_steps: "auto",
  gradient_clipping: "auto",
  zero_allow_untested_optimizer: true,
  fp16: { enabled: "auto", loss_scale: 0, loss_scale_window: 1000, initial_scale_power: 16, hysteresis: 2, min_loss_scale: 1 },
  bf16: { enabled: "auto" },
};

export const DEEPSPEED_CONFIGS: Record<string, unknown> = {
  "ds_z2_config.json": {
    ...common,
    zero_optimization: {
      stage: 2,
      allgather_partitions: true,
      allgather_bucket_size: 5e8,
      overlap_comm: false,
      reduce_scatter: true,
      reduce_bucket_size: 5e8,
      contiguous_gradients: true,
      round_robin_gradients: true,
    },
  },
  "ds_z3_config.json": {
    ...common,
    zero_optimization: {
      stage: 3,
      overlap_comm: false,
      contiguous_gradients: true,
      sub_group_size: 1e9,
      reduce_bucket_size: "auto",
      stage3_prefetch_bucket_size: "auto",
      stage3_param_persistence_threshold: "auto",
      stage3_max_live_parameters: 1e9,
      stage3_max_reuse_distance: 1e9,
      // the saved model is whole (not shards of ZeRO partitions), so --import-runs can read it
      stage3_gather_16bit_weights_on_model_save: true,
    },
  },
};
