"""The console's web application: Starlette routes over server-rendered Jinja2 templates.

Handlers are thin: reading and deciding live in `_plans` and `_runs`, drawing in `_svg`.
Templates escape every value (autoescape); the only markup passed through is the SVG the
console draws itself, whose texts `_svg` escaped. Nothing is fetched from another origin.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from planactor import __version__
from planactor._errors import InputError, LaunchRefused, PlanactorError, PlanChanged
from planactor.audit import ANCHOR_FORMAT, audit_html, audit_run, verify_run
from planactor.catalog import Catalog
from planactor.console import _plans, _runs
from planactor.console._auth import TokenGate, require_form_token
from planactor.console._svg import dag_svg
from planactor.journal import Journal
from planactor.plan import StepKind
from planactor.policy import KeyStore, RulePolicy, load_policy

__all__ = ["ConsoleSettings", "create_app"]

_TOKEN = re.compile(r"[A-Za-z0-9._~-]{16,200}")
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)
# The audit report carries its own inline styles and no script (audit/_render_html.py).
_AUDIT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleSettings:
    """What one console serves: a plans folder, a journal, the policy, keys and a token."""

    plans: Path
    token: str
    journal: Path
    policy_file: Path | None = None
    lab: Path | None = None
    keys: Path | None = None  # default: $PLANACTOR_HOME/keys
    graphviz: bool = True  # draw with `dot` when it is installed

    def __post_init__(self) -> None:
        if not _TOKEN.fullmatch(self.token):
            raise InputError(
                "the console token must be 16 to 200 characters of letters, digits, '.', "
                "'_', '~' or '-'",
                hint="or leave --token out for a random one",
            )
        if not self.plans.is_dir():
            raise InputError(
                f"--plans {self.plans} is not a folder", hint="name the folder of plan files"
            )


class _Console:
    """The handlers, with what they share: settings, catalog, templates, the launcher."""

    def __init__(self, settings: ConsoleSettings, catalog: Catalog) -> None:
        self.s = settings
        self.catalog = catalog
        self.kind_of: Callable[[str], StepKind] = _plans.kinds(catalog)
        env = Environment(
            loader=PackageLoader("planactor.console", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )
        env.filters["pretty"] = lambda v: json.dumps(v, indent=2, ensure_ascii=False)
        env.filters["compact"] = lambda v: json.dumps(v, ensure_ascii=False)
        env.filters["short"] = lambda h: (h or "")[:19] + "…"
        self.templates = Jinja2Templates(env=env)
        self.launcher = _runs.Launcher(
            journal=settings.journal, policy=settings.policy_file, lab=settings.lab
        )

    # -- shared ---------------------------------------------------------------------------

    def keys(self) -> KeyStore:
        return KeyStore(directory=self.s.keys)

    def policy(self) -> RulePolicy:
        return load_policy(self.s.policy_file)

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.update(token=self.s.token, version=__version__, plans_dir=str(self.s.plans))
        response = self.templates.TemplateResponse(request, name, context, status_code=status)
        response.headers["content-security-policy"] = _CSP
        response.headers["x-content-type-options"] = "nosniff"
        response.headers["referrer-policy"] = "no-referrer"
        return response

    def entry(self, name: str) -> _plans.PlanEntry:
        return _plans.read_entry(
            self.s.plans, name, catalog=self.catalog, policy=self.policy(), keys=self.keys()
        )

    async def form(self, request: Request) -> dict[str, str]:
        form = await request.form()
        require_form_token(form, self.s.token)
        return {k: v for k, v in form.items() if isinstance(v, str)}

    # -- plans ----------------------------------------------------------------------------

    def plans(self, request: Request) -> Response:
        entries = _plans.list_plans(
            self.s.plans, catalog=self.catalog, policy=self.policy(), keys=self.keys()
        )
        return self.page(request, "plans.html", entries=entries)

    def plan(self, request: Request) -> Response:
        name = request.path_params["name"]
        entry = self.entry(name)
        others = _plans.list_plans(
            self.s.plans, catalog=self.catalog, policy=self.policy(), keys=self.keys()
        )
        same, base, diff = _plans.diff_against(entry, others, request.query_params.get("against"))
        # Markup: the console's own drawing, whose every text `_svg` escaped.
        svg = (
            Markup(dag_svg(entry.plan, self.kind_of, graphviz=self.s.graphviz))
            if entry.plan is not None
            else None
        )
        runs = [r for r in _runs.list_runs(self.s.journal) if r.plan_hash == entry.hash]
        return self.page(
            request,
            "plan.html",
            entry=entry,
            svg=svg,
            kind_of=self.kind_of,
            same=same,
            base=base,
            diff=diff,
            reviewers=_plans.reviewers(self.keys(), requester=entry.plan.requested_by)
            if entry.plan is not None
            else [],
            expiries=list(_plans.EXPIRIES),
            runs=runs,
            notice=request.query_params.get("notice"),
        )

    async def approve(self, request: Request) -> Response:
        name = request.path_params["name"]
        form = await self.form(request)
        expires = _plans.EXPIRIES.get(form.get("expires", "24h"))
        if expires is None:
            raise InputError(
                f"validity {form.get('expires')!r} is not one the form offers",
                hint=f"one of {', '.join(_plans.EXPIRIES)}",
            )
        approval = await run_in_threadpool(
            _plans.approve_plan,
            self.s.plans,
            name,
            expected_hash=form.get("plan_hash", ""),
            identity=form.get("identity", ""),
            expires=expires,
            ticket=form.get("ticket", "").strip() or None,
            comment=form.get("comment", "").strip() or None,
            catalog=self.catalog,
            policy=self.policy(),
            keys=self.keys(),
        )
        return _back(request, name, f"approved as {approval.identity}")

    async def reject(self, request: Request) -> Response:
        name = request.path_params["name"]
        form = await self.form(request)
        rejection = await run_in_threadpool(
            _plans.reject_plan,
            self.s.plans,
            name,
            expected_hash=form.get("plan_hash", ""),
            identity=form.get("identity", ""),
            reason=form.get("reason", ""),
            catalog=self.catalog,
            policy=self.policy(),
            keys=self.keys(),
        )
        return _back(request, name, f"rejected by {rejection.identity}")

    async def start_run(self, request: Request) -> Response:
        name = request.path_params["name"]
        form = await self.form(request)
        entry = await run_in_threadpool(self.entry, name)
        shown = form.get("plan_hash", "")
        if entry.hash != shown:
            raise PlanChanged(
                f"{name} changed since the page was shown (you saw {shown[:19]}…)",
                hint="reload the plan page and review the plan as it is now",
            )
        run_id = await run_in_threadpool(
            self.launcher.start, entry.path, plan_hash=shown, dry_run=form.get("dry_run") == "1"
        )
        return RedirectResponse(request.url_for("run", run_id=run_id).path, status_code=303)

    # -- runs -----------------------------------------------------------------------------

    def runs(self, request: Request) -> Response:
        return self.page(request, "runs.html", runs=_runs.list_runs(self.s.journal))

    def _journal(self) -> Journal:
        journal = _runs.open_journal(self.s.journal)
        if journal is None:
            raise HTTPException(404, f"no journal yet at {self.s.journal}: no run has started")
        return journal

    def _view(self, run_id: str) -> _runs.RunView:
        with self._journal() as journal:
            return _runs.run_view(journal, run_id, kind_of=self.kind_of, runs=journal.runs())

    def run(self, request: Request) -> Response:
        view = self._view(request.path_params["run_id"])
        svg = Markup(dag_svg(view.record.plan, self.kind_of, graphviz=False))
        # Remediation plans waiting in the folder (`planactor recover -o DIR/fix.json`).
        remedies = [
            e
            for e in _plans.list_plans(
                self.s.plans, catalog=self.catalog, policy=self.policy(), keys=self.keys()
            )
            if e.plan is not None and e.plan.recovers == view.record.run_id
        ]
        return self.page(
            request,
            "run.html",
            view=view,
            svg=svg,
            remedies=remedies,
            journal=str(self.s.journal),
        )

    def run_status(self, request: Request) -> Response:
        view = self._view(request.path_params["run_id"])
        return JSONResponse(view.to_document(), headers={"cache-control": "no-store"})

    def audit(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        with self._journal() as journal:
            verification = verify_run(
                journal, run_id, trusted=self.keys().trusted(), kind_of=self.kind_of
            )
            seq, head = journal.head(run_id)
        anchor = f"{run_id}@{seq}:{head}"
        return self.page(
            request,
            "audit.html",
            run_id=run_id,
            verification=verification,
            anchor=anchor,
            anchor_format=ANCHOR_FORMAT,
        )

    def audit_report(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        with self._journal() as journal:
            record = audit_run(journal, run_id, trusted=self.keys().trusted(), kind_of=self.kind_of)
        return HTMLResponse(
            audit_html(record, kind_of=self.kind_of),
            headers={"content-security-policy": _AUDIT_CSP, "x-content-type-options": "nosniff"},
        )

    # -- errors ---------------------------------------------------------------------------

    async def failed(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PlanactorError)
        status = 409 if isinstance(exc, (PlanChanged, LaunchRefused)) else 400
        return self.page(request, "error.html", status=status, error=exc)

    async def journal_busy(self, request: Request, exc: Exception) -> Response:
        # A run's process may hold the journal for a moment longer than sqlite waits.
        error = HTTPException(503, f"the journal could not be read just now ({exc}); reload")
        return self.page(request, "error.html", status=503, error=error)

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return self.page(request, "error.html", status=exc.status_code, error=exc)


def _back(request: Request, name: str, notice: str) -> Response:
    path = request.url_for("plan", name=name).path
    return RedirectResponse(f"{path}?{urlencode({'notice': notice})}", status_code=303)


def create_app(settings: ConsoleSettings, *, catalog: Catalog | None = None) -> Starlette:
    """The console as an ASGI application, behind its token."""
    console = _Console(settings, catalog if catalog is not None else Catalog.discover())
    static = Path(__file__).with_name("static")
    app = Starlette(
        routes=[
            Route("/", lambda _: RedirectResponse("/plans", status_code=303)),
            Route("/plans", console.plans, name="plans"),
            Route("/plans/{name}", console.plan, name="plan"),
            Route("/plans/{name}/approve", console.approve, methods=["POST"], name="approve"),
            Route("/plans/{name}/reject", console.reject, methods=["POST"], name="reject"),
            Route("/plans/{name}/run", console.start_run, methods=["POST"], name="start_run"),
            Route("/runs", console.runs, name="runs"),
            Route("/runs/{run_id}", console.run, name="run"),
            Route("/runs/{run_id}/status.json", console.run_status, name="run_status"),
            Route("/runs/{run_id}/audit", console.audit, name="audit"),
            Route("/runs/{run_id}/audit.html", console.audit_report, name="audit_report"),
            Mount("/static", app=StaticFiles(directory=static), name="static"),
        ],
        exception_handlers={
            PlanactorError: console.failed,
            HTTPException: console.http_error,
            sqlite3.DatabaseError: console.journal_busy,
        },
    )
    app.state.console = console
    app.add_middleware(TokenGate, token=settings.token)
    return app
