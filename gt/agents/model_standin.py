"""A stand-in model service on 127.0.0.1 that plays a bead's `gt-script` through a real agent CLI.

Real runtimes (Claude Code, Codex) cannot reach a model service here or in CI, so this serves the
one part that is out of reach: the Anthropic Messages API (`POST /v1/messages`, streamed as
server-sent events) and the OpenAI Responses API (`POST /v1/responses`). The runtime itself is the
real program. Given the prompt `gt prime` made, the stand-in finds the bead's `gt-script` block (the
same one the scripted agent reads) and answers with the tool calls that do it: one shell call per
step (write the files, run the command, commit, `gt done`), then a closing text. Each response
reports fixed usage figures, and every request is appended to a JSON-lines log, so a test can
check the model the runtime asked for, what the prompt said and the tokens the runtime recorded.

    python -m gt.agents.model_standin --port 8765 [--log requests.jsonl]

then point the runtime at it: `ANTHROPIC_BASE_URL=http://127.0.0.1:8765 ANTHROPIC_API_KEY=standin`
(Claude Code) or a Codex provider with `base_url = "http://127.0.0.1:8765/v1"`.
"""
from __future__ import annotations

import argparse
import itertools
import json
import re
import shlex
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

INPUT_TOKENS = 1000  # usage reported on every response: tests compare what the runtime recorded
OUTPUT_TOKENS = 50
CACHE_READ_TOKENS = 200
MAX_BODY = 64 * 1024 * 1024
BODY_WAIT = 30.0  # seconds a request's body may take to arrive
HOOKED = re.compile(r"^## On your hook: (\S{1,200}): (.{1,300})$", re.M)  # the bead, as `gt prime` shows it
ATTEMPT = re.compile(r"^Attempt (\d{1,4}):", re.M)
DONE_TEXT = "Done: the work is committed and submitted with gt done."
CODEX_CONTEXT = ("<environment_context>", "<user_instructions>", "# AGENTS.md instructions")  # not the prompt
RUNNING = re.compile(r"Process running with session ID (\d+)")  # Codex: command still going after its yield
COMMAND_WAIT_MS = 30000  # the longest Codex lets one exec_command / write_stdin call wait
SHELL_TIMEOUT_MS = 3600 * 1000  # for the blocking shell tools (`shell`, `shell_command`)


def steps_for(script: dict[str, Any], attempt: int = 1, subject: str | None = None) -> list[str]:
    """The shell commands that carry out a `gt-script` plan, in order, ending with `gt done`
    (committed as the plan's `commit`, else `subject`, as the scripted agent does)."""
    from gt.agents.scripted import plan_for

    plan = plan_for(script, attempt)
    if plan.get("fail"):
        return [f"echo {shlex.quote('failing as asked: ' + str(plan['fail']))}; exit 1"]
    if plan.get("escalate"):
        return [f"gt done --status ESCALATED -m {shlex.quote(str(plan['escalate']))}"]
    if plan.get("defer"):
        return [f"gt done --status DEFERRED -m {shlex.quote(str(plan['defer']))}"]
    steps = []
    if attempt > 1:  # sent back: bring the branch up to date first, keeping our side of a conflict
        steps.append('git rebase --quiet -X theirs "$GT_TARGET_BRANCH" || { git rebase --abort; exit 1; }')
    files = plan.get("files") or {}
    if files:
        writes = []
        for path, content in files.items():
            folder = str(Path(str(path)).parent)
            if folder != ".":
                writes.append(f"mkdir -p {shlex.quote(folder)}")
            writes.append(f"printf '%s' {shlex.quote(str(content))} > {shlex.quote(str(path))}")
        steps.append(" && ".join(writes))
    if plan.get("run"):
        steps.append(str(plan["run"]))
    message = str(plan.get("commit") or subject or "Work for the hooked bead")
    steps.append(f"git add -A && (git diff --cached --quiet || git commit --quiet -m {shlex.quote(message)})")
    steps.append("gt done")
    return steps


def prompt_text(body: dict[str, Any]) -> str:
    """All text the request carries (system, messages, instructions), for finding the script."""
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for key in ("text", "content", "input", "instructions", "system", "messages", "output"):
                if key in value:
                    walk(value[key])

    walk({k: body.get(k) for k in ("system", "messages", "instructions", "input")})
    return "\n".join(parts)


