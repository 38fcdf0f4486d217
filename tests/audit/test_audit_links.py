"""Linked runs in the audit: a remediation and the paused run it recovers, both ways."""

from __future__ import annotations

from pathlib import Path

from planactor.audit import LinkedRun, linked_runs, links_html, links_markdown
from planactor.catalog import Catalog
from planactor.engine import Engine
from planactor.journal import Journal
from planactor.plan import Plan


def _plan(**top: object) -> Plan:
    doc = {"api_version": "planactor/v1", "intent": "say hi", "requested_by": "sam", **top}
    return Plan.model_validate(
        {**doc, "steps": [{"id": "a", "actor": "core.echo", "args": {"message": "hi"}}]}
    )


def test_a_run_and_its_remediation_are_linked_both_ways(tmp_path: Path) -> None:
    """The fix run lists the run it recovers; that run lists the fix run; others none."""
    with Journal(tmp_path / "j.db", create=True) as journal:
        engine = Engine(catalog=Catalog.discover(), journal=journal)
        first = engine.run(_plan())
        other = engine.run(_plan(intent="unrelated"))
        fix = engine.run(_plan(intent="fix it", recovers=first.run_id))
        assert journal.events(fix.run_id)[0].data["recovers"] == first.run_id
        back = linked_runs(journal, first.run_id)
        assert [(x.run_id, x.relation) for x in back] == [(fix.run_id, "recovered by")]
        assert all(x.chain_ok for x in back)
        assert [(x.run_id, x.relation) for x in linked_runs(journal, fix.run_id)] == [
            (first.run_id, "recovers")
        ]
        assert linked_runs(journal, other.run_id) == ()


def test_the_markdown_section_is_empty_without_links() -> None:
    """No linked runs, no section; with one, a table row naming it and its status."""
    assert links_markdown("run-1", ()) == ""
    link = LinkedRun(
        run_id="run-2",
        relation="recovered by",
        status="succeeded",
        intent="fix",
        plan_hash="sha256:0",
        chain_ok=True,
    )
    text = links_markdown("run-1", (link,))
    assert "## Linked runs" in text
    assert "| run-2 | run-1 recovered by it | succeeded | verifies | fix |" in text


def test_the_html_section_escapes_every_value() -> None:
    """An intent such as <script> is shown as text in the HTML section."""
    assert links_html("run-1", ()) == ""
    link = LinkedRun(
        run_id="run-2",
        relation="recovers",
        status="paused",
        intent="<script>x</script>",
        plan_hash="sha256:0",
        chain_ok=False,
    )
    text = links_html("run-1", (link,))
    assert "<h2>Linked runs</h2>" in text
    assert "&lt;script&gt;" in text
    assert "<script>" not in text
    assert "DOES NOT VERIFY" in text
