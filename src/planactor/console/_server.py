"""Serving the console: bind first (so port 0 picks a free port and the URL is known), then
let uvicorn serve on that socket. `Server.stop` ends it from another thread (tests)."""

from __future__ import annotations

import ipaddress
import socket
import threading

import uvicorn
from starlette.applications import Starlette

__all__ = ["Server", "is_loopback"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Server:
    """One console bound to `host:port` (port 0: any free port)."""

    def __init__(self, app: Starlette, *, host: str = "127.0.0.1", port: int = 0) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        # Listening from here on: a browser opened on the printed URL waits in the backlog
        # until uvicorn accepts, rather than being refused.
        self.socket.listen(128)
        self.host = host
        self.port: int = self.socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def url(self, token: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/plans?token={token}"

    def serve(self) -> None:
        """Serve until interrupted (Ctrl-C) or stopped."""
        self._server.run(sockets=[self.socket])

    def start(self) -> None:
        """Serve in a background thread; return once it answers."""
        self._thread = threading.Thread(target=self.serve, daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the console server ended at start")
            threading.Event().wait(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.socket.close()
