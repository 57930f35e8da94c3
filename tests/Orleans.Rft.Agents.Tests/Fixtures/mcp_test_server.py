#!/usr/bin/env python3
"""An MCP server for the tools-agent tests, standard library only: JSON-RPC 2.0 messages, one per
line on stdin/stdout (the MCP stdio transport). Version negotiation as the MCP lifecycle says: the
server answers `initialize` with the client's protocolVersion when it supports it, else its latest;
`server/discover` (the 2026 handshake-free probe) is not supported, so it gets "method not found" and
the client falls back to `initialize`.

Tools: add, multiply (numbers a, b), fail (a tool error: isError), hang (never answers), big (n characters of x),
crash (the process exits), pid (this process's id, to tell a restart).

With `--http`, the same server speaks streamable HTTP instead: each POSTed JSON-RPC message gets its
answer as an application/json body (202 for notifications); GET (the optional server-to-client
stream) and DELETE get 405. It listens on 127.0.0.1 and prints `port N` on its first stdout line.
"""
import json
import os
import sys

VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]


def number_args(description):
    return {
        "name": None,
        "description": description,
        "inputSchema": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]},
    }


TOOLS = []
for name, text in [("add", "Adds a and b."), ("multiply", "Multiplies a by b.")]:
    t = number_args(text)
    t["name"] = name
    TOOLS.append(t)
for name, text in [("fail", "Always reports an error."), ("hang", "Never answers."), ("crash", "Stops the server."), ("pid", "The server's process id.")]:
    TOOLS.append({"name": name, "description": text, "inputSchema": {"type": "object", "properties": {}}})
TOOLS.append({"name": "big", "description": "n characters of x.", "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}}})


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def text_result(text, is_error=False):
    return {"content": [{"type": "text", "text": text}], "isError": is_error}


def number(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


def call_tool(params):
    """The result of tools/call, or None when the call must get no answer."""
    name, args = params.get("name"), params.get("arguments") or {}
    if name in ("add", "multiply"):
        try:
            a, b = float(args["a"]), float(args["b"])
        except (KeyError, TypeError, ValueError):
            return text_result("arguments a and b must be numbers", True)
        return text_result(str(number(a + b if name == "add" else a * b)))
    if name == "fail":
        return text_result("this tool always fails", True)
    if name == "big":
        return text_result("x" * int(args.get("n", 0)))
    if name == "pid":
        return text_result(str(os.getpid()))
    if name == "hang":
        return None
    if name == "crash":
        sys.stdout.flush()
        os._exit(3)
    raise LookupError(f"Unknown tool: {name}")


def handle(message):
    """The response to one message: None for notifications (initialized, cancelled) and for calls that get no answer."""
    method, mid, params = message.get("method"), message.get("id"), message.get("params") or {}
    if mid is None:
        return None
    if method == "initialize":
        asked = params.get("protocolVersion")
        return {"jsonrpc": "2.0", "id": mid, "result": {
            "protocolVersion": asked if asked in VERSIONS else VERSIONS[0],
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": "mcp-test-server", "version": "1.0"},
        }}
    if method == "ping":
        return {"jsonrpc": "2.0", "id": mid, "result": {}}
    if method == "tools/list":
        return {"jsonrpc": "2.0", "id": mid, "result": {"tools": TOOLS}}
    if method == "tools/call":
        try:
            result = call_tool(params)
        except LookupError as e:
            return {"jsonrpc": "2.0", "id": mid, "error": {"code": -32602, "message": str(e)}}
        return None if result is None else {"jsonrpc": "2.0", "id": mid, "result": result}
    return {"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": f"Method not found: {method}"}}


def serve_http():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = json.loads(self.body())
            response = handle(body)
            if response is None:
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = json.dumps(response).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                return self.rfile.read(int(self.headers.get("Content-Length", 0)))
            data = b""
            while True:  # HTTP/1.1 chunked coding (RFC 9112 §7.1): hex size line, data, CRLF; size 0 ends it
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()

        def do_GET(self):
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_DELETE = do_GET

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever()


if "--http" in sys.argv:
    serve_http()
    sys.exit(0)

for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    try:
        message = json.loads(line)
    except json.JSONDecodeError:
        send({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
        continue
    for m in message if isinstance(message, list) else [message]:
        response = handle(m)
        if response is not None:
            send(response)
