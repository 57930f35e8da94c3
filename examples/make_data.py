#!/usr/bin/env python3
"""Writes the example datasets (DESIGN §4 JSONL) deterministically from a seed.

    python3 examples/make_data.py arithmetic examples/arithmetic
    python3 examples/make_data.py json-extract examples/json-extract

Each task gets sft.jsonl (rows ending with the assistant's answer, for the warm start),
train.jsonl (prompts + ground_truth for reinforcement learning) and test.jsonl (held out).
The three splits are disjoint in their prompts.
"""
import json
import random
import sys

NAMES = ["Maria", "Ahmed", "Yuki", "Lena", "Omar", "Priya", "Lucas", "Sofia", "Chen", "Amara",
         "Jonas", "Elena", "Ravi", "Noah", "Fatima", "Mateo", "Ingrid", "Kwame", "Hana", "Diego",
         "Zara", "Felix", "Aiko", "Tomas", "Leila", "Oscar", "Nadia", "Ivan", "Grace", "Hugo"]
CITIES = ["Lisbon", "Cairo", "Osaka", "Berlin", "Lima", "Delhi", "Oslo", "Quito", "Seoul", "Accra",
          "Dublin", "Athens", "Madrid", "Nairobi", "Hanoi", "Bogota", "Vienna", "Prague", "Perth", "Tunis"]
SENTENCES = [
    "{name} is {age} and lives in {city}.",
    "{name}, {age}, lives in {city}.",
    "{city} is home to {name}, who is {age}.",
    "At {age}, {name} moved to {city}.",
    "{name} ({age}) is from {city}.",
    "Meet {name} from {city}, aged {age}.",
]


def arithmetic(rng):
    # a two-digit number plus a digit: the units table and the carry into the tens
    a, b = rng.randint(10, 99), rng.randint(1, 9)
    answer = a + b
    prompt = f"What is {a} + {b}?"
    return prompt, str(answer), str(answer)


def json_extract(rng):
    name, city, age = rng.choice(NAMES), rng.choice(CITIES), rng.randint(18, 90)
    sentence = rng.choice(SENTENCES).format(name=name, age=age, city=city)
    prompt = f"Extract name, age and city as JSON: {sentence}"
    truth = {"name": name, "age": age, "city": city}
    return prompt, json.dumps(truth), truth


TASKS = {"arithmetic": arithmetic, "json-extract": json_extract}
SIZES = {"sft": 300, "train": 310, "test": 200}  # arithmetic has 810 distinct prompts


def main():
    task, out = sys.argv[1], sys.argv[2]
    make = TASKS[task]
    rng = random.Random(20261125)
    seen = set()
    for split, size in SIZES.items():
        rows = []
        while len(rows) < size:
            prompt, answer, truth = make(rng)
            if prompt in seen:
                continue
            seen.add(prompt)
            messages = [{"role": "user", "content": prompt}]
            if split == "sft":
                messages.append({"role": "assistant", "content": answer})
            rows.append({"messages": messages, "ground_truth": truth})
        with open(f"{out}/{split}.jsonl", "w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
