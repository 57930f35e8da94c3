"""Worker for the `python` evaluator: loads one reward function and answers requests, one JSON line each.

The protocol runs on private copies of the original stdin/stdout taken before the user's file is
imported; fd 0 then reads /dev/null and fd 1 writes to stderr, so a print() in a reward (even one
from a C extension) lands in the host's log and can never corrupt a response.

    python3 -u rft_worker.py FILE FUNCTION MEMORY_MB [--check]

First line out: {"ready": true, "params": [...]} or {"load_error": {"file", "line", "message"}}
(then exit 2). --check stops after that line. Requests:
    {"id": 1, "completion": "...", "ground_truth": ..., "row": {...}}            pointwise
    {"id": 2, "completions": [...], "ground_truth": ..., "row": {...}}          groupwise
An agent rollout adds "trajectory": [messages] (pointwise) or "trajectories": [[messages] | null, ...]
(groupwise): what the agent added after the prompt, OpenAI format. `messages` is then the row's prompt
followed by the trajectory (tool calls and tool results included) instead of one assistant message.
Answers: {"id": 1, "result": {...}} / {"id": 2, "results": [...]} or {"id": n, "error": "reason"}.
Standard library only: the silo installs nothing at run time.
"""
import dataclasses
import importlib.util
import inspect
import json
import math
import os
import sys
import traceback

KNOWN = ("messages", "completion", "ground_truth", "tools", "row", "metadata")
KNOWN_GROUP = ("messages_list", "completions", "ground_truth", "tools", "row", "metadata")


def take_protocol_pipes():
    """Keeps the real stdin/stdout for the protocol and points fds 0/1 away from it."""
    proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
    proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, "r")
    sys.stdout = sys.stderr
    return proto_in, proto_out


