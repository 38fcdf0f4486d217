"""Kind `http`: one HTTP request per call, the idempotency key as `Idempotency-Key`.

The URL's path and query are templates whose values are percent-encoded (an argument cannot
add a path segment or a query parameter); headers and the JSON body are templates that may
use the pack's secrets. A redirect to another scheme, host or port is refused (a credential
must not follow it elsewhere); one to the same origin is followed. 2xx is success and its
JSON object is the output (declared fields kept); statuses in `retryable_status` (by default
408, 425, 429 and 5xx gateways) and network errors are retryable; every other status is
final. Secrets' values are replaced by `***` in the output and in errors.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from pydantic import BaseModel

from planactor._errors import ActorError
from planactor.actors.kinds._common import (
    Redactor,
    context_values,
    fill,
    fill_value,
    make_output,
    read_secret,
)
from planactor.catalog import ActorContext
from planactor.catalog._pack import declared_values
from planactor.catalog._pack_schema import ActorDecl, HttpRequest, HttpSpec

__all__ = ["bind"]

MAX_RESPONSE_BYTES = 4 << 20
_SNIPPET = 300


class _SameOrigin(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the origin (scheme, host, port) of the first request."""

    def __init__(self, origin: tuple[str, str]) -> None:
        self.origin = origin

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        target = urlsplit(newurl)
        if (target.scheme, target.netloc) != self.origin:
            fp.close()
            raise ActorError(
                f"refused a redirect ({code}) to another origin: {target.scheme}://{target.netloc}",
                hint="point base_url at the API's own address",
                retryable=False,
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _base_url(spec: HttpSpec) -> str:
    if spec.base_url is not None:
        return spec.base_url.rstrip("/")
    assert spec.base_url_env is not None
    base = os.environ.get(spec.base_url_env, "").strip()
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ActorError(
            f"the environment variable {spec.base_url_env} holds no http(s) URL",
            hint=f"export {spec.base_url_env}=https://host[:port]",
            retryable=False,
        )
    return base.rstrip("/")


def _decode(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _request(
    decl: ActorDecl,
    spec: HttpSpec,
    req: HttpRequest,
    folder: Path,
    inp: BaseModel,
    ctx: ActorContext,
    *,
    keyed: bool = True,
) -> tuple[int, Any]:
    """Send one request; (status, decoded body) for a 2xx, else an ActorError."""
    args = declared_values(inp)
    call = context_values(ctx)
    secrets = {name: read_secret(name, ref, folder) for name, ref in spec.secrets.items()}
    redact = Redactor(secrets)
    url = _base_url(spec) + fill(req.path, args, call, encode=lambda s: quote(s, safe=""))
    if req.query:
        url += "?" + urlencode({k: fill(v, args, call) for k, v in req.query.items()})
    headers = {k: fill(v, args, call, secrets) for k, v in req.headers.items()}
    headers.setdefault("Accept", "application/json")
    if keyed:  # not on a dry run's check: a server would replay its answer to the real call
        headers["Idempotency-Key"] = ctx.idempotency_key
    data = None
    if req.body is not None:
        data = json.dumps(fill_value(req.body, args, call, secrets)).encode()
        headers.setdefault("Content-Type", "application/json")
    parts = urlsplit(url)
    shown = f"{req.method} {parts.path}"  # no query, no credentials: this goes in errors
    opener = urllib.request.build_opener(_SameOrigin((parts.scheme, parts.netloc)))
    request = urllib.request.Request(url, data=data, headers=headers, method=req.method)
    try:
        with opener.open(request, timeout=decl.timeout_s or spec.timeout_s) as resp:
            body = resp.read(MAX_RESPONSE_BYTES + 1)
            status = resp.status
    except urllib.error.HTTPError as e:
        with e:
            text = redact.text(e.read(_SNIPPET).decode("utf-8", "replace"))
        raise ActorError(
            f"{decl.name}: {shown} answered {e.code} {redact.text(str(e.reason))}: {text}",
            retryable=e.code in spec.retryable_status,
        ) from None
    except ActorError:
        raise
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise ActorError(
            f"{decl.name}: {shown}: {redact.text(str(reason))}", retryable=True
        ) from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise ActorError(
            f"{decl.name}: {shown}: the response is larger than {MAX_RESPONSE_BYTES:,} bytes",
            retryable=False,
        )
    return status, redact.value(_decode(body))


def bind(
    *, decl: ActorDecl, folder: Path, output_model: type[BaseModel]
) -> tuple[Callable[[BaseModel, ActorContext], BaseModel], Callable[..., Any] | None]:
    """The actor's function and its dry-run check (None without a `check` request)."""
    spec = decl.spec
    assert isinstance(spec, HttpSpec)

    def call(inp: BaseModel, ctx: ActorContext) -> BaseModel:
        status, body = _request(decl, spec, spec, folder, inp, ctx)
        fields: Mapping[str, Any] = body if isinstance(body, dict) else {}
        return make_output(output_model, {**fields, "status": status}, who=decl.name)

    if spec.check is None:
        return call, None
    check_request = spec.check

    def check(inp: BaseModel, ctx: ActorContext) -> dict[str, Any]:
        status, body = _request(decl, spec, check_request, folder, inp, ctx, keyed=False)
        return {"status": status, "response": body}

    return call, check