def first_user_text(body: dict[str, Any]) -> str:
    """The text of the conversation's first user turn: where the runtime puts the prompt.

    Codex sends its own context (`<environment_context>`, AGENTS.md) as user messages ahead of
    the prompt in a Responses-API `input`; those are passed over."""
    messages = body.get("messages") or body.get("input") or []
    if isinstance(messages, str):
        return messages
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, dict) and message.get("role") == "user":
            text = prompt_text({"messages": [message]})
            if text.lstrip().startswith(CODEX_CONTEXT):
                continue
            return text
    return ""


def tool_results(body: dict[str, Any]) -> int:
    """How many tool results the conversation holds: the step the session is at.

    A Codex `exec_command` output saying the process is still running is not a result yet: the
    step ends with the `write_stdin` poll that reports its exit."""
    count = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                count += 1
    for item in body.get("input") or [] if isinstance(body.get("input"), list) else []:
        if isinstance(item, dict) and item.get("type") == "function_call_output":
            if running_session(item) is None:
                count += 1
    return count


def output_text(item: dict[str, Any]) -> str:
    """The text of a Responses-API `function_call_output` (a string, or a list of content parts)."""
    output = item.get("output")
    if isinstance(output, str):
        return output
    if isinstance(output, dict):
        output = output.get("content") or output.get("text") or ""
        if isinstance(output, str):
            return output
    return prompt_text({"input": output if isinstance(output, list) else []})


def running_session(item: dict[str, Any]) -> int | None:
    """The session id of a Codex command still running when its tool call returned, if this is one."""
    match = RUNNING.search(output_text(item))
    return int(match.group(1)) if match else None


def script_in(text: str) -> dict[str, Any] | None:
    """The `gt-script` block in the prompt, if it names one."""
    from gt.agents.scripted import script_of
    from gt.model.bead import SCRIPT_BLOCK

    if not SCRIPT_BLOCK.search(text):
        return None
    try:
        return script_of(text)
    except Exception:  # a block the scripted agent could not read either: play nothing
        return None


