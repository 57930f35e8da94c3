#!/usr/bin/env python3
"""Mean reward of generations written by `rft model generate --data … --json`-less JSONL output.

    python3 examples/score.py examples/arithmetic generations.jsonl
"""
import importlib.util
import json
import sys


def main():
    task_dir, generations = sys.argv[1], sys.argv[2]
    spec = importlib.util.spec_from_file_location("reward", f"{task_dir}/reward.py")
    reward = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reward)
    scores = []
    with open(generations) as f:
        for line in f:
            row = json.loads(line)
            scores.append(reward.evaluate(row["completion"], row["ground_truth"])["score"])
    mean = sum(scores) / len(scores)
    print(json.dumps({"rows": len(scores), "reward_mean": round(mean, 4)}))


if __name__ == "__main__":
    main()
