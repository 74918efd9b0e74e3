#!/usr/bin/env bash
# Score one model on a release as a Slurm array job: N tasks each score a share of the questions
# (`groundwork score --shard K/N`, K = the array index from 0), then one dependent job merges them.
# The merged results are byte-identical to one unsharded run.
#
#   RELEASE=release-1.0.0 ATTENTION=runs/lingshu-7b OUT=results/lingshu-7b N=8 tools/score-slurm.sh
#
# The model kit shards the same way (`groundwork-kit attention ... --shard K/N`); put both in one
# array job when the maps are made on the cluster too.
set -euo pipefail
: "${RELEASE:?release folder}" "${ATTENTION:?submission folder}" "${OUT:?results folder}"
N="${N:-8}"
SHARDS="${OUT}.shards"
mkdir -p "$SHARDS" logs
array=$(sbatch --parsable --array=0-$((N - 1)) --job-name=gw-score --output=logs/score-%A_%a.out \
    --cpus-per-task=2 --mem=4G --wrap \
    "groundwork score '$RELEASE' --attention '$ATTENTION' --out '$SHARDS'/\$SLURM_ARRAY_TASK_ID --shard \$SLURM_ARRAY_TASK_ID/$N --json >/dev/null")
sbatch --dependency=afterok:"$array" --job-name=gw-merge --output=logs/merge-%j.out --wrap \
    "groundwork score merge '$SHARDS'/* --out '$OUT'"
echo "submitted array job $array ($N shards) and its merge"
