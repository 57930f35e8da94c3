"""A remote agent server for the tests: Eval Protocol's remote rollout protocol, Python standard library only.

Each rollout's behaviour (its mode) is the word after "mode:" in its last user message, else the
AGENT_MODE environment variable (default "normal"):

  normal        calls model_base_url/chat/completions twice with its token (the second call continues the
                first: its answer, then a tool result), then GET /status says terminated (code 100, info.score)
  rerender      two calls, the second with the first user message rewritten (a re-rendered prefix)
  push_status   two calls, then POSTs its final status to the silo's /rollouts/{id}/status (its /status says running)
  push_logs     two calls, then POSTs a structured log line with the status to the silo's /logs, as Eval
                Protocol's tracing log handler does (status_code spelling, Bearer = RFT_LOG_KEY or the rollout token)
  status_404    two calls; GET /status answers 404, then it pushes its status
  error_status  one call, then reports gRPC code 13 INTERNAL
  init_400      POST /init answers 400
  init_500      POST /init answers 500
  never         takes the rollout and never finishes
  garbage       one call, then GET /status answers a body that is not the protocol's
  huge_status   one call, then GET /status answers a finished status padded past 2 MiB
  wrong_token   calls the model with a wrong token 5 times (expects 401 each), then waits

It prints "listening <port>" on stdout once it serves, and writes one JSON line per event to the file
named by AGENT_EVENTS (if set) so tests can check what the agent saw.
"""
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOOL_RESULT = os.environ.get("AGENT_TOOL_RESULT", "sunny, 21 C")
rollouts = {}  # rollout_id -> {"status": dict | None}
lock = threading.Lock()


def event(**fields):
    path = os.environ.get("AGENT_EVENTS")
    if not path:
        return
    fields["t"] = time.time()
    with lock, open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(fields) + "\n")


def post(url, body, token, timeout=60):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text.decode(errors="replace")


def mode_of(init):
    for m in reversed(init.get("messages") or []):
        if m.get("role") == "user":
            found = re.search(r"mode:(\w+)", m.get("content") or "")
            if found:
                return found.group(1)
            break
    return os.environ.get("AGENT_MODE", "normal")


def chat(init, messages, token=None):
    body = {"model": init["completion_params"]["model"], "messages": messages}
    if init.get("tools"):
        body["tools"] = init["tools"]
    status, answer = post(init["model_base_url"] + "/chat/completions", body, token or init["api_key"])
    event(kind="chat", rollout_id=init["metadata"]["rollout_id"], status=status)
    if status != 200:
        raise RuntimeError(f"chat answered {status}: {answer}")
    return answer["choices"][0]["message"]


def two_calls(init):
    messages = list(init["messages"])
    first = chat(init, messages)
    messages.append({k: v for k, v in first.items() if v is not None})
    if first.get("tool_calls"):
        for call in first["tool_calls"]:
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": TOOL_RESULT})
    else:
        messages.append({"role": "user", "content": "go on"})
    chat(init, messages)


def silo_base(init):
    return init["model_base_url"].split("/rollouts/")[0]


def finished(score):
    return {"code": 100, "message": "Rollout finished", "details": []}, {"score": score, "reason": "the test agent's score"}


def run(init, mode):
    rid = init["metadata"]["rollout_id"]
    try:
        if mode in ("normal", "push_status", "push_logs", "status_404"):
            two_calls(init)
        elif mode == "rerender":
            messages = list(init["messages"])
            first = chat(init, messages)
            rewritten = [dict(m) for m in messages]
            rewritten[-1]["content"] = rewritten[-1]["content"] + " Answer again."
            chat(init, rewritten + [{"role": "assistant", "content": first.get("content") or "ok"}, {"role": "user", "content": "go on"}])
        elif mode in ("error_status", "garbage", "huge_status"):
            chat(init, list(init["messages"]))
        elif mode == "wrong_token":
            for _ in range(5):  # the silo ends the rollout as bad_token after 5 refused calls
                try:
                    chat(init, list(init["messages"]), token="rft-rollout-not-the-right-one")
                except RuntimeError as e:
                    event(kind="refused", rollout_id=rid, error=str(e))
            return
        elif mode == "never":
            return
        status, info = finished(0.75)
        if mode == "error_status":
            status, info = {"code": 13, "message": "the agent's tool crashed", "details": []}, None
        if mode in ("push_status", "status_404"):
            code, answer = post(f"{silo_base(init)}/rollouts/{rid}/status", {"terminated": True, "status": status, "info": info}, init["api_key"])
            event(kind="pushed", rollout_id=rid, status=code, answer=answer)
        elif mode == "push_logs":
            line = {"program": "test-agent", "message": "rollout finished",
                    "status": {"status_code": status["code"], "status_message": status["message"], "status_details": []},
                    "tags": [f"rollout_id:{rid}", f"experiment_id:{init['metadata']['experiment_id']}"],
                    "extras": {"logger_name": "agent", "level": "INFO", "score": 0.75}}
            code, answer = post(f"{silo_base(init)}/logs", line, os.environ.get("RFT_LOG_KEY") or init["api_key"])
            event(kind="logged", rollout_id=rid, status=code, answer=answer)
        else:
            with lock:
                rollouts[rid]["status"] = {"terminated": True, "status": status, "info": info}
    except Exception as e:  # the silo records what happened to the rollout; the test reads it there
        event(kind="error", rollout_id=rid, error=str(e))
        with lock:
            rollouts[rid]["status"] = {"terminated": True, "status": {"code": 2, "message": str(e), "details": []}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        init = json.loads(self.rfile.read(length) or b"{}")
        if self.path != "/init":
            return self.answer(404, {"error": "no such path"})
        mode = mode_of(init)
        rid = init["metadata"]["rollout_id"]
        event(kind="init", rollout_id=rid, mode=mode, header=self.headers.get("X-Test-Header"),
              completion_params=init.get("completion_params"), metadata=init.get("metadata"), has_key=bool(init.get("api_key")))
        if mode == "init_400":
            return self.answer(400, {"error": "this agent does not take rows like this one"})
        if mode == "init_500":
            return self.answer(500, {"error": "the agent server is broken"})
        with lock:
            rollouts[rid] = {"status": None, "mode": mode}
        self.answer(200, {"ok": True})
        threading.Thread(target=run, args=(init, mode), daemon=True).start()

    def do_GET(self):
        if not self.path.startswith("/status"):
            return self.answer(404, {"error": "no such path"})
        rid = self.path.split("rollout_id=", 1)[-1]
        with lock:
            state = rollouts.get(rid)
        if state is None:
            return self.answer(404, {"error": "unknown rollout"})
        if state["mode"] == "status_404":
            return self.answer(404, {"error": "this agent pushes its status"})
        if state["mode"] == "garbage" and state["status"] is None:
            return self.answer(200, b"<html>not a status</html>")
        if state["mode"] == "huge_status" and state["status"] is not None:
            padded = {"terminated": True, "status": {"code": 100, "message": "Rollout finished", "details": []},
                      "info": {"score": 1.0, "padding": "x" * (2 << 20)}}
            return self.answer(200, padded)
        if state["status"] is None:
            return self.answer(200, {"terminated": False, "status": {"code": 101, "message": "Rollout is running", "details": []}})
        return self.answer(200, state["status"])


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("AGENT_PORT", "0"))), Handler)
    server.daemon_threads = True
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
