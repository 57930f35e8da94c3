"""Reward for the json-extract example.

0 unless the completion is a JSON object with exactly the fields name (string), age (integer) and
city (string), which is what the schema in job.yaml requires; otherwise the share of the three
fields equal to the ground truth (the `json_schema` built-in evaluator's field match).
"""
import json


def evaluate(completion: str, ground_truth) -> dict:
    try:
        value = json.loads(completion)
    except ValueError as e:
        return {"score": 0.0, "is_score_valid": True, "reason": f"invalid JSON: {e}"}
    if not isinstance(value, dict) or set(value) != {"name", "age", "city"}:
        return {"score": 0.0, "is_score_valid": True, "reason": "schema: want exactly name, age, city"}
    if not isinstance(value["name"], str) or not isinstance(value["city"], str) \
            or not isinstance(value["age"], int) or isinstance(value["age"], bool):
        return {"score": 0.0, "is_score_valid": True, "reason": "schema: wrong field types"}
    matched = [k for k in ("name", "age", "city") if value[k] == ground_truth[k]]
    return {"score": len(matched) / 3, "is_score_valid": True, "reason": f"matched {','.join(matched) or 'nothing'}"}
