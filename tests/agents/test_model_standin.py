"""The stand-in model service (gt.agents.model_standin) on 127.0.0.1: a request it cannot answer
gets a 4xx JSON error and ends its connection, without a traceback or a thread left waiting; a good
streamed request gets server-sent events that parse."""
from __future__ import annotations

import http.client
import json
import socket

import pytest

from conftest import requests_seen

from gt.agents import model_standin

TIMEOUT = 10  # seconds, for every connection to the stand-in
SCRIPT = "Work on gz-1: Add hello.\n\n```gt-script\nfiles: {hello.txt: \"hello\\n\"}\ncommit: Add hello\n```\n"


def exchange(port: int, head: dict[str, str], body: bytes = b"", *, end: bool = True) -> tuple[int, dict, str]:
    """Send one POST as raw bytes (the headers exactly as given; with `end`, then close our side) and read
    the answer to the end of the connection: (status, its JSON, its Connection header)."""
    lines = ["POST /v1/messages HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in head.items())]
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)  # as HTTP reads headers
        if end:
            conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):  # the stand-in closes the connection after a refusal
            answer += chunk
    top, _, payload = answer.partition(b"\r\n\r\n")
    status = int(top.split()[1])
    connection = next((line.split(b":", 1)[1].strip().decode() for line in top.split(b"\r\n")[1:]
                       if line.lower().startswith(b"connection:")), "")
    return status, json.loads(payload), connection


def post(port: int, body: bytes) -> tuple[int, dict]:
    return exchange(port, {"Content-Type": "application/json", "Content-Length": str(len(body))}, body)[:2]


@pytest.mark.parametrize("length, status", [
    (None, 411), ("-1", 400), ("abc", 400), ("1_0", 400), ("+5", 400), ("0x10", 400), ("²", 400),
    (str(model_standin.MAX_BODY + 1), 413),
])
def test_a_bad_content_length_is_refused(standin, capsys, length, status):
    server, log = standin
    head = {"Content-Type": "application/json"} | ({} if length is None else {"Content-Length": length})
    got, error, connection = exchange(server.server_address[1], head, b'{"messages": []}')
    assert (got, connection) == (status, "close") and error["error"]["message"]
    assert requests_seen(log) == [] and "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("body, says", [
    (b"[1]", "not a JSON object"), (b'"text"', "not a JSON object"), (b"null", "not a JSON object"),
    (b"{not json", "not JSON"), (b"\xff\xfe", "not JSON"), (b"[" * 100000 + b"]" * 100000, "not JSON"),
    (b'{"messages": 5}', "`messages` must be a list"), (b'{"messages": "hi"}', "`messages` must be a list"),
    (b'{"input": {"role": "user"}}', "`input` must be a list or a string"), (b'{"tools": "Bash"}', "`tools`"),
    (b'{"tools": {"name": "Bash"}}', "`tools` must be a list"),
])
def test_a_body_it_cannot_answer_is_refused(standin, capsys, body, says):
    server, log = standin
    status, error = post(server.server_address[1], body)
    assert status == 400 and says in error["error"]["message"]
    assert requests_seen(log) == [] and "Traceback" not in capsys.readouterr().err


def test_a_short_or_stalled_body_holds_no_thread(standin, monkeypatch, capsys):
    server, log = standin
    port = server.server_address[1]
    head = {"Content-Type": "application/json", "Content-Length": "100"}
    status, error, _ = exchange(port, head, b'{"messages"')  # the client stops sending, and says so
    assert status == 400 and "ended before" in error["error"]["message"]
    monkeypatch.setattr(model_standin, "BODY_WAIT", 0.5)
    status, error, _ = exchange(port, head, b'{"messages"', end=False)  # the client stops sending, silently
    assert status == 408
    assert requests_seen(log) == [] and "Traceback" not in capsys.readouterr().err


def events_of(stream: str) -> list[tuple[str | None, dict]]:
    """Server-sent events: (the `event:` name or None, the `data:` JSON) of each."""
    found = []
    for block in stream.split("\n\n"):
        if block.strip():
            fields = dict(line.split(": ", 1) for line in block.splitlines())
            found.append((fields.get("event"), json.loads(fields["data"])))
    return found


def streamed(port: int, path: str, body: dict) -> tuple[http.client.HTTPResponse, list[tuple[str | None, dict]]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response, events_of(response.read().decode())
    finally:
        conn.close()


def test_good_streamed_requests_get_events_that_parse(standin, capsys):
    server, log = standin
    assert server.server_address[0] == "127.0.0.1"
    port = server.server_address[1]
    status, _ = post(port, b'{"messages": [}')  # a refusal first: the service still answers afterwards
    assert status == 400

    response, events = streamed(port, "/v1/messages", {
        "model": "m-1", "stream": True, "tools": [{"name": "Bash"}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": SCRIPT}]}]})
    assert response.status == 200 and response.getheader("Content-Type") == "text/event-stream"
    assert (events[0][0], events[-1][0]) == ("message_start", "message_stop")
    assert all(name == data["type"] for name, data in events)
    [call] = [data["delta"]["partial_json"] for _, data in events
              if data.get("delta", {}).get("type") == "input_json_delta"]
    assert "hello.txt" in json.loads(call)["command"]

    response, events = streamed(port, "/v1/responses", {
        "model": "m-2", "stream": True, "tools": [{"type": "function", "name": "shell_command"}],
        "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": SCRIPT}]}]})
    assert response.status == 200
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    assert events[-1][1]["type"] == "response.completed"
    [item] = [d["item"] for _, d in events
              if d["type"] == "response.output_item.done" and d["item"]["type"] == "function_call"]
    assert item["name"] == "shell_command" and "hello.txt" in json.loads(item["arguments"])["command"]

    assert [(r["path"], r["model"], r["tools"]) for r in requests_seen(log)] == [("/v1/messages", "m-1", 1),
                                                                                ("/v1/responses", "m-2", 1)]
    assert "Traceback" not in capsys.readouterr().err
