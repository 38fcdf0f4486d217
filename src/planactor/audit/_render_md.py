"""The audit report as Markdown, for a ticket or a wiki. Every value that came from a user, a
plan or an actor is escaped with entities and backslashes, so a table cell cannot be broken
out of and control characters are shown, not obeyed."""

from __future__ import annotations

import re
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
    step_facts,
    summary_facts,
    verdict_line,
    who_asked_facts,
    yes_no,
)

__all__ = ["audit_markdown"]


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


def _md_v(v: Cell) -> str:
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


def _md_facts(facts: Sequence[tuple[str, Cell]]) -> list[str]:
    return _md_table(("", ""), [[Cell(k), v] for k, v in facts])


def _md_fence(body: str, lang: str = "json") -> list[str]:
    longest = max((len(m) for m in re.findall(r"`{3,}", body)), default=2)
    fence = "`" * (longest + 1)
    return [f"{fence}{lang}", body, fence, ""]


def audit_markdown(record: AuditRecord, *, kind_of: KindOf | None = None) -> str:
    """The audit report as Markdown; `kind_of` adds each step's effect (from the catalog)."""
    r = record
    ok, line = verdict_line(r)
    out = [f"# Audit report: run {_md_code(r.run_id)}", ""]
    out += [f"**Integrity: {'VERIFIED' if ok else 'FAILED'}**: {_md_text(line)}", ""]
    if len(r.findings) > 1:
        out += [f"- {_md_text(f'[{f.check}] {f.where}: {f.message}')}" for f in r.findings]
        out.append("")
    if r.notes:
        out += [f"**Note**: {_md_text(n)}" for n in r.notes]
        out.append("")
    out += _md_facts(summary_facts(r))

    out += ["## 1. Who asked", ""]
    out += _md_facts(who_asked_facts(r))
    planner = planner_facts(r)
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
    out += _md_table(plan_cols(kind_of), plan_rows(r, kind_of))
    if r.plan.inputs:
        out += ["Plan inputs:", "", *_md_fence(pretty(r.plan.inputs))]

    out += ["## 3. Who approved", ""]
    if r.authorization is None:
        out += [
            "No authorization was recorded: the run started without a policy check "
            "(for example `planactor run --yes`).",
            "",
        ]
    else:
        out += _md_facts(policy_facts(r))
        if r.approvals:
            out += _md_table(APPROVAL_COLS, approval_rows(r))
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
        out += [f"### Step {_md_code(s.id)}: {_md_text(s.state)}", ""]
        out += _md_facts(step_facts(s))
        if s.attempts:
            out += _md_table(ATTEMPT_COLS, attempt_rows(s))
        for label, value in inputs_shown(s):
            out += [f"{label}:", "", *_md_fence(pretty(value))]
        if s.output is not None:
            out += ["Output:", "", *_md_fence(pretty(s.output))]
        if s.compensations:
            out += ["Compensation:", "", *_md_table(COMP_COLS, comp_rows(s))]
    out += ["### Pauses and resumes", ""]
    if r.interruptions:
        out += _md_table(INTERRUPT_COLS, interrupt_rows(r))
    else:
        out += ["None: the run was never paused.", ""]
    for title, cols, rows in model_sections(r):
        out += [f"### {title}", ""]
        out += _md_table(cols, rows)

    out += ["## 5. Event log", ""]
    out += [
        "Each hash is `sha256(previous hash || canonical JSON of the event)`, from 64 zeros.",
        "",
    ]
    out += _md_table(EVENT_COLS, event_rows(r))

    out += ["## 6. Integrity", ""]
    out += _md_facts(integrity_facts(r))
    for f in r.findings:
        out.append(f"- **{_md_text(f.check)}**, {_md_text(f.where)}: {_md_text(f.message)}")
    if r.findings:
        out.append("")
    out += [
        "Verify again, against the head kept elsewhere:",
        "",
        *_md_fence(reverify_command(r), "sh"),
    ]
    return "\n".join(out).rstrip("\n") + "\n"
