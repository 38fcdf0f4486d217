"""Renderings of an audit record: Markdown (tickets, wikis), self-contained HTML, JSON.

Every value that came from a user, a plan or an actor is escaped: Markdown gets entities and
backslashes (a table cell cannot be broken out of), HTML goes through `html.escape`. The HTML
page carries its CSS inline and loads nothing. Sections answer the auditor's questions in
order: who asked, what was approved, who approved, what ran, and whether the record holds.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from planactor.journal._audit import AuditRecord, StepAudit
from planactor.plan import StepKind, dependencies

__all__ = ["audit_html", "audit_json", "audit_markdown"]

KindOf = Callable[[str], StepKind]

_KIND_LABEL: dict[StepKind, str] = {
    "read": "read",
    "write": "write",
    "irreversible": "write, irreversible",
    "unknown": "unknown actor",
}


# -- a small neutral form of the content, shared by Markdown and HTML ----------------------------


@dataclass(frozen=True, slots=True)
class _V:
    """A value to show: plain text, code (ids, hashes, JSON) or a verdict badge."""

    text: str
    kind: Literal["text", "code", "ok", "bad", "dim"] = "text"


Row = Sequence[_V]


def _t(value: object) -> _V:
    return _V("–" if value is None or value == "" else str(value))


def _c(value: object) -> _V:
    return _V("–", "dim") if value is None else _V(str(value), "code")


def _j(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.3f} s"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _summary(r: AuditRecord) -> list[tuple[str, _V]]:
    head = r.head
    status = r.status
    if r.stored_status != r.status:
        status += f" (the run's row says {r.stored_status})"
    return [
        ("Run", _c(r.run_id)),
        ("Intent", _t(r.intent)),
        ("Requested by", _t(r.requested_by)),
        ("Change ticket", _t(r.ticket)),
        ("Plan hash", _c(r.plan_hash)),
        ("Final state", _V(status, "ok" if r.status == "succeeded" else "bad")),
        ("Reason", _t(r.reason)),
        ("Dry run", _t(_yes(r.dry_run))),
        ("Started", _t(r.started_at)),
        ("Ended", _t(r.ended_at or "not ended")),
        ("Duration", _t(_dur(r.duration_s))),
        ("Events", _t(len(r.events))),
        ("Chain head", _c(head) if head else _V("none: the chain does not verify", "bad")),
    ]


def _planner(r: AuditRecord) -> list[tuple[str, _V]]:
    p = r.planner
    if p is None:
        return []
    rows = [(k.replace("_", " "), _t(v) if k != "prompt_hash" else _c(v)) for k, v in p.items()]
    return [(k, v) for k, v in rows if v.text not in ("–",) or k in ("backend", "model")]


def _policy(r: AuditRecord) -> list[tuple[str, _V]]:
    a = r.authorization
    if a is None:
        return []
    pol = a.get("policy") if isinstance(a.get("policy"), dict) else {}
    assert isinstance(pol, dict)
    rules = a.get("rules")
    return [
        ("Policy", _t(pol.get("name"))),
        ("Policy hash", _c(pol.get("hash"))),
        ("Policy source", _t(pol.get("source"))),
        ("Checked at", _t(a.get("checked_at"))),
        ("Approvers required", _t(a.get("approvers_required"))),
        ("Ticket at the check", _t(a.get("ticket"))),
        ("Rules applied", _t(", ".join(map(str, rules)) if isinstance(rules, list) else None)),
    ]


_APPROVAL_COLS = (
    "#",
    "approver",
    "key",
    "approved at",
    "expires at",
    "ticket",
    "comment",
    "at run start",
    "verified now",
)


def _approvals(r: AuditRecord) -> list[Row]:
    rows: list[Row] = []
    for a in r.approvals:
        d = a.document
        key = str(d.get("key_id", ""))
        verdict = _V(a.verdict, "ok" if a.verdict == "valid" else ("bad" if not a.ok else "dim"))
        rows.append(
            [
                _t(a.index + 1),
                _t(a.identity),
                _c(key[:23] + "…" if len(key) > 24 else key),
                _t(d.get("approved_at")),
                _t(d.get("expires_at")),
                _t(d.get("ticket")),
                _t(d.get("comment")),
                _V(a.recorded, "ok" if a.recorded == "valid" else "dim"),
                verdict,
            ]
        )
    return rows


def _plan_cols(kind_of: KindOf | None) -> tuple[str, ...]:
    cols = ["#", "step", "actor", "after", "args", "on failure"]
    if kind_of is not None:
        cols.insert(3, "effect")
    return tuple(cols)


def _plan_rows(r: AuditRecord, kind_of: KindOf | None) -> list[Row]:
    rows: list[Row] = []
    for i, s in enumerate(r.plan.steps):
        extra = []
        if s.when is not None:
            extra.append("when " + _compact(s.when.to_document()))
        if s.retry is not None:
            extra.append(f"retry ×{s.retry.attempts}")
        if s.timeout_s is not None:
            extra.append(f"timeout {s.timeout_s:g}s")
        row = [
            _t(i),
            _c(s.id),
            _c(s.actor),
            _t(", ".join(dependencies(s)) or "–"),
            _c(_compact(s.args)),
            _t(" · ".join([s.on_failure, *extra])),
        ]
        if kind_of is not None:
            row.insert(3, _t(_KIND_LABEL[kind_of(s.actor)]))
        rows.append(row)
    return rows


_ATTEMPT_COLS = ("try", "started", "ended", "duration", "outcome", "detail")


def _attempt_rows(s: StepAudit) -> list[Row]:
    rows: list[Row] = []
    for a in s.attempts:
        detail = ""
        if a.error:
            detail = f"{a.error.get('kind', 'error')}: {a.error.get('message', '')}"
        elif a.note:
            detail = a.note
        if a.retry_delay_s is not None:
            detail = f"retry after {a.retry_delay_s:g}s" + (f"; {detail}" if detail else "")
        rows.append(
            [
                _t(a.attempt),
                _t(f"#{a.started_seq} {a.started_at}"),
                _t(f"#{a.ended_seq} {a.ended_at}" if a.ended_seq is not None else "no result"),
                _t(_dur(a.duration_s)),
                _V(a.outcome, "ok" if a.outcome == "succeeded" else "bad"),
                _t(detail or None),
            ]
        )
    return rows


_COMP_COLS = ("compensating actor", "started", "ended", "duration", "outcome", "error")


def _comp_rows(s: StepAudit) -> list[Row]:
    return [
        [
            _c(c.actor),
            _t(f"#{c.started_seq} {c.started_at}"),
            _t(f"#{c.ended_seq} {c.ended_at}" if c.ended_seq is not None else "no result"),
            _t(_dur(c.duration_s)),
            _V(c.outcome, "ok" if c.outcome == "succeeded" else "bad"),
            _t(f"{c.error.get('kind')}: {c.error.get('message')}" if c.error else None),
        ]
        for c in s.compensations
    ]


def _step_facts(s: StepAudit) -> list[tuple[str, _V]]:
    keys = {a.idempotency_key for a in s.attempts if a.idempotency_key}
    facts = [
        ("Actor", _c(s.actor)),
        ("After", _t(", ".join(s.after) or None)),
        ("On failure", _t(s.on_failure)),
        ("Final state", _V(s.state, _state_kind(s.state))),
    ]
    if keys:
        facts.append(("Idempotency key", _c(", ".join(sorted(keys)))))
    if s.skipped:
        facts.append(("Skipped because", _t(s.skipped)))
    return facts


def _state_kind(state: str) -> Literal["ok", "bad", "dim"]:
    if state in ("succeeded",):
        return "ok"
    if state in ("skipped", "not run"):
        return "dim"
    return "bad"


def _inputs(s: StepAudit) -> list[tuple[str, Any]]:
    """The inputs of the first try, and of each later try whose inputs differ."""
    shown: list[tuple[str, Any]] = []
    first: Any = None
    for i, a in enumerate(s.attempts):
        if i == 0:
            first = a.inputs
            shown.append(("Inputs (resolved)", a.inputs))
        elif a.inputs != first:
            shown.append((f"Inputs of try {a.attempt}", a.inputs))
    return shown


_INTERRUPT_COLS = ("#", "at", "what", "step", "detail")


def _interrupt_rows(r: AuditRecord) -> list[Row]:
    return [
        [
            _t(i.seq),
            _t(i.at),
            _V(i.kind, "bad" if i.kind == "paused" else "ok"),
            _c(i.step),
            _c(_compact(i.detail) if i.detail else None),
        ]
        for i in r.interruptions
    ]


_EVENT_COLS = ("#", "at", "type", "step", "try", "hash")


def _event_rows(r: AuditRecord) -> list[Row]:
    bad = {f.seq for f in r.findings if f.check == "chain"}
    return [
        [
            _V(str(e.seq), "bad" if e.seq in bad else "text"),
            _t(e.at),
            _c(e.type),
            _c(e.step),
            _t(e.attempt),
            _c(e.hash),
        ]
        for e in r.events
    ]


def _verdict_line(r: AuditRecord) -> tuple[bool, str]:
    if r.ok:
        n = sum(1 for a in r.approvals if a.recorded == "valid")
        return True, (
            f"the hash chain of {len(r.events)} events recomputes"
            + (f" and matches {len(r.anchors)} anchor(s)" if r.anchors else "")
            + ", the stored plan is the plan the run started with, and "
            + (f"{n} approval(s) that authorized it verify" if n else "no approval was recorded")
        )
    first = r.findings[0]
    return False, f"first at {first.where}: {first.message}"


def _reverify(r: AuditRecord) -> str:
    head = r.head
    anchor = f" --anchor {head}" if head else ""
    return f"planactor audit verify {r.run_id}{anchor}"


# -- Markdown ------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


# Characters that some tools read as line breaks, and other invisible controls: shown as
# \uXXXX, so a value can neither break a table row nor hide text from the reader.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _visible(text: str, backslash: str) -> str:
    return _CONTROL.sub(lambda m: f"{backslash}u{ord(m.group()):04x}", text)


_NEWLINE = re.compile(r"\r\n|\r|\n")
_CODE_NEWLINE = re.compile(r"\s*[\r\n]+\s*")
_BACKTICKS = re.compile(r"`+")
_PLAIN = re.compile(r"[A-Za-z0-9 .,:;/@+=()'\"-]*")  # nothing to escape: the common case


def _md_text(text: str) -> str:
    if _PLAIN.fullmatch(text):
        return text
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _visible(_NEWLINE.sub("<br>", text), "\\\\")


def _md_code(text: str) -> str:
    if not _PLAIN.fullmatch(text):
        text = _CODE_NEWLINE.sub(" ", text).replace("|", "\\|")
        text = _visible(text, "\\")
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_v(v: _V) -> str:
    if v.kind == "code":
        return _md_code(v.text)
    if v.kind == "ok":
        return f"**{_md_text(v.text)}**"
    if v.kind == "bad":
        return f"**{_md_text(v.text)}** ⚠"
    return _md_text(v.text)


def _md_table(cols: Sequence[str], rows: Sequence[Row]) -> list[str]:
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_md_v(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _md_facts(facts: Sequence[tuple[str, _V]]) -> list[str]:
    return _md_table(("", ""), [[_V(k), v] for k, v in facts])


def _md_fence(body: str, lang: str = "json") -> list[str]:
    longest = max((len(m) for m in re.findall(r"`{3,}", body)), default=2)
    fence = "`" * (longest + 1)
    return [f"{fence}{lang}", body, fence, ""]


def audit_markdown(record: AuditRecord, *, kind_of: KindOf | None = None) -> str:
    """The audit report as Markdown; `kind_of` adds each step's effect (from the catalog)."""
    r = record
    ok, line = _verdict_line(r)
    out = [f"# Audit report: run {_md_code(r.run_id)}", ""]
    out += [f"**Integrity: {'VERIFIED' if ok else 'FAILED'}**: {_md_text(line)}", ""]
    if len(r.findings) > 1:
        out += [f"- {_md_text(f'[{f.check}] {f.where}: {f.message}')}" for f in r.findings]
        out.append("")
    out += _md_facts(_summary(r))

    out += ["## 1. Who asked", ""]
    out += _md_facts(
        [
            ("Requested by", _t(r.requested_by)),
            ("Intent", _t(r.intent)),
            ("Change ticket", _t(r.ticket)),
            ("Plan created by", _t(r.planner["backend"] if r.planner else "a person (no planner)")),
        ]
    )
    planner = _planner(r)
    if planner:
        out += [
            "Planner metadata (recorded in the run's first event, under the hash chain; "
            "not part of the plan hash):"
            if r.planner_chained
            else "Planner metadata (kept with the stored plan; not covered by the plan hash):",
            "",
        ]
        out += _md_facts(planner)

    out += ["## 2. What was approved", ""]
    out += [
        f"Plan {_md_code(r.plan_hash)}, {len(r.plan.steps)} step(s). The hash covers the "
        "intent, requester, ticket, inputs and every step exactly as listed here.",
        "",
    ]
    out += _md_table(_plan_cols(kind_of), _plan_rows(r, kind_of))
    if r.plan.inputs:
        out += ["Plan inputs:", "", *_md_fence(_j(r.plan.inputs))]

    out += ["## 3. Who approved", ""]
    if r.authorization is None:
        out += [
            "No authorization was recorded: the run started without a policy check "
            "(for example `planactor run --yes`).",
            "",
        ]
    else:
        out += _md_facts(_policy(r))
        if r.approvals:
            out += _md_table(_APPROVAL_COLS, _approvals(r))
            out += [
                "*At run start*: the verdict recorded when the run was authorized. "
                "*Verified now*: signature, trusted key and plan hash checked again, expiry "
                "judged at the recorded check time.",
                "",
            ]
        else:
            out += ["No approvals were recorded.", ""]

    out += ["## 4. What ran", ""]
    out += _md_facts(
        [
            ("Started", _t(r.started_at)),
            ("Ended", _t(r.ended_at or "not ended")),
            ("Duration", _t(_dur(r.duration_s))),
            ("Parallelism", _t(r.parallel)),
            ("Dry run", _t(_yes(r.dry_run))),
            ("Final state", _V(r.status, "ok" if r.status == "succeeded" else "bad")),
            ("Reason", _t(r.reason)),
        ]
    )
    for s in r.steps:
        out += [f"### Step {_md_code(s.id)}: {_md_text(s.state)}", ""]
        out += _md_facts(_step_facts(s))
        if s.attempts:
            out += _md_table(_ATTEMPT_COLS, _attempt_rows(s))
        for label, value in _inputs(s):
            out += [f"{label}:", "", *_md_fence(_j(value))]
        if s.output is not None:
            out += ["Output:", "", *_md_fence(_j(s.output))]
        if s.compensations:
            out += ["Compensation:", "", *_md_table(_COMP_COLS, _comp_rows(s))]
    out += ["### Pauses and resumes", ""]
    if r.interruptions:
        out += _md_table(_INTERRUPT_COLS, _interrupt_rows(r))
    else:
        out += ["None: the run was never paused.", ""]

    out += ["## 5. Event log", ""]
    out += [
        "Each hash is `sha256(previous hash || canonical JSON of the event)`, from 64 zeros.",
        "",
    ]
    out += _md_table(_EVENT_COLS, _event_rows(r))

    out += ["## 6. Integrity", ""]
    out += _md_facts(_integrity(r))
    for f in r.findings:
        out.append(f"- **{_md_text(f.check)}**, {_md_text(f.where)}: {_md_text(f.message)}")
    if r.findings:
        out.append("")
    out += ["Verify again, against the head kept elsewhere:", "", *_md_fence(_reverify(r), "sh")]
    return "\n".join(out).rstrip("\n") + "\n"


