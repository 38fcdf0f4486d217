"""The console's one secret: a token in the URL (as Jupyter's), then in a cookie.

Every request needs the token: `?token=...`, the cookie set when the URL was first opened, or
an `Authorization: token ...` header; without it the answer is 401. A form that changes
something (approve, reject, start a run) must carry the token in its body as well: the
cookie is `SameSite=Strict` and a page on another site cannot read the token, so a forged
cross-site request is refused either way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["TokenGate", "cookie_name", "new_token", "require_form_token"]


def new_token() -> str:
    return secrets.token_urlsafe(24)


def cookie_name(token: str) -> str:
    # Consoles on other ports of the same host share cookies: each token has its own name.
    return "planactor_console_" + hashlib.sha256(token.encode()).hexdigest()[:10]


def _same(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


class TokenGate:
    """ASGI middleware: 401 without the token; sets the cookie when it came in the URL."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self.token = token
        self.cookie = cookie_name(token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        in_url = request.query_params.get("token")
        header = request.headers.get("authorization", "")
        given = [in_url, request.cookies.get(self.cookie)]
        if header.lower().startswith("token "):
            given.append(header[6:].strip())
        if not any(_same(g, self.token) for g in given):
            response = PlainTextResponse(
                "401 Unauthorized: this console needs its token; open the URL that "
                "`planactor serve` printed (it ends with ?token=...)\n",
                status_code=401,
            )
            await response(scope, receive, send)
            return
        if not _same(in_url, self.token):
            await self.app(scope, receive, send)
            return
        cookie = f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def require_form_token(form: FormData, token: str) -> None:
    """403 unless the form carries the token (a change needs more than the cookie)."""
    value = form.get("token")
    if not isinstance(value, str) or not _same(value, token):
        raise HTTPException(
            403, "403 Forbidden: the form did not carry this console's token; reload the page"
        )
