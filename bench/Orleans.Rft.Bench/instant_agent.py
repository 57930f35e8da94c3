"""The remote-agent benchmark's agent server: answers at once, makes one model call, pushes its status.

POST /init answers 200 and, in a thread, calls model_base_url/chat/completions once with the rollout's
token, then POSTs {terminated: true, status: {code: 100}} to the silo's /rollouts/{id}/status. GET /status
answers 404 (Eval Protocol's "stop polling, wait for a pushed status"), so no poll interval is measured.
Prints "listening PORT" once it serves. Python standard library only.
"""
import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def post(url, body, token):
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())


def run(init):
    base = init["model_base_url"].rstrip("/")
    status = {"code": 100, "message": "Rollout finished", "details": []}
    try:
        post(base + "/chat/completions", {"model": init["completion_params"]["model"], "messages": init["messages"]}, init["api_key"])
    except Exception as e:  # reported, so the benchmark fails loudly instead of timing a deadline
        status = {"code": 13, "message": str(e), "details": []}
    post(base.rsplit("/v1", 1)[0] + "/status", {"terminated": True, "status": status}, init["api_key"])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code):
        data = b"{}"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        init = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.reply(200)
        threading.Thread(target=run, args=(init,), daemon=True).start()

    def do_GET(self):
        self.reply(404)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
server.request_queue_size = 128
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
