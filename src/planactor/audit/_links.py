"""Runs linked to a run: the paused run a remediation run `recovers`, and the runs that
recover it (their plans say `recovers: RUN_ID`, inside their hashes); the read-only runs
`recover` made to look at a paused run (a diagnosis loop, a ticket summary: their first
event says `diagnoses: RUN_ID`, under the chain). An edge like `_read`: it reads the
journal; the report shows the linked runs beside the run it audits."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Literal

from planactor.journal import Journal, RunRecord

__all__ = ["LinkedRun", "Relation", "linked_runs", "links_html", "links_markdown"]

Relation = Literal["recovers", "recovered by", "diagnoses", "diagnosed by"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkedRun:
    run_id: str
    relation: Relation  # what this run is to the audited one
    status: str
    intent: str
    plan_hash: str
    chain_ok: bool

    def to_document(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "relation": self.relation,
            "status": self.status,
            "intent": self.intent,
            "plan_hash": self.plan_hash,
            "chain_ok": self.chain_ok,
        }


def _diagnoses(journal: Journal, run_id: str) -> str | None:
    first = journal.events(run_id, limit=1)
    target = first[0].data.get("diagnoses") if first else None
    return target if isinstance(target, str) else None


def _relation(
    journal: Journal, audited: RunRecord, diagnosed: str | None, r: RunRecord
) -> Relation | None:
    if r.run_id == audited.plan.recovers:
        return "recovers"
    if r.plan.recovers == audited.run_id:
        return "recovered by"
    if r.run_id == diagnosed:
        return "diagnoses"
    # A diagnosis is an ask transcript (no step) or a one-step read: only those are opened.
    if len(r.plan.steps) <= 1 and _diagnoses(journal, r.run_id) == audited.run_id:
        return "diagnosed by"
    return None


def linked_runs(journal: Journal, run_id: str) -> tuple[LinkedRun, ...]:
    """The run this one recovers or diagnoses (if any), then the runs that recover or
    diagnose it, oldest first."""
    record = journal.run(run_id)
    diagnosed = _diagnoses(journal, run_id)
    links: list[LinkedRun] = []
    for r in journal.runs():
        relation = _relation(journal, record, diagnosed, r)
        if relation is None:
            continue
        links.append(
            LinkedRun(
                run_id=r.run_id,
                relation=relation,
                status=r.status,
                intent=r.intent,
                plan_hash=r.plan_hash,
                chain_ok=journal.verify(r.run_id).ok,
            )
        )
    return tuple(sorted(links, key=lambda x: x.relation not in ("recovers", "diagnoses")))


def links_markdown(run_id: str, links: tuple[LinkedRun, ...]) -> str:
    """A `## Linked runs` section (empty text when there are none)."""
    if not links:
        return ""
    rows = [
        f"| {x.run_id} | {run_id} {x.relation} it | {x.status} | "
        f"{'verifies' if x.chain_ok else 'DOES NOT VERIFY'} | {x.intent} |"
        for x in links
    ]
    return (
        "\n## Linked runs\n\n"
        "| run | link | status | journal | intent |\n| --- | --- | --- | --- | --- |\n"
        + "\n".join(rows)
        + "\n\nEach remediation plan names the run it recovers inside its hash "
        "(`recovers`), so its approvals cover the link; a diagnosis names the run it looked "
        "at in its first event (`diagnoses`), under its chain.\n"
    )


def links_html(run_id: str, links: tuple[LinkedRun, ...]) -> str:
    """The same section as HTML (every value escaped; empty text when there are none)."""
    if not links:
        return ""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(x.run_id)}</td><td>{e(run_id)} {e(x.relation)} it</td>"
        f"<td>{e(x.status)}</td><td>{'verifies' if x.chain_ok else 'DOES NOT VERIFY'}</td>"
        f"<td>{e(x.intent)}</td></tr>"
        for x in links
    )
    return (
        "<section><h2>Linked runs</h2><table><tr><th>run</th><th>link</th><th>status</th>"
        f"<th>journal</th><th>intent</th></tr>{rows}</table></section>"
    )
