#!/usr/bin/env python3
"""Writes the calculator-tools datasets deterministically (the dataset JSONL of the README's job spec):

    python3 examples/calculator-tools/make_data.py examples/calculator-tools

Questions are large-operand arithmetic ("What is 4821 + 7390?", "What is 382 * 47?") that a model
of ~1.6M parameters cannot compute, but can answer by copying the expression into a `calculate`
call and the tool's result into its answer.

- sft.jsonl: the warm start. About a third of the rows show the tool path (a <tool_call>, the tool's
  result, the answer), the rest answer directly with the right number — which the tiny model cannot
  learn, so after the warm start it calls the tool only sometimes and mostly guesses.
- train.jsonl / test.jsonl: prompts + ground_truth for RL and the held-out evaluation; disjoint.
Every row's prompt is rendered with the tools section the agent offers (the server's tool definition).
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from calculator_server import TOOL  # noqa: E402

SIZES = {"sft": 480, "train": 400, "test": 100}
TOOL_SHARE = 0.35
# The function as the tools agent offers it (OpenAI format, from the server's tools/list).
FUNCTION = {"type": "function", "function": {"name": TOOL["name"], "description": TOOL["description"], "parameters": TOOL["inputSchema"]}}


def question(rng):
    if rng.random() < 0.5:
        a, b = rng.randint(1000, 9999), rng.randint(1000, 9999)
        return f"{a} + {b}", a + b
    a, b = rng.randint(100, 999), rng.randint(11, 99)
    return f"{a} * {b}", a * b


def main():
    out = sys.argv[1]
    rng = random.Random(20261126)
    seen = set()
    for split, size in SIZES.items():
        rows = []
        while len(rows) < size:
            expression, answer = question(rng)
            if expression in seen:
                continue
            seen.add(expression)
            messages = [{"role": "user", "content": f"What is {expression}?"}]
            row = {"messages": messages, "ground_truth": str(answer)}
            if split == "sft":
                row["tools"] = [FUNCTION]
                if rng.random() < TOOL_SHARE:
                    call_id = f"call_{len(rows)}"
                    messages += [
                        {"role": "assistant", "content": None, "tool_calls": [{"id": call_id, "type": "function",
                                                                                "function": {"name": TOOL["name"], "arguments": {"expression": expression}}}]},
                        {"role": "tool", "tool_call_id": call_id, "content": str(answer)},
                    ]
                messages.append({"role": "assistant", "content": str(answer)})
            rows.append(row)
        with open(os.path.join(out, f"{split}.jsonl"), "w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
