"""Stdlib HTTP servers on 127.0.0.1 that answer what a test tells them to, recording what
they were asked: failures and foreign APIs played over real HTTP for the real SDKs. The
scripted Backend, in process, for what the real model cannot be made to answer on purpose,
is public now (planactor.testing.ScriptedBackend); `Scripted` names it here."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from planactor.testing import ScriptedBackend as Scripted

__all__ = ["FakeServer", "Reply", "Request", "Responder", "Scripted", "start_fake_server"]


@dataclass
class Request:
    method: str
    path: str
    body: Any  # parsed JSON, or the raw bytes when the body is not JSON


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-serialised unless bytes
    content_type: str = "application/json"
    delay_s: float = 0.0


@dataclass
class FakeServer:
    """What a fake server was asked, and its base URL."""

    url: str
    requests: list[Request] = field(default_factory=list)


Responder = Callable[[Request, int], Reply]  # (request, its 0-based number) -> reply


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        request = Request(method=self.command, path=self.path, body=body)
        with self.server.lock:
            n = len(self.server.fake.requests)
            self.server.fake.requests.append(request)
        reply = self.server.respond(request, n)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        out = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("content-type", reply.content_type)
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        except OSError:
            pass  # the client gave up waiting (a timeout test)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeServer, respond: Responder) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self.respond = respond
        self.lock = threading.Lock()


def start_fake_server(respond: Responder) -> tuple[FakeServer, Callable[[], None]]:
    """A running fake server and the function that stops it."""
    fake = FakeServer(url="")
    server = _Server(fake, respond)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return fake, stop
