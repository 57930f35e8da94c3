#!/usr/bin/env bash
# Rebuilds an example's base model exactly as committed: a random "tiny" preset, then a short
# supervised warm start on the example's sft.jsonl, stopped while the held-out reward is still low
# so reinforcement learning has room. Usage: examples/build_base.sh arithmetic|json-extract
set -euo pipefail
cd "$(dirname "$0")/.."
task=$1
case $task in
  arithmetic)   steps=200 ;;
  json-extract) steps=175 ;;
  *) echo "unknown task $task" >&2; exit 2 ;;
esac
rft() { dotnet run --project client -c Release --no-build -- "$@"; }
dotnet build client -c Release >/dev/null
python3 examples/make_data.py "$task" "examples/$task"
rft model init --preset tiny --seed 1 --out "/tmp/$task-init"
rft model sft --model "/tmp/$task-init" --data "examples/$task/sft.jsonl" --steps "$steps" --seed 1 \
  --dtype bfloat16 --out "examples/$task/base"
