"""A real HTTP server on 127.0.0.1 that answers each API method from a function, for the
tracker (Conduit) and chat (Slack Web API) adapters. Requests are recorded for assertions."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Request:
    method: str  # the API method: the last path segment
    path: str
    form: dict[str, str]
    headers: dict[str, str]
    body: str = ""


Answer = Callable[[Request], Reply]


class StubServer:
    def __init__(self, routes: dict[str, Answer]) -> None:
        self.routes = routes
        self.requests: list[Request] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode(errors="replace")  # uploads are binary
                form: dict[str, str] = {}
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    data = json.loads(raw or "{}")
                    if isinstance(data, dict):
                        form = {k: str(v) for k, v in data.items()}
                else:
                    form = dict(urllib.parse.parse_qsl(raw))
                form.update(urllib.parse.parse_qsl(urllib.parse.urlparse(self.path).query))
                path = urllib.parse.urlparse(self.path).path
                request = Request(path.rsplit("/", 1)[-1], path, form, dict(self.headers), raw)
                stub.requests.append(request)
                answer = stub.routes.get(request.method)
                reply = answer(request) if answer else Reply({"error": "unknown_method"}, 404)
                if reply.delay:
                    threading.Event().wait(reply.delay)
                payload = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST

            def log_message(self, *args: object) -> None:
                """Quiet: tests read what arrived from ``requests``, not from stderr."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def called(self, method: str) -> list[Request]:
        return [r for r in self.requests if r.method == method]


@contextmanager
def stub_server(routes: dict[str, Answer]) -> Iterator[StubServer]:
    stub = StubServer(routes)
    thread = threading.Thread(target=stub.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        stub.server.shutdown()
        stub.server.server_close()
