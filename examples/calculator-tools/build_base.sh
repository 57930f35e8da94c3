#!/usr/bin/env bash
# Rebuilds the calculator-tools base model: a random "tiny" preset whose chat template is replaced by
# chat_template.jinja (a compact Hermes-style template: with byte-level tokens, the Qwen tools preamble
# alone would be ~600 tokens of every prompt), then a supervised warm start on sft.jsonl, where about a
# third of the answers go through the calculator — so the base model calls the tool only sometimes.
# Usage: examples/calculator-tools/build_base.sh [sft steps]
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-300}
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
rft model sft --model /tmp/calculator-tools-init --data examples/calculator-tools/sft.jsonl --steps "$steps" --schedule cosine --seed 1 \
  --dtype bfloat16 --out examples/calculator-tools/base
