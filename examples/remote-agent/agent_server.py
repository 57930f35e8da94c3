#!/usr/bin/env python3
"""An agent server that follows Eval Protocol's remote rollout protocol, in the Python standard library.

    python3 examples/remote-agent/agent_server.py --port 8765

The cluster (or Eval Protocol's RemoteRolloutProcessor) sends POST /init with the rollout: messages,
completion_params (model, temperature, ...), model_base_url (an OpenAI base URL) and api_key. The server
answers at once and runs the agent in a thread:

  1. asks the model (model_base_url/chat/completions, Bearer api_key) for an answer;
  2. runs its own tool, a calculator, on the question; when it disagrees, tells the model whether its
     answer was too high or too low (never the number itself) and asks once more for the final answer.

It scores the final answer with the calculator and reports that score: GET /status?rollout_id=... answers
{terminated, info: {score, reason}, status: {code, message, details}} (AIP-193; 101 running, 100 finished,
13 internal error). With --push it also pushes that status to the silo's /rollouts/{id}/status, as an
agent that cannot be polled would.
"""
import argparse
import json
import re
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEEP_SECONDS = 600  # a finished rollout's status is kept this long for polling, then dropped
CALL_TIMEOUT = 120  # one model call; the cluster's deadline (timeout_seconds) bounds the rollout anyway

rollouts = {}  # rollout_id -> {"status": dict, "ended": float | None}
lock = threading.Lock()
PUSH = False


def calculator(question):
    """The agent's own tool: the value of the first 'a + b', 'a - b' or 'a * b' in the question, or None."""
    m = re.search(r"(-?\d+)\s*([+\-*])\s*(-?\d+)", question)
    if not m:
        return None
    a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
    return a + b if op == "+" else a - b if op == "-" else a * b


def number(text):
    m = re.search(r"-?\d+", text or "")
    return int(m.group(0)) if m else None


def chat(init, messages):
    """One model call through the rollout's OpenAI base URL, with the job's sampling settings."""
    params = dict(init.get("completion_params") or {})
    body = {"model": params.pop("model", init.get("model")), "messages": messages}
    for key in ("temperature", "top_p", "max_tokens", "stop"):
        if key in params:
            body[key] = params[key]
    request = urllib.request.Request(init["model_base_url"].rstrip("/") + "/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer " + init["api_key"]})
    with urllib.request.urlopen(request, timeout=CALL_TIMEOUT) as response:
        return json.loads(response.read())["choices"][0]["message"].get("content") or ""


def run(init):
    rid = init["metadata"]["rollout_id"]
    try:
        messages = list(init["messages"])
        question = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
        expected = calculator(question)
        final = first = chat(init, messages)
        guess = number(first)
        if expected is None:
            verdict = "the calculator could not read the question"
        elif guess is None:
            verdict = "your answer is not a number"
        elif guess == expected:
            verdict = "right" if first.strip() == str(expected) else "right, but answer with the number alone"
        else:
            verdict = "too high" if guess > expected else "too low"
        if verdict != "right":  # the tool disagrees: one more turn, which trains as the same sequence as the first
            messages += [{"role": "assistant", "content": first},
                         {"role": "user", "content": f"Calculator check: {verdict}. What is the answer?"}]
            final = chat(init, messages)
        score = 1.0 if expected is not None and final.strip() == str(expected) else 0.0
        status = {"code": 100, "message": "Rollout finished", "details": []}
        info = {"score": score, "reason": f"final answer {final.strip()!r}, calculator {expected}; first answer {verdict}"}
    except Exception as e:  # the cluster records the rollout as failed with this message, and the job goes on
        status, info = {"code": 13, "message": f"the agent failed: {e}", "details": []}, None
    body = {"terminated": True, "info": info, "status": status}
    with lock:
        rollouts[rid] = {"status": body, "ended": time.time()}
    if PUSH:
        push = urllib.request.Request(init["model_base_url"].rstrip("/").rsplit("/v1", 1)[0] + "/status", data=json.dumps(body).encode(),
                                      headers={"Content-Type": "application/json", "Authorization": "Bearer " + init["api_key"]})
        try:
            urllib.request.urlopen(push, timeout=30).close()
        except (urllib.error.URLError, OSError):
            pass  # polling still reports it


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        if self.path != "/init":
            return self.reply(404, {"error": f"no route POST {self.path}"})
        try:
            init = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            rid = init["metadata"]["rollout_id"]
            init["model_base_url"], init["api_key"], init["messages"]
        except (ValueError, KeyError, TypeError) as e:
            return self.reply(400, {"error": f"not an Eval Protocol /init body: {e}"})  # 4xx: the cluster does not retry
        with lock:
            now = time.time()
            for old in [k for k, v in rollouts.items() if v["ended"] and now - v["ended"] > KEEP_SECONDS]:
                del rollouts[old]
            rollouts[rid] = {"status": {"terminated": False, "status": {"code": 101, "message": "Rollout is running", "details": []}}, "ended": None}
        self.reply(200, {"rollout_id": rid})
        threading.Thread(target=run, args=(init,), daemon=True).start()

    def do_GET(self):
        if not self.path.startswith("/status"):
            return self.reply(404, {"error": f"no route GET {self.path}"})
        rid = self.path.partition("rollout_id=")[2].split("&")[0]
        with lock:
            state = rollouts.get(urllib.request.unquote(rid))
        if state is None:
            return self.reply(404, {"error": f"unknown rollout {rid!r}"})
        self.reply(200, state["status"])


def main():
    global PUSH
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--push", action="store_true", help="also push each final status to the silo")
    args = parser.parse_args()
    PUSH = args.push
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"agent server listening on http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
