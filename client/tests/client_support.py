"""Helpers of the client's tests: the CLI in a subprocess, stored files, a cutting proxy,
and a scripted HTTP server for the answers a real server does not give on demand."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CLI = [sys.executable, "-m", "ecb_files_client"]


def run_cli(
    *args: str, env: Mapping[str, str], timeout: float = 120, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def stored_files(server: Any, *, case: str | None = None, dn: str | None = None) -> list[Any]:
    """The file records of a case or DN, from the operator CLI (``files list --json``)."""
    target = ["--case", case] if case else ["--dn", str(dn)]
    return list(json.loads(server.cli("files", "list", "--json", *target).stdout))


def named(records: list[Any], names: set[str]) -> list[Any]:
    return [r for r in records if r["fileName"] in names]


class CuttingProxy:
    """A TCP proxy to ``target_port`` on loopback that breaks the first few big requests.

    ``mode="request"``: a connection is cut once it has carried ``after_bytes`` bytes
    from the client, mid-body. ``mode="response"``: the request passes whole, and the
    connection is cut as the server's answer starts, so the server has stored the files
    but the client never hears so. Only the first ``cuts`` such events are staged.
    """

    def __init__(
        self, target_port: int, *, mode: str, after_bytes: int = 1_000_000, cuts: int = 1
    ) -> None:
        assert mode in ("request", "response")
        self.target_port = target_port
        self.mode = mode
        self.after_bytes = after_bytes
        self.cuts_left = cuts
        self.cuts_done = 0
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closing = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> CuttingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self.connections += 1
            state = {"from_client": 0, "doomed": False}
            threading.Thread(
                target=self._pump, args=(downstream, upstream, state, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(upstream, downstream, state, False), daemon=True
            ).start()

    def _take_cut(self) -> bool:
        with self._lock:
            if self.cuts_left <= 0:
                return False
            self.cuts_left -= 1
            self.cuts_done += 1
            return True

    def _pump(
        self, source: socket.socket, sink: socket.socket, state: dict[str, Any], upward: bool
    ) -> None:
        try:
            while data := source.recv(65536):
                if upward:
                    state["from_client"] += len(data)
                    big = state["from_client"] >= self.after_bytes
                    if big and self.mode == "request" and self._take_cut():
                        break
                    if big and self.mode == "response" and not state["doomed"]:
                        state["doomed"] = self._take_cut()
                elif state["doomed"]:
                    break  # the answer never reaches the client
                sink.sendall(data)
        except OSError:
            pass
        _close(source, sink)


class LimitsProxy:
    """A TCP proxy to a real server on loopback that answers ``GET …/file/limits`` with
    the server's own limits as ``edit`` changes them (a server of another version), and
    passes every other request through untouched.

    Its limits answer closes the connection, so every other request comes on a
    connection of its own, which is piped to the server byte for byte.
    """

    LIMITS_PATH = b"/ecx/host/api/integration/v1/file/limits"

    def __init__(self, target_port: int, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.target_port = target_port
        self.edit = edit
        self.limits_answered = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> LimitsProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(downstream,), daemon=True).start()

    def _serve(self, downstream: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            data = downstream.recv(65536)
            if not data:
                downstream.close()
                return
            head += data
        if head.startswith(b"GET " + self.LIMITS_PATH + b" "):
            self._answer_limits(downstream)
            return
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        upstream.sendall(head)
        threading.Thread(target=_pipe, args=(upstream, downstream), daemon=True).start()
        _pipe(downstream, upstream)

    def _answer_limits(self, downstream: socket.socket) -> None:
        url = f"http://127.0.0.1:{self.target_port}{self.LIMITS_PATH.decode()}"
        with urllib.request.urlopen(url, timeout=10) as response:
            limits = json.loads(response.read())
        body = json.dumps(self.edit(limits)).encode()
        downstream.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        self.limits_answered += 1
        downstream.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    _close(source, sink)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


@dataclass
class Scripted:
    """One answer of :class:`ScriptedServer`."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def envelope(error_type: str, description: str) -> bytes:
    return json.dumps(
        {"success": False, "errorDescription": description, "errorType": error_type}
    ).encode()


class ScriptedServer:
    """Answers submissions from a script (one answer per request, the last repeating).

    Also serves ``POST /connect/token`` with a fixed token and 404 for the limits, so a
    client can be pointed at it with ``token_endpoint=server.url + "/connect/token"``.
    """

    def __init__(self, answers: list[Scripted]) -> None:
        self.answers = answers
        self.submissions: list[dict[str, str]] = []
        script = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._answer(Scripted(404, envelope("GenericError", "no such route")))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                remaining = length
                while remaining:
                    remaining -= len(self.rfile.read(min(remaining, 65536)))
                if self.path == "/connect/token":
                    token = {"access_token": "scripted", "token_type": "Bearer", "expires_in": 600}
                    self._answer(Scripted(200, json.dumps(token).encode()))
                    return
                script.submissions.append(dict(self.headers.items()))
                index = min(len(script.submissions), len(script.answers)) - 1
                self._answer(script.answers[index])

            def _answer(self, answer: Scripted) -> None:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer.body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
