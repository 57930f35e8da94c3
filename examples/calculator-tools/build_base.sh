#!/usr/bin/env bash
# Rebuilds the calculator-tools base model: a random "tiny" preset whose chat template is replaced by
# chat_template.jinja (a compact Hermes-style template: with byte-level tokens, the Qwen tools preamble
# alone would be ~600 tokens of every prompt), then a supervised warm start on sft.jsonl, where about a
# third of the answers go through the calculator — so the base model calls the tool only sometimes.
# Usage: examples/calculator-tools/build_base.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
rft() { dotnet run --project client -c Release --no-build -- "$@"; }
dotnet build client -c Release >/dev/null
python3 examples/calculator-tools/make_data.py examples/calculator-tools
rft model init --preset tiny --seed 1 --out /tmp/calculator-tools-init
python3 - /tmp/calculator-tools-init <<'PY'
import json, sys
path = f"{sys.argv[1]}/tokenizer_config.json"
config = json.load(open(path))
config["chat_template"] = open("examples/calculator-tools/chat_template.jinja").read()
json.dump(config, open(path, "w"), indent=2)
PY
# Stage 1 (cosine) teaches the formats; stages 2 and 3 (constant rate) carry the model through the jump
# where it learns to copy — the expression into its call, the tool's result into its answer (measured
# after stage 1: 0 % exact copies; after stage 2: ~50 %).
rft model sft --model /tmp/calculator-tools-init --data examples/calculator-tools/sft.jsonl --steps 300 --schedule cosine --seed 1 \
  --dtype bfloat16 --out /tmp/calculator-tools-sft1
rft model sft --model /tmp/calculator-tools-sft1 --data examples/calculator-tools/sft.jsonl --steps 350 --schedule constant --warmup-steps 10 --seed 2 \
  --dtype bfloat16 --out /tmp/calculator-tools-sft2
rft model sft --model /tmp/calculator-tools-sft2 --data examples/calculator-tools/sft.jsonl --steps 350 --schedule constant --warmup-steps 10 --seed 3 \
  --dtype bfloat16 --out examples/calculator-tools/base
