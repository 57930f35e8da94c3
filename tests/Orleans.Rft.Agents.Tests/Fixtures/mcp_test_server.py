#!/usr/bin/env python3
"""An MCP server for the tools-agent tests, standard library only: JSON-RPC 2.0 messages, one per
line on stdin/stdout (the MCP stdio transport). Version negotiation as the MCP lifecycle says: the
server answers `initialize` with the client's protocolVersion when it supports it, else its latest;
`server/discover` (the 2026 handshake-free probe) is not supported, so it gets "method not found" and
the client falls back to `initialize`.

Tools: add, multiply (numbers a, b), fail (a tool error: isError), hang (never answers),
crash (the process exits), pid (this process's id, to tell a restart).
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
    if name == "pid":
        return text_result(str(os.getpid()))
    if name == "hang":
        return None
    if name == "crash":
        sys.stdout.flush()
        os._exit(3)
    raise LookupError(f"Unknown tool: {name}")


def handle(message):
    method, mid, params = message.get("method"), message.get("id"), message.get("params") or {}
    if mid is None:
        return  # a notification (initialized, cancelled): nothing to answer
    if method == "initialize":
        asked = params.get("protocolVersion")
        send({"jsonrpc": "2.0", "id": mid, "result": {
            "protocolVersion": asked if asked in VERSIONS else VERSIONS[0],
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": "mcp-test-server", "version": "1.0"},
        }})
    elif method == "ping":
        send({"jsonrpc": "2.0", "id": mid, "result": {}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": mid, "result": {"tools": TOOLS}})
    elif method == "tools/call":
        try:
            result = call_tool(params)
        except LookupError as e:
            send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32602, "message": str(e)}})
            return
        if result is not None:
            send({"jsonrpc": "2.0", "id": mid, "result": result})
    else:
        send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": f"Method not found: {method}"}})


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
        handle(m)