def limit_memory(megabytes):
    if megabytes <= 0:
        return
    import resource
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def load(path, name, groupwise):
    """The function and the keyword arguments it takes; raises LoadError naming file and line."""
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)
    try:
        spec = importlib.util.spec_from_file_location("rft_user_reward", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise LoadError(e.filename or path, e.lineno or 0, f"SyntaxError: {e.msg}")
    except BaseException as e:  # an import error, or anything the module runs at import time
        raise LoadError(path, user_line(e, path), f"{type(e).__name__}: {e}")
    fn = getattr(module, name, None)
    if fn is None or not callable(fn):
        defined = sorted(k for k, v in vars(module).items() if inspect.isfunction(v) and not k.startswith("_"))
        raise LoadError(path, 0, f"no function '{name}' (functions defined: {', '.join(defined) or 'none'}); set evaluator.function")
    params = inspect.signature(fn).parameters
    known = KNOWN_GROUP if groupwise else KNOWN
    takes_all = any(p.kind == p.VAR_KEYWORD for p in params.values())
    for p in params.values():
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or p.name in known or p.default is not p.empty:
            continue
        line = getattr(getattr(fn, "__code__", None), "co_firstlineno", 0)
        raise LoadError(path, line, f"{name}() requires '{p.name}', which the evaluator does not pass; it passes {', '.join(known)} (and **kwargs)")
    wanted = list(known) if takes_all else [k for k in known if k in params]
    return fn, wanted


class LoadError(Exception):
    def __init__(self, file, line, message):
        super().__init__(message)
        self.file, self.line, self.message = file, line, message


def user_line(error, path):
    """The line of the user's file where an import-time error happened (the deepest frame in it)."""
    line = 0
    for frame in traceback.extract_tb(error.__traceback__):
        if os.path.abspath(frame.filename) == os.path.abspath(path):
            line = frame.lineno
    return line


def arguments(request, wanted, groupwise):
    row = request.get("row") or {}
    prompt = list(row.get("messages") or [])
    values = {
        "ground_truth": request.get("ground_truth"),
        "tools": row.get("tools"),
        "row": row,
        "metadata": row.get("input_metadata", row.get("metadata")),
    }
    if groupwise:
        values["completions"] = request["completions"]
        trajectories = request.get("trajectories") or [None] * len(request["completions"])
        values["messages_list"] = [conversation(prompt, c, t) for c, t in zip(request["completions"], trajectories)]
    else:
        values["completion"] = request["completion"]
        values["messages"] = conversation(prompt, request["completion"], request.get("trajectory"))
    return {k: values[k] for k in wanted}


def conversation(prompt, completion, trajectory):
    """The prompt and what the rollout added: an agent's trajectory, or one assistant message."""
    if trajectory is not None:
        return prompt + list(trajectory)
    return prompt + [{"role": "assistant", "content": completion}]


def as_result(value):
    """A reward's return value in the EvaluateResult shape, or a dict with 'invalid' saying why not."""
    if isinstance(value, bool):
        return {"score": 1.0 if value else 0.0, "is_score_valid": True, "reason": ""}
    if isinstance(value, (int, float)):
        return checked({"score": float(value), "is_score_valid": True, "reason": ""})
    if not isinstance(value, dict):
        fields = as_dict(value)
        if fields is None:
            return {"invalid": f"returned {describe(value)}; return a number, a bool or an EvaluateResult (score, is_score_valid, reason, metrics)"}
        value = fields
    score = value.get("score")
    if isinstance(score, bool):
        score = 1.0 if score else 0.0
    if not isinstance(score, (int, float)):
        return {"invalid": f"'score' is {describe(score)}; it must be a number in [0, 1]"}
    metrics = {}
    for name, m in (value.get("metrics") or {}).items():
        m = m if isinstance(m, dict) else as_dict(m) if not isinstance(m, (int, float)) else {"score": m}
        ms = (m or {}).get("score")
        ok = isinstance(ms, (int, float)) and math.isfinite(ms)
        metrics[str(name)] = {"score": float(ms) if ok else 0.0, "is_score_valid": ok and bool(m.get("is_score_valid", True)),
                              "reason": str(m.get("reason") or "") if ok else f"metric score is {describe(ms)}"}
    return checked({"score": float(score), "is_score_valid": bool(value.get("is_score_valid", True)),
                    "reason": str(value.get("reason") or ""), "metrics": metrics})


def as_dict(obj):
    """An object with EvaluateResult's attributes (a dataclass, a pydantic model, anything with .score)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    for dump in ("model_dump", "dict"):
        if callable(getattr(obj, dump, None)) and hasattr(obj, "score"):
            try:
                return dict(getattr(obj, dump)())
            except Exception:
                break
    if hasattr(obj, "score"):
        return {k: getattr(obj, k) for k in ("score", "is_score_valid", "reason", "metrics") if hasattr(obj, k)}
    return None


def checked(result):
    score = result["score"]
    if not math.isfinite(score):
        return {"invalid": f"score is {score}; return a finite number in [0, 1]"}
    if result["is_score_valid"] and not 0 <= score <= 1:
        return {"invalid": f"score {score} is outside [0, 1]; scale the reward into [0, 1] (it is never clipped)"}
    return result


def describe(value):
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}"


def main():
    path, name, megabytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    groupwise = "--groupwise" in sys.argv
    proto_in, proto_out = take_protocol_pipes()

    def send(obj):
        proto_out.write(json.dumps(obj, allow_nan=False) + "\n")
        proto_out.flush()

    limit_memory(megabytes)
    try:
        fn, wanted = load(path, name, groupwise)
    except LoadError as e:
        send({"load_error": {"file": os.path.basename(e.file), "line": e.line, "message": e.message}})
        sys.exit(2)
    send({"ready": True, "params": wanted})
    if "--check" in sys.argv:
        return
    for line in proto_in:
        request = json.loads(line)
        try:
            value = fn(**arguments(request, wanted, groupwise))
            if groupwise:
                values = list(value) if isinstance(value, (list, tuple)) else None
                if values is None or len(values) != len(request["completions"]):
                    answer = {"error": f"a groupwise reward must return a list of {len(request['completions'])} results, one per completion; it returned {describe(value)}"}
                else:
                    answer = {"results": [as_result(v) for v in values]}
            else:
                answer = {"result": as_result(value)}
        except MemoryError:
            answer = {"error": f"MemoryError: the reward went over evaluator.memory_mb ({megabytes} MB)"}
        except BaseException as e:  # the reward's own failure is one invalid sample, never the worker's end
            last = traceback.format_exception_only(type(e), e)[-1].strip()
            answer = {"error": last}
        answer["id"] = request.get("id")
        send(answer)


if __name__ == "__main__":
    main()
