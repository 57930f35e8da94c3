#!/usr/bin/python3
"""Reference renders of real chat templates, for the byte-for-byte tests of our Jinja renderer.

Renders every template in tests/Orleans.Rft.Engine.Tests/ChatTemplates/templates/*.jinja against
every conversation in .../ChatTemplates/conversations/*.json, with and without the generation
prompt (and, for templates that read it, enable_thinking true/false), plus the feature templates
in .../ChatTemplates/features/*.jinja once each (system + the tool conversation), and writes
.../ChatTemplates/expected.json. The C# test (ChatTemplateCorpusTests) renders the same cases and
compares the text byte for byte, or the error when the template refuses the conversation.

Set up as Hugging Face transformers sets up apply_chat_template (transformers'
utils/chat_template_utils.py, _compile_jinja_template and render_jinja_template):
  * jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
    extensions=[jinja2.ext.loopcontrols])
  * the tojson filter replaced by json.dumps(x, ensure_ascii=False, indent=, separators=, sort_keys=)
  * globals raise_exception(message) -> TemplateError(message) and strftime_now(format)
  * render(messages=..., tools=... or None, documents=None, add_generation_prompt=...,
    **special_tokens, **template_kwargs): tools and documents are always passed, None when absent.
Messages are normalised as vLLM and our ChatMessage do before rendering: tool-call arguments given
as a JSON string are parsed into an object; keys are role, content (always, null allowed),
reasoning_content, tool_calls ({id, type: "function", function: {name, arguments}}),
tool_call_id, name (each only when given).

Run: apt-get install -y python3-jinja2 && /usr/bin/python3 scripts/render_reference.py
(Debian's jinja2, no network; rerun and commit expected.json whenever a template or conversation
changes).
"""
import json
import os
import sys
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Orleans.Rft.Engine.Tests", "ChatTemplates")
DATE = "26 Nov 2026"  # every case passes date_string so that Llama's header does not depend on today


def compile_template(source):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(source)


def normalise(message):
    out = {"role": message["role"], "content": message.get("content")}
    if isinstance(out["content"], list):
        out["content"] = "".join(part.get("text") or "" for part in out["content"])
    if message.get("reasoning_content") is not None:
        out["reasoning_content"] = message["reasoning_content"]
    if message.get("tool_calls") is not None:
        calls = []
        for j, call in enumerate(message["tool_calls"]):
            arguments = call["function"].get("arguments")
            if isinstance(arguments, str):
                arguments = json.loads(arguments)
            calls.append({"id": call.get("id") or f"call_{j}", "type": "function",
                          "function": {"name": call["function"]["name"], "arguments": arguments if arguments is not None else {}}})
        out["tool_calls"] = calls
    if message.get("tool_call_id") is not None:
        out["tool_call_id"] = message["tool_call_id"]
    if message.get("name") is not None:
        out["name"] = message["name"]
    return out


def main():
    tokens = json.load(open(os.path.join(ROOT, "templates", "tokens.json"), encoding="utf-8"))
    names = sorted(f[:-len(".jinja")] for f in os.listdir(os.path.join(ROOT, "templates")) if f.endswith(".jinja"))
    conversations = sorted(f[:-len(".json")] for f in os.listdir(os.path.join(ROOT, "conversations")) if f.endswith(".json"))
    cases = []
    for name in names:
        source = open(os.path.join(ROOT, "templates", name + ".jinja"), encoding="utf-8").read()
        template = compile_template(source)
        variants = [{"date_string": DATE}]
        if "enable_thinking" in source:
            variants += [{"date_string": DATE, "enable_thinking": False}, {"date_string": DATE, "enable_thinking": True}]
        for conv in conversations:
            data = json.load(open(os.path.join(ROOT, "conversations", conv + ".json"), encoding="utf-8"))
            messages = [normalise(m) for m in data["messages"]]
            for kwargs in variants:
                for agp in (True, False):
                    case = {"template": name, "conversation": conv, "add_generation_prompt": agp, "kwargs": kwargs}
                    context = dict(tokens.get(name, {}))
                    context.update(kwargs)
                    try:
                        case["text"] = template.render(messages=messages, tools=data.get("tools"), documents=None,
                                                       add_generation_prompt=agp, **context)
                    except jinja2.exceptions.TemplateError as e:
                        case["error"] = str(e)
                    except Exception as e:  # a Python error inside the template (e.g. str + None)
                        case["error_type"] = type(e).__name__
                    cases.append(case)
    # Feature templates: one render each of the tool conversation, exercising the Jinja and Python
    # semantics the real templates rely on (filters, tests, methods, scoping, whitespace control).
    for feature in sorted(f[:-len(".jinja")] for f in os.listdir(os.path.join(ROOT, "features")) if f.endswith(".jinja")):
        template = compile_template(open(os.path.join(ROOT, "features", feature + ".jinja"), encoding="utf-8").read())
        data = json.load(open(os.path.join(ROOT, "conversations", "tool_call_object_args.json"), encoding="utf-8"))
        messages = [{"role": "system", "content": "sys"}] + [normalise(m) for m in data["messages"]]
        case = {"template": "features/" + feature, "conversation": "tool_call_object_args", "add_generation_prompt": True, "kwargs": {}}
        case["text"] = template.render(messages=messages, tools=data["tools"], documents=None, add_generation_prompt=True,
                                       bos_token="<s>", eos_token="</s>")
        cases.append(case)
    out = os.path.join(ROOT, "expected.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"generator": "scripts/render_reference.py", "jinja2": jinja2.__version__, "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
