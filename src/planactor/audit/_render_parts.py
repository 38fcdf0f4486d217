"""The content of an audit report in a small neutral form (facts, tables, verdict badges),
shared by the Markdown and HTML renderings so that both say exactly the same things."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from planactor.audit._record import AuditRecord, KindOf, StepAudit
from planactor.journal import EventKind
from planactor.plan import StepKind, dependencies

__all__ = [
    "APPROVAL_COLS",
    "ATTEMPT_COLS",
    "COMP_COLS",
    "EVENT_COLS",
    "INTERRUPT_COLS",
    "Cell",
    "KindOf",
    "Row",
    "approval_rows",
    "attempt_rows",
    "comp_rows",
    "compact",
    "duration",
    "event_rows",
    "inputs_shown",
    "integrity_facts",
    "interrupt_rows",
    "mono",
    "plain",
    "plan_cols",
    "plan_rows",
    "planner_facts",
    "policy_facts",
    "pretty",
    "reverify_command",
    "state_kind",
    "step_facts",
    "summary_facts",
    "verdict_line",
    "who_asked_facts",
    "yes_no",
]

_KIND_LABEL: dict[StepKind, str] = {
    "read": "read",
    "write": "write",
    "irreversible": "write, irreversible",
    "unknown": "unknown actor",
}


@dataclass(frozen=True, slots=True)
class Cell:
    """A value to show: plain text, code (ids, hashes, JSON) or a verdict badge."""

    text: str
    kind: Literal["text", "code", "ok", "bad", "dim"] = "text"


Row = Sequence[Cell]


def plain(value: object) -> Cell:
    return Cell("–" if value is None or value == "" else str(value))


def mono(value: object) -> Cell:
    return Cell("–", "dim") if value is None else Cell(str(value), "code")


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.3f} s"


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def who_asked_facts(r: AuditRecord) -> list[tuple[str, Cell]]:
    """Section 1 of every report: who asked for what, under which ticket, planned by what."""
    return [
        ("Requested by", plain(r.requested_by)),
        ("Intent", plain(r.intent)),
        ("Change ticket", plain(r.ticket)),
        ("Plan created by", plain(r.planner["backend"] if r.planner else "a person (no planner)")),
    ]


def summary_facts(r: AuditRecord) -> list[tuple[str, Cell]]:
    head = r.head
    status = r.status
    if r.stored_status != r.status:
        status += f" (the run's row says {r.stored_status})"
    return [
        ("Run", mono(r.run_id)),
        ("Intent", plain(r.intent)),
        ("Requested by", plain(r.requested_by)),
        ("Change ticket", plain(r.ticket)),
        ("Plan hash", mono(r.plan_hash)),
        ("Final state", Cell(status, "ok" if r.status == "succeeded" else "bad")),
        ("Reason", plain(r.reason)),
        ("Dry run", plain(yes_no(r.dry_run))),
        ("Started", plain(r.started_at)),
        ("Ended", plain(r.ended_at or "not ended")),
        ("Duration", plain(duration(r.duration_s))),
        ("Events", plain(len(r.events))),
        ("Chain head", mono(head) if head else Cell("none: the chain does not verify", "bad")),
    ]


def planner_facts(r: AuditRecord) -> list[tuple[str, Cell]]:
    p = r.planner
    if p is None:
        return []
    rows = [
        (k.replace("_", " "), plain(v) if k != "prompt_hash" else mono(v)) for k, v in p.items()
    ]
    return [(k, v) for k, v in rows if v.text not in ("–",) or k in ("backend", "model")]


def policy_facts(r: AuditRecord) -> list[tuple[str, Cell]]:
    a = r.authorization
    if a is None:
        return []
    pol = a.get("policy") if isinstance(a.get("policy"), dict) else {}
    assert isinstance(pol, dict)
    rules = a.get("rules")
    return [
        ("Policy", plain(pol.get("name"))),
        ("Policy hash", mono(pol.get("hash"))),
        ("Policy source", plain(pol.get("source"))),
        ("Shipped default", _shipped(r)),
        ("Checked at", plain(a.get("checked_at"))),
        ("Approvers required", plain(a.get("approvers_required"))),
        ("Ticket at the check", plain(a.get("ticket"))),
        ("Rules applied", plain(", ".join(map(str, rules)) if isinstance(rules, list) else None)),
    ]


def _shipped(r: AuditRecord) -> Cell:
    """Whether the policy in force was the shipped default: by hash, whatever its name."""
    p = r.policy
    same = p.is_shipped_default if p is not None else None
    if same is None:
        return Cell("unknown: no policy hash to compare", "dim")
    if same:
        return Cell("yes: its hash is the shipped default's", "ok")
    claim = " although it is named 'default'" if p is not None and p.name == "default" else ""
    return Cell(f"no{claim}: its hash differs from the shipped default's", "bad")


APPROVAL_COLS = (
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


def approval_rows(r: AuditRecord) -> list[Row]:
    rows: list[Row] = []
    for a in r.approvals:
        d = a.document
        key = str(d.get("key_id", ""))
        verdict = Cell(a.verdict, "ok" if a.verdict == "valid" else ("bad" if not a.ok else "dim"))
        rows.append(
            [
                plain(a.index + 1),
                plain(a.identity),
                mono(key[:23] + "…" if len(key) > 24 else key),
                plain(d.get("approved_at")),
                plain(d.get("expires_at")),
                plain(d.get("ticket")),
                plain(d.get("comment")),
                Cell(a.recorded, "ok" if a.recorded == "valid" else "dim"),
                verdict,
            ]
        )
    return rows


def plan_cols(kind_of: KindOf | None) -> tuple[str, ...]:
    cols = ["#", "step", "actor", "after", "args", "on failure"]
    if kind_of is not None:
        cols.insert(3, "effect")
    return tuple(cols)


def plan_rows(r: AuditRecord, kind_of: KindOf | None) -> list[Row]:
    rows: list[Row] = []
    for i, s in enumerate(r.plan.steps):
        extra = []
        if s.when is not None:
            extra.append("when " + compact(s.when.to_document()))
        if s.retry is not None:
            extra.append(f"retry ×{s.retry.attempts}")
        if s.timeout_s is not None:
            extra.append(f"timeout {s.timeout_s:g}s")
        row = [
            plain(i),
            mono(s.id),
            mono(s.actor),
            plain(", ".join(dependencies(s)) or "–"),
            mono(compact(s.args)),
            plain(" · ".join([s.on_failure, *extra])),
        ]
        if kind_of is not None:
            row.insert(3, plain(_KIND_LABEL[kind_of(s.actor)]))
        rows.append(row)
    return rows


ATTEMPT_COLS = ("try", "started", "ended", "duration", "outcome", "detail")


def attempt_rows(s: StepAudit) -> list[Row]:
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
                plain(a.attempt),
                plain(f"#{a.started_seq} {a.started_at}"),
                plain(f"#{a.ended_seq} {a.ended_at}" if a.ended_seq is not None else "no result"),
                plain(duration(a.duration_s)),
                Cell(a.outcome, "ok" if a.outcome == "succeeded" else "bad"),
                plain(detail or None),
            ]
        )
    return rows


COMP_COLS = ("compensating actor", "started", "ended", "duration", "outcome", "error")


def comp_rows(s: StepAudit) -> list[Row]:
    return [
        [
            mono(c.actor),
            plain(f"#{c.started_seq} {c.started_at}"),
            plain(f"#{c.ended_seq} {c.ended_at}" if c.ended_seq is not None else "no result"),
            plain(duration(c.duration_s)),
            Cell(c.outcome, "ok" if c.outcome == "succeeded" else "bad"),
            plain(f"{c.error.get('kind')}: {c.error.get('message')}" if c.error else None),
        ]
        for c in s.compensations
    ]


def step_facts(s: StepAudit) -> list[tuple[str, Cell]]:
    keys = {a.idempotency_key for a in s.attempts if a.idempotency_key}
    facts = [
        ("Actor", mono(s.actor)),
        ("After", plain(", ".join(s.after) or None)),
        ("On failure", plain(s.on_failure)),
        ("Final state", Cell(s.state, state_kind(s.state))),
    ]
    if keys:
        facts.append(("Idempotency key", mono(", ".join(sorted(keys)))))
    if s.skipped:
        facts.append(("Skipped because", plain(s.skipped)))
    return facts


def state_kind(state: str) -> Literal["ok", "bad", "dim"]:
    if state in ("succeeded",):
        return "ok"
    if state in ("skipped", "not run"):
        return "dim"
    return "bad"


def inputs_shown(s: StepAudit) -> list[tuple[str, Any]]:
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


INTERRUPT_COLS = ("#", "at", "what", "step", "detail")


def interrupt_rows(r: AuditRecord) -> list[Row]:
    return [
        [
            plain(i.seq),
            plain(i.at),
            Cell(i.kind, "bad" if i.kind == "paused" else "ok"),
            mono(i.step),
            mono(compact(i.detail) if i.detail else None),
        ]
        for i in r.interruptions
    ]


EVENT_COLS = ("#", "at", "type", "step", "try", "hash")


def event_rows(r: AuditRecord) -> list[Row]:
    bad = {f.seq for f in r.findings if f.check in ("chain", "sequence")}
    return [
        [
            Cell(str(e.seq), "bad" if e.seq in bad else "text"),
            plain(e.at),
            mono(e.type),
            mono(e.step),
            plain(e.attempt),
            mono(e.hash),
        ]
        for e in r.events
    ]


def verdict_line(r: AuditRecord) -> tuple[bool, str]:
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


def reverify_command(r: AuditRecord) -> str:
    head = r.head
    anchor = f" --anchor {head}" if head else ""
    return f"planactor audit verify {r.run_id}{anchor}"


def integrity_facts(r: AuditRecord) -> list[tuple[str, Cell]]:
    head = r.head
    return [
        ("Verdict", Cell("verified", "ok") if r.ok else Cell("FAILED", "bad")),
        ("Hash chain", Cell("intact", "ok") if r.chain.ok else Cell("broken", "bad")),
        ("First bad event", plain(r.chain.first_bad_seq if not r.chain.ok else None)),
        ("Chain head (anchor)", mono(head) if head else Cell("none", "bad")),
        ("Anchors checked", plain(", ".join(str(a) for a in r.anchors) or "none given")),
        ("Approvals re-checked", plain(len(r.approvals))),
        ("Outside the chain", plain(", ".join(r.outside_chain) or "nothing the report shows")),
    ]


TRANSCRIPT_COLS = ("#", "turn", "what", "detail")
LLM_CALL_COLS = ("#", "step", "try", "skill", "model", "tokens", "prompt", "raw output")


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def transcript_rows(r: AuditRecord) -> list[Row]:
    """An ask's transcript: each model turn, each observation, the answer (`ask.*` events)."""
    rows: list[Row] = []
    for e in r.events:
        d = e.data
        if e.type == EventKind.ASK_TURN:
            what = str(d.get("choice"))
            if d.get("choice") == "action":
                detail = f"{d.get('action')} {compact(d.get('args', {}))}"
            elif d.get("choice") == "invalid":
                detail = f"{d.get('problem')}; raw: {d.get('raw')}"
            else:
                detail = f"raw: {d.get('raw')}"
            rows.append([plain(e.seq), plain(d.get("turn")), plain(what), mono(_clip(detail))])
        elif e.type == EventKind.ASK_OBSERVATION:
            seen = d.get("error") or compact(d.get("output"))
            detail = f"[{d.get('id')}] {d.get('actor')} {d.get('status')} (run {d.get('run', '-')})"
            rows.append(
                [plain(e.seq), plain(None), plain("observation"), mono(_clip(f"{detail}: {seen}"))]
            )
        elif e.type == EventKind.ASK_ANSWER:
            detail = f"{d.get('answer')} (cites {', '.join(d.get('cites', [])) or 'nothing'})"
            if d.get("reason"):
                detail += f"; {d.get('reason')}"
            rows.append(
                [
                    plain(e.seq),
                    plain(None),
                    Cell(str(d.get("verdict")), "ok" if d.get("verdict") == "supported" else "bad"),
                    plain(_clip(detail, 400)),
                ]
            )
    return rows


def llm_call_rows(r: AuditRecord) -> list[Row]:
    """Every LLM skill call (`step.llm_call`): probabilistic output, recorded for replay."""
    return [
        [
            plain(e.seq),
            mono(e.step),
            plain(e.attempt),
            mono(e.data.get("skill")),
            plain(f"{e.data.get('backend')} {e.data.get('model')}"),
            plain(f"{e.data.get('tokens_in')}/{e.data.get('tokens_out')}"),
            plain(_clip(str(e.data.get("prompt", "")))),
            mono(_clip(str(e.data.get("raw", "")))),
        ]
        for e in r.events
        if e.type == EventKind.LLM_CALL
    ]


def model_sections(r: AuditRecord) -> list[tuple[str, tuple[str, ...], list[Row]]]:
    """(heading, columns, rows) of what models said in this run: an ask's transcript and
    the LLM skills' calls; only those with rows. Both renderers print them the same way."""
    sections = [
        ("Transcript (ask: read-only)", TRANSCRIPT_COLS, transcript_rows(r)),
        (
            "Model calls (LLM skills: probabilistic output, replayed as recorded)",
            LLM_CALL_COLS,
            llm_call_rows(r),
        ),
    ]
    return [(title, cols, rows) for title, cols, rows in sections if rows]
