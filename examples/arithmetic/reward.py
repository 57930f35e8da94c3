"""Reward for the arithmetic example: 1 when the completion is exactly the number, else 0.

The same rule as the `numeric` built-in evaluator with tolerance 0 (a completion that does not
parse as a number scores 0 with the reason saying so).
"""


def evaluate(completion: str, ground_truth) -> dict:
    text = completion.strip()
    try:
        value = float(text)
    except ValueError:
        return {"score": 0.0, "is_score_valid": True, "reason": f"not a number: {text[:40]!r}"}
    ok = value == float(ground_truth)
    return {"score": 1.0 if ok else 0.0, "is_score_valid": True, "reason": "correct" if ok else f"{text} != {ground_truth}"}
