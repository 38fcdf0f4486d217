"""The review console (`planactor serve`): plans to review, approve or reject, runs to
start and watch, and their audit, in the browser. A Starlette application with
server-rendered templates; every asset ships in this package (no CDN, no build step).
See docs/console.md."""

from planactor.console._app import ConsoleSettings, create_app
from planactor.console._auth import new_token
from planactor.console._server import Server, is_loopback

__all__ = ["ConsoleSettings", "Server", "create_app", "is_loopback", "new_token"]
