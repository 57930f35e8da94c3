"""Helpers for reward functions run by the `python` evaluator (importable as `rft_reward`).

Rewards written in Fireworks' reward-kit style run with one changed import:

    from rft_reward import EvaluateResult, MetricResult, reward_function

    @reward_function
    def evaluate(messages, ground_truth=None, **kwargs) -> EvaluateResult:
        answer = messages[-1]["content"]
        ok = answer.strip() == str(ground_truth)
        return EvaluateResult(score=float(ok), reason="exact" if ok else "differs",
                              metrics={"exact": MetricResult(score=float(ok), reason="")})

Plain dataclasses: the evaluator reads their fields, so returning a dict of the same shape works too.
"""
from dataclasses import dataclass, field
from typing import Dict, Optional

__all__ = ["EvaluateResult", "MetricResult", "reward_function"]


@dataclass
class MetricResult:
    """One named sub-score."""
    score: float
    is_score_valid: bool = True
    reason: str = ""


@dataclass
class EvaluateResult:
    """A reward in [0, 1]; is_score_valid=False drops the sample from its group's advantages."""
    score: float
    reason: Optional[str] = ""
    is_score_valid: bool = True
    metrics: Dict[str, MetricResult] = field(default_factory=dict)


def reward_function(fn=None, **options):
    """Marks a reward function; usable bare (@reward_function) or with options (@reward_function(mode=...)).

    The evaluator calls the function directly with the keyword arguments it declares, so the
    decorator changes nothing about the call; it exists so that reward-kit code imports cleanly.
    """
    def mark(f):
        f.__rft_reward_function__ = dict(options)
        return f
    return mark(fn) if callable(fn) else mark