def _integrity(r: AuditRecord) -> list[tuple[str, _V]]:
    head = r.head
    return [
        ("Verdict", _V("verified", "ok") if r.ok else _V("FAILED", "bad")),
        ("Hash chain", _V("intact", "ok") if r.chain.ok else _V("broken", "bad")),
        ("First bad event", _t(r.chain.first_bad_seq if not r.chain.ok else None)),
        ("Chain head (anchor)", _c(head) if head else _V("none", "bad")),
        ("Anchors checked", _t(", ".join(str(a) for a in r.anchors) or "none given")),
        ("Approvals re-checked", _t(len(r.approvals))),
    ]


# -- HTML ----------------------------------------------------------------------------------------

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#1b1b1b;background:#fff}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
h3{margin-top:1.6rem}table{border-collapse:collapse;margin:.6rem 0 1rem;width:100%}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.k{width:14rem;color:#555}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
pre{background:#f7f7f7;border:1px solid #e5e5e5;padding:.6rem;white-space:pre-wrap}
.ok{color:#1b5e20;font-weight:600}.bad{color:#b71c1c;font-weight:600}.dim{color:#777}
.banner{padding:.8rem 1rem;border-radius:4px;margin:1rem 0}
.banner.ok{background:#e8f5e9;border:1px solid #2e7d32}
.banner.bad{background:#ffebee;border:1px solid #c62828}
@media print{body{margin:0;max-width:none}pre{white-space:pre-wrap}}
"""


def _h(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_v(v: _V) -> str:
    if v.kind == "code":
        return f"<code>{_h(v.text)}</code>"
    if v.kind in ("ok", "bad", "dim"):
        return f'<span class="{v.kind}">{_h(v.text)}</span>'
    return _h(v.text)


def _html_table(cols: Sequence[str], rows: Sequence[Row]) -> list[str]:
    out = ["<table><thead><tr>" + "".join(f"<th>{_h(c)}</th>" for c in cols) + "</tr></thead>"]
    out.append("<tbody>")
    out += ["<tr>" + "".join(f"<td>{_html_v(v)}</td>" for v in row) + "</tr>" for row in rows]
    out.append("</tbody></table>")
    return out


def _html_facts(facts: Sequence[tuple[str, _V]]) -> list[str]:
    rows = [f'<tr><td class="k">{_h(k)}</td><td>{_html_v(v)}</td></tr>' for k, v in facts]
    return ["<table><tbody>", *rows, "</tbody></table>"]


def _html_pre(label: str, body: str) -> list[str]:
    return [f"<p>{_h(label)}</p>", f"<pre>{_h(body)}</pre>"]


def audit_html(record: AuditRecord, *, kind_of: KindOf | None = None) -> str:
    """The audit report as one self-contained HTML page (inline CSS, no scripts, no links)."""
    r = record
    ok, line = _verdict_line(r)
    cls = "ok" if ok else "bad"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # Defence in depth: even a value that slipped past escaping could load or run nothing.
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Audit report: run {_h(r.run_id)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Audit report: run <code>{_h(r.run_id)}</code></h1>",
        f'<div class="banner {cls}"><strong>Integrity: {"VERIFIED" if ok else "FAILED"}</strong>'
        f": {_h(line)}</div>",
    ]
    if len(r.findings) > 1:
        out.append("<ul>")
        out += [f"<li>[{_h(f.check)}] {_h(f.where)}: {_h(f.message)}</li>" for f in r.findings]
        out.append("</ul>")
    out += _html_facts(_summary(r))

    out.append("<h2>1. Who asked</h2>")
    out += _html_facts(
        [
            ("Requested by", _t(r.requested_by)),
            ("Intent", _t(r.intent)),
            ("Change ticket", _t(r.ticket)),
            ("Plan created by", _t(r.planner["backend"] if r.planner else "a person (no planner)")),
        ]
    )
    planner = _planner(r)
    if planner:
        out.append(
            "<p>Planner metadata (recorded in the run's first event, under the hash chain; "
            "not part of the plan hash):</p>"
            if r.planner_chained
            else "<p>Planner metadata (kept with the stored plan; not covered by the plan "
            "hash):</p>"
        )
        out += _html_facts(planner)

    out.append("<h2>2. What was approved</h2>")
    out.append(
        f"<p>Plan <code>{_h(r.plan_hash)}</code>, {len(r.plan.steps)} step(s). The hash covers "
        "the intent, requester, ticket, inputs and every step exactly as listed here.</p>"
    )
    out += _html_table(_plan_cols(kind_of), _plan_rows(r, kind_of))
    if r.plan.inputs:
        out += _html_pre("Plan inputs:", _j(r.plan.inputs))

    out.append("<h2>3. Who approved</h2>")
    if r.authorization is None:
        out.append(
            "<p>No authorization was recorded: the run started without a policy check "
            "(for example <code>planactor run --yes</code>).</p>"
        )
    else:
        out += _html_facts(_policy(r))
        if r.approvals:
            out += _html_table(_APPROVAL_COLS, _approvals(r))
            out.append(
                "<p><em>At run start</em>: the verdict recorded when the run was authorized. "
                "<em>Verified now</em>: signature, trusted key and plan hash checked again, "
                "expiry judged at the recorded check time.</p>"
            )
        else:
            out.append("<p>No approvals were recorded.</p>")

    out.append("<h2>4. What ran</h2>")
    out += _html_facts(
        [
            ("Started", _t(r.started_at)),
            ("Ended", _t(r.ended_at or "not ended")),
            ("Duration", _t(_dur(r.duration_s))),
            ("Parallelism", _t(r.parallel)),
            ("Dry run", _t(_yes(r.dry_run))),
            ("Final state", _V(r.status, "ok" if r.status == "succeeded" else "bad")),
            ("Reason", _t(r.reason)),
        ]
    )
    for s in r.steps:
        out.append(
            f'<h3>Step <code>{_h(s.id)}</code>: <span class="{_state_kind(s.state)}">'
            f"{_h(s.state)}</span></h3>"
        )
        out += _html_facts(_step_facts(s))
        if s.attempts:
            out += _html_table(_ATTEMPT_COLS, _attempt_rows(s))
        for label, value in _inputs(s):
            out += _html_pre(f"{label}:", _j(value))
        if s.output is not None:
            out += _html_pre("Output:", _j(s.output))
        if s.compensations:
            out.append("<p>Compensation:</p>")
            out += _html_table(_COMP_COLS, _comp_rows(s))
    out.append("<h3>Pauses and resumes</h3>")
    if r.interruptions:
        out += _html_table(_INTERRUPT_COLS, _interrupt_rows(r))
    else:
        out.append("<p>None: the run was never paused.</p>")

    out.append("<h2>5. Event log</h2>")
    out.append(
        "<p>Each hash is <code>sha256(previous hash || canonical JSON of the event)</code>, "
        "from 64 zeros.</p>"
    )
    out += _html_table(_EVENT_COLS, _event_rows(r))

    out.append("<h2>6. Integrity</h2>")
    out += _html_facts(_integrity(r))
    if r.findings:
        out.append("<ul>")
        out += [
            f'<li><span class="bad">{_h(f.check)}</span>, {_h(f.where)}: {_h(f.message)}</li>'
            for f in r.findings
        ]
        out.append("</ul>")
    out += _html_pre("Verify again, against the head kept elsewhere:", _reverify(r))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# -- JSON ----------------------------------------------------------------------------------------


def audit_json(record: AuditRecord) -> str:
    """The audit record as JSON (format `planactor-audit/v1`), every event included."""
    return json.dumps(record.to_json(), indent=2, ensure_ascii=False) + "\n"
