"""The audit report as one self-contained HTML page: inline CSS, no scripts, no links, and a
Content-Security-Policy that forbids loading anything. Every value goes through `html.escape`."""

from __future__ import annotations

import html
from collections.abc import Sequence

from planactor.audit._record import AuditRecord
from planactor.audit._render_parts import (
    APPROVAL_COLS,
    ATTEMPT_COLS,
    COMP_COLS,
    EVENT_COLS,
    INTERRUPT_COLS,
    Cell,
    KindOf,
    Row,
    approval_rows,
    attempt_rows,
    comp_rows,
    duration,
    event_rows,
    inputs_shown,
    integrity_facts,
    interrupt_rows,
    model_sections,
    plain,
    plan_cols,
    plan_rows,
    planner_facts,
    policy_facts,
    pretty,
    reverify_command,
    state_kind,
    step_facts,
    summary_facts,
    verdict_line,
    who_asked_facts,
    yes_no,
)

__all__ = ["audit_html"]


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


def _html_v(v: Cell) -> str:
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


def _html_facts(facts: Sequence[tuple[str, Cell]]) -> list[str]:
    rows = [f'<tr><td class="k">{_h(k)}</td><td>{_html_v(v)}</td></tr>' for k, v in facts]
    return ["<table><tbody>", *rows, "</tbody></table>"]


def _html_pre(label: str, body: str) -> list[str]:
    return [f"<p>{_h(label)}</p>", f"<pre>{_h(body)}</pre>"]


def audit_html(record: AuditRecord, *, kind_of: KindOf | None = None) -> str:
    """The audit report as one self-contained HTML page (inline CSS, no scripts, no links)."""
    r = record
    ok, line = verdict_line(r)
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
    out += [f'<p class="bad">Note: {_h(n)}</p>' for n in r.notes]
    out += _html_facts(summary_facts(r))

    out.append("<h2>1. Who asked</h2>")
    out += _html_facts(who_asked_facts(r))
    planner = planner_facts(r)
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
    out += _html_table(plan_cols(kind_of), plan_rows(r, kind_of))
    if r.plan.inputs:
        out += _html_pre("Plan inputs:", pretty(r.plan.inputs))

    out.append("<h2>3. Who approved</h2>")
    if r.authorization is None:
        out.append(
            "<p>No authorization was recorded: the run started without a policy check "
            "(for example <code>planactor run --yes</code>).</p>"
        )
    else:
        out += _html_facts(policy_facts(r))
        if r.approvals:
            out += _html_table(APPROVAL_COLS, approval_rows(r))
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
            ("Started", plain(r.started_at)),
            ("Ended", plain(r.ended_at or "not ended")),
            ("Duration", plain(duration(r.duration_s))),
            ("Parallelism", plain(r.parallel)),
            ("Dry run", plain(yes_no(r.dry_run))),
            ("Final state", Cell(r.status, "ok" if r.status == "succeeded" else "bad")),
            ("Reason", plain(r.reason)),
        ]
    )
    for s in r.steps:
        out.append(
            f'<h3>Step <code>{_h(s.id)}</code>: <span class="{state_kind(s.state)}">'
            f"{_h(s.state)}</span></h3>"
        )
        out += _html_facts(step_facts(s))
        if s.attempts:
            out += _html_table(ATTEMPT_COLS, attempt_rows(s))
        for label, value in inputs_shown(s):
            out += _html_pre(f"{label}:", pretty(value))
        if s.output is not None:
            out += _html_pre("Output:", pretty(s.output))
        if s.compensations:
            out.append("<p>Compensation:</p>")
            out += _html_table(COMP_COLS, comp_rows(s))
    out.append("<h3>Pauses and resumes</h3>")
    if r.interruptions:
        out += _html_table(INTERRUPT_COLS, interrupt_rows(r))
    else:
        out.append("<p>None: the run was never paused.</p>")
    for title, cols, rows in model_sections(r):
        out.append(f"<h3>{_h(title)}</h3>")
        out += _html_table(cols, rows)

    out.append("<h2>5. Event log</h2>")
    out.append(
        "<p>Each hash is <code>sha256(previous hash || canonical JSON of the event)</code>, "
        "from 64 zeros.</p>"
    )
    out += _html_table(EVENT_COLS, event_rows(r))

    out.append("<h2>6. Integrity</h2>")
    out += _html_facts(integrity_facts(r))
    if r.findings:
        out.append("<ul>")
        out += [
            f'<li><span class="bad">{_h(f.check)}</span>, {_h(f.where)}: {_h(f.message)}</li>'
            for f in r.findings
        ]
        out.append("</ul>")
    out += _html_pre("Verify again, against the head kept elsewhere:", reverify_command(r))
    out.append("</body></html>")
    return "\n".join(out) + "\n"
