#!/usr/bin/env python3
"""A calculator MCP server (stdio transport), Python standard library only.

MCP over stdio is JSON-RPC 2.0, one message per line on stdin/stdout. The server answers
`initialize` with the client's protocolVersion when it supports it, else with its latest (the MCP
lifecycle's negotiation), and answers methods it does not know — such as the 2026 revision's
`server/discover` probe — with JSON-RPC's "method not found", so clients fall back to `initialize`.

One tool, `calculate`: integer arithmetic (+, -, *, parentheses) on an expression string.
"""
import ast
import json
import sys

VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]

# Kept short: the tiny model reads this definition in every prompt (make_data.py writes the same into the SFT rows).
TOOL = {
    "name": "calculate",
    "description": "Integer arithmetic: +, -, *.",
    "inputSchema": {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]},
}

OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b}


def evaluate(node):
    """Integer +, -, * only: walks the parsed expression instead of eval(), so nothing else can run."""
    if isinstance(node, ast.Expression):
        return evaluate(node.body)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -evaluate(node.operand)
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        left, right = evaluate(node.left), evaluate(node.right)
        if max(abs(left), abs(right)) > 10**30:
            raise ValueError("numbers up to 10^30 only")
        return OPERATORS[type(node.op)](left, right)
    raise ValueError("only integers with +, - and * are allowed")


def calculate(arguments):
    expression = arguments.get("expression")
    if not isinstance(expression, str) or len(expression) > 200:
        return "error: 'expression' must be a string of at most 200 characters", True
    try:
        return str(evaluate(ast.parse(expression, mode="eval"))), False
    except (SyntaxError, ValueError) as e:
        return f"error: {e}", True


def reply(mid, result=None, error=None):
    message = {"jsonrpc": "2.0", "id": mid}
    message["error" if error else "result"] = error or result
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def handle(message):
    method, mid, params = message.get("method"), message.get("id"), message.get("params") or {}
    if mid is None:
        return  # notifications (initialized, cancelled) need no answer
    if method == "initialize":
        asked = params.get("protocolVersion")
        reply(mid, {"protocolVersion": asked if asked in VERSIONS else VERSIONS[0],
                    "capabilities": {"tools": {"listChanged": False}},
                    "serverInfo": {"name": "calculator", "version": "1.0"}})
    elif method == "ping":
        reply(mid, {})
    elif method == "tools/list":
        reply(mid, {"tools": [TOOL]})
    elif method == "tools/call":
        if params.get("name") != TOOL["name"]:
            reply(mid, error={"code": -32602, "message": f"Unknown tool: {params.get('name')}"})
            return
        text, is_error = calculate(params.get("arguments") or {})
        reply(mid, {"content": [{"type": "text", "text": text}], "isError": is_error})
    else:
        reply(mid, error={"code": -32601, "message": f"Method not found: {method}"})


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            reply(None, error={"code": -32700, "message": "Parse error"})
            continue
        for m in message if isinstance(message, list) else [message]:
            handle(m)


if __name__ == "__main__":
    main()