def request_problem(body: Any) -> str | None:
    """Why a request's JSON cannot be answered, or None: it must be an object whose `messages` and
    `tools` are lists and whose `input` is a list or a string (each may be absent or null)."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    for key, kinds, named in (("messages", (list,), "a list"), ("tools", (list,), "a list"),
                              ("input", (list, str), "a list or a string")):
        if body.get(key) is not None and not isinstance(body[key], kinds):
            return f"`{key}` must be {named}"
    return None


def plan_reply(body: dict[str, Any]) -> tuple[str, str | None]:
    """(text, shell command or None) for this request: the next step of the bead's script."""
    if not body.get("tools"):
        return "Gas Town session", None  # a side request (a title, a summary): a short answer
    script = script_in(first_user_text(body)) or script_in(prompt_text(body))
    if script is None:
        return "Nothing on my hook to run.", None
    found = ATTEMPT.search(first_user_text(body))  # `gt prime` says which submission this is
    attempt = int(found.group(1)) if found else 1
    hooked = HOOKED.search(first_user_text(body))
    steps = steps_for(script, attempt, f"{hooked.group(1)}: {hooked.group(2).strip()}" if hooked else None)
    done = tool_results(body)
    if done < len(steps):
        return f"Step {done + 1} of {len(steps)}.", steps[done]
    return DONE_TEXT, None


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, log: Path | None) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.log_path = log
        self.lock = threading.Lock()
        self.count = 0

    def record(self, entry: dict[str, Any]) -> int:
        with self.lock:
            self.count += 1
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry) + "\n")
            return self.count


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the request log says it all
        return

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.reply_json(200, {"data": [], "object": "list"})

    def do_POST(self) -> None:
        declared = (self.headers.get("Content-Length") or "").strip()
        if not declared:
            self.refuse(411, "length_required", "a request needs a Content-Length")
            return
        if not (declared.isascii() and declared.isdigit()):  # no sign, no `_`: a plain count of bytes
            self.refuse(400, "invalid_request_error", "Content-Length is not a number of bytes")
            return
        length = int(declared)
        if length > MAX_BODY:
            self.refuse(413, "request_too_large", f"the body is over {MAX_BODY} bytes")
            return
        try:
            self.connection.settimeout(BODY_WAIT)  # a body that stops coming holds no thread for long
            raw = self.rfile.read(length)
        except OSError:
            self.refuse(408, "request_timeout", f"the body did not arrive within {BODY_WAIT:g} s")
            return
        finally:
            self.connection.settimeout(None)
        if len(raw) < length:
            self.refuse(400, "invalid_request_error", "the body ended before its Content-Length")
            return
        try:
            body = json.loads(raw or b"{}")
        except (ValueError, RecursionError):  # bad UTF-8 or JSON, or nested too deep
            self.refuse(400, "invalid_request_error", "the body is not JSON")
            return
        problem = request_problem(body)
        if problem is not None:
            self.refuse(400, "invalid_request_error", problem)
            return
        path = self.path.split("?", 1)[0]
        if path.endswith("/messages/count_tokens"):
            self.reply_json(200, {"input_tokens": INPUT_TOKENS})
            return
        if not path.endswith(("/messages", "/responses")):
            self.reply_json(404, {"error": {"type": "not_found_error", "message": f"no {path} here"}})
            return
        text, command = plan_reply(body)
        number = self.server.record({"path": path, "model": body.get("model"), "stream": bool(body.get("stream")),
                                     "tools": len(body.get("tools") or []), "command": command,
                                     "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS,
                                               "cache_read_input_tokens": CACHE_READ_TOKENS},
                                     "body": body})
        if path.endswith("/responses"):
            self.openai_responses(body, number, text, command)
        else:
            self.messages(body, number, text, command)

    def refuse(self, status: int, kind: str, message: str) -> None:
        """A 4xx JSON error that ends the connection (the request's body may be unread, or partly read)."""
        self.close_connection = True
        try:
            self.reply_json(status, {"error": {"type": kind, "message": message}}, close=True)
        except OSError:  # the client is gone
            pass

    def reply_json(self, status: int, data: dict[str, Any], close: bool = False) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def stream(self, events: Iterator[tuple[str | None, dict[str, Any]]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for name, data in events:
            head = f"event: {name}\n" if name else ""
            chunk = f"{head}data: {json.dumps(data)}\n\n".encode()
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # the Anthropic Messages API

    def messages(self, body: dict[str, Any], number: int, text: str, command: str | None) -> None:
        model = str(body.get("model") or "standin")
        usage = {"input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS,
                 "cache_creation_input_tokens": 0, "cache_read_input_tokens": CACHE_READ_TOKENS}
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        if command:
            content.append({"type": "tool_use", "id": f"toolu_standin_{number}", "name": "Bash",
                            "input": {"command": command, "description": "Gas Town step"}})
        stop = "tool_use" if command else "end_turn"
        message = {"id": f"msg_standin_{number}", "type": "message", "role": "assistant", "model": model,
                   "content": content, "stop_reason": stop, "stop_sequence": None, "usage": usage}
        if not body.get("stream"):
            self.reply_json(200, message)
            return

        def events() -> Iterator[tuple[str | None, dict[str, Any]]]:
            yield "message_start", {"type": "message_start",
                                    "message": {**message, "content": [], "stop_reason": None,
                                                "usage": {**usage, "output_tokens": 1}}}
            for index, block in enumerate(content):
                if block["type"] == "text":
                    yield "content_block_start", {"type": "content_block_start", "index": index,
                                                  "content_block": {"type": "text", "text": ""}}
                    yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                                  "delta": {"type": "text_delta", "text": block["text"]}}
                else:
                    yield "content_block_start", {"type": "content_block_start", "index": index,
                                                  "content_block": {**block, "input": {}}}
                    yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                                  "delta": {"type": "input_json_delta",
                                                            "partial_json": json.dumps(block["input"])}}
                yield "content_block_stop", {"type": "content_block_stop", "index": index}
            yield "message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                    "usage": {"output_tokens": OUTPUT_TOKENS}}
            yield "message_stop", {"type": "message_stop"}

        self.stream(events())

    # the OpenAI Responses API

    def openai_responses(self, body: dict[str, Any], number: int, text: str, command: str | None) -> None:
        model = str(body.get("model") or "standin")
        output: list[dict[str, Any]] = [{"type": "message", "id": f"msg_standin_{number}", "role": "assistant",
                                         "status": "completed",
                                         "content": [{"type": "output_text", "text": text, "annotations": []}]}]
        call = openai_tool_call(body, command)
        if call:
            name, arguments = call
            output.append({"type": "function_call", "id": f"fc_standin_{number}", "call_id": f"call_standin_{number}",
                           "name": name, "status": "completed", "arguments": json.dumps(arguments)})
        usage = {"input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS,
                 "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS,
                 "input_tokens_details": {"cached_tokens": CACHE_READ_TOKENS},
                 "output_tokens_details": {"reasoning_tokens": 0}}
        response = {"id": f"resp_standin_{number}", "object": "response", "created_at": int(time.time()),
                    "model": model, "status": "completed", "error": None, "incomplete_details": None,
                    "output": output, "parallel_tool_calls": False, "tool_choice": body.get("tool_choice", "auto"),
                    "tools": [], "usage": usage}
        if not body.get("stream"):
            self.reply_json(200, response)
            return
        self.stream(openai_events(response))


