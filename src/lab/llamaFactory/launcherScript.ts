/**
 * train.sh of an export: every stage's job in dependency order through `llamafactory-cli train`, which starts
 * torchrun itself when several GPUs or nodes are named (NPROC_PER_NODE, NNODES, NODE_RANK, MASTER_ADDR,
 * MASTER_PORT, FORCE_TORCHRUN), with a DeepSpeed ZeRO config passed as a command-line override of the YAML.
 */
export interface LauncherInput {
  labName: string;
  labFolder: string;
  stages: readonly string[];
  /** Local model folders the jobs start from (checked before the first job runs). */
  localModels: readonly string[];
}

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

export function launcherScript(input: LauncherInput): string {
  const modelChecks = input.localModels.map((model) => `require_model ${quote(model)}`);
  return `#!/usr/bin/env bash
# LLaMA-Factory jobs for the lab "${input.labName}", written by vertical lab --export llamafactory.
# Runs the stages in dependency order (a stage after the one it starts from); name stages to run only those:
#   ./train.sh                  every stage
#   ./train.sh sft cpt-sft      these (cpt-sft reads saves/cpt-general, so run cpt-general first)
# Environment:
#   ZERO=2|3|0   DeepSpeed ZeRO stage (default 2; 3 also shards the weights, for full fine-tuning of large models; 0 = none)
#   NPROC_PER_NODE, NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT   several GPUs or nodes (llamafactory-cli starts torchrun)
# Then bring the results back into the lab's evaluation and report:
#   vertical lab ${quote(input.labFolder)} --import-runs "$(pwd)"
set -euo pipefail
cd "$(dirname "$0")"
ZERO="\${ZERO:-2}"
STAGES=(${input.stages.join(" ")})
if [ "$#" -gt 0 ]; then STAGES=("$@"); fi

require_model() {
  if [ ! -e "$1/config.json" ]; then
    echo "train.sh: $1 is not a Hugging Face model folder (no config.json)." >&2
    echo "  Put the lab's model there in transformers form (the checkpoint its GGUF came from), or rerun the export with --hf-base/--hf-chat naming one." >&2
    exit 2
  fi
}
${modelChecks.join("\n")}

for stage in "\${STAGES[@]}"; do
  if [ ! -f "$stage.yaml" ]; then echo "train.sh: no job $stage.yaml (stages: ${input.stages.join(" ")})" >&2; exit 2; fi
  overrides=()
  if [ "$ZERO" != 0 ]; then
    overrides+=("deepspeed=deepspeed/ds_z\${ZERO}_config.json")
    export FORCE_TORCHRUN=1
  fi
  echo "== $stage" >&2
  llamafactory-cli train "$stage.yaml" \${overrides[@]+"\${overrides[@]}"}
done
`;
}
