#!/usr/bin/env bash
# A Slurm job array that scores one Parquet file in 4 shards, one array task per shard:
#   sbatch samples/BatchScoring/deploy/slurm-array.sh
# Slurm sets SLURM_ARRAY_TASK_ID (0..3 here) and SLURM_ARRAY_TASK_MIN; `--shards 4` reads them (an
# array may also start at 1: --array=1-4 works the same). Every task writes its part file into one
# folder on a shared file system: part-0000i-of-00004.parquet, listed in _manifest.json.
#
# Preemption and time limits: Slurm sends SIGTERM first (--signal below asks for it 120 s before the
# limit); the job stops between rows, keeps its committed parts and exits 143. A requeued task runs
# this script again, and `--resume` continues from the last committed part.
#SBATCH --job-name=trtmlnet-score
#SBATCH --array=0-3
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --time=04:00:00
#SBATCH --requeue
#SBATCH --signal=B:TERM@120
#SBATCH --output=trtmlnet-%A_%a.log
#SBATCH --open-mode=append

set -euo pipefail

# Where the tool is installed (dotnet tool install --tool-path, see README.md) and the shared data.
TOOLS=${TOOLS:-$HOME/.trtmlnet/tools}
DATA=${DATA:-/shared/scoring}

# exec: the job is the shell's process, so Slurm's SIGTERM reaches it directly.
exec "$TOOLS/trtmlnet" \
  --input "$DATA/input.parquet" \
  --model "$DATA/model.onnx" \
  --output "$DATA/scores/" \
  --shards 4 \
  --resume \
  --bad-rows skip