def openai_tool_call(body: dict[str, Any], command: str | None) -> tuple[str, dict[str, Any]] | None:
    """(tool name, arguments) that run `command` with the shell tool the request offers, or None.

    Codex offers one of: `exec_command` (`cmd`: a string; returns early with a session id when the
    command outlives its wait, then `write_stdin` polls it), `shell_command` (`command`: a string)
    or `shell` (`command`: an argv list). A command still running is polled before the next step."""
    tools = {str(t.get("name")): t for t in body.get("tools") or [] if isinstance(t, dict)}
    items = body.get("input") if isinstance(body.get("input"), list) else []
    last = items[-1] if items else None
    if isinstance(last, dict) and last.get("type") == "function_call_output" and "write_stdin" in tools:
        session = running_session(last)
        if session is not None:
            return "write_stdin", only_known(tools["write_stdin"], {"session_id": session, "chars": "",
                                                                     "yield_time_ms": COMMAND_WAIT_MS})
    if command is None:
        return None
    # never a login shell: the system profile would reset PATH, and the runtime's PATH is what has `gt`
    if "exec_command" in tools:
        return "exec_command", only_known(tools["exec_command"], {"cmd": command, "login": False, "tty": False,
                                                                  "yield_time_ms": COMMAND_WAIT_MS})
    if "shell_command" in tools:
        return "shell_command", only_known(tools["shell_command"], {"command": command, "login": False,
                                                                    "timeout_ms": SHELL_TIMEOUT_MS})
    if "shell" in tools:
        return "shell", only_known(tools["shell"], {"command": ["bash", "-c", command],
                                                    "timeout_ms": SHELL_TIMEOUT_MS})
    return None  # no shell tool on offer: the step is only described in the text


def only_known(tool: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """`arguments` less those the tool's parameter schema does not name (all, when it names none)."""
    schema = tool.get("parameters")
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict) or not properties:
        return arguments
    return {k: v for k, v in arguments.items() if k in properties}


def openai_events(response: dict[str, Any]) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """The server-sent events of a streamed Responses-API answer, as the service sends them."""
    sequence = itertools.count()

    def event(kind: str, **fields: Any) -> tuple[str, dict[str, Any]]:
        return kind, {"type": kind, "sequence_number": next(sequence), **fields}

    started = {**response, "status": "in_progress", "output": [], "usage": None}
    yield event("response.created", response=started)
    yield event("response.in_progress", response=started)
    for index, item in enumerate(response["output"]):
        if item["type"] == "message":
            yield event("response.output_item.added", output_index=index,
                        item={**item, "status": "in_progress", "content": []})
            for part_index, part in enumerate(item["content"]):
                empty = {**part, "text": ""}
                where = {"item_id": item["id"], "output_index": index, "content_index": part_index}
                yield event("response.content_part.added", **where, part=empty)
                yield event("response.output_text.delta", **where, delta=part["text"], logprobs=[])
                yield event("response.output_text.done", **where, text=part["text"], logprobs=[])
                yield event("response.content_part.done", **where, part=part)
        else:
            yield event("response.output_item.added", output_index=index,
                        item={**item, "status": "in_progress", "arguments": ""})
            yield event("response.function_call_arguments.delta", item_id=item["id"], output_index=index,
                        delta=item["arguments"])
            yield event("response.function_call_arguments.done", item_id=item["id"], output_index=index,
                        arguments=item["arguments"])
        yield event("response.output_item.done", output_index=index, item=item)
    yield event("response.completed", response=response)


def serve(port: int, log: Path | None) -> Server:
    """Start the stand-in on 127.0.0.1:`port` (0: any free port) in a background thread."""
    server = Server(port, log)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gt.agents.model_standin", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--log", type=Path, default=None, help="append every request here (JSON lines)")
    args = parser.parse_args(argv)
    server = Server(args.port, args.log)
    print(f"stand-in model service on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
