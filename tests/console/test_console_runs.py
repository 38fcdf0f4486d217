"""Starting runs through `planactor run`'s gate, watching them, and their audit."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from consoletools import TOKEN, plan_doc, save
from starlette.testclient import TestClient

from planactor._home import home
from planactor.journal import Journal


def _hash(client: TestClient, name: str = "write.json") -> str:
    m = re.search(r'id="plan-hash">([^<]+)<', client.get(f"/plans/{name}").text)
    assert m is not None
    return m.group(1)


def _approve(client: TestClient, name: str = "write.json") -> str:
    plan_hash = _hash(client, name)
    response = client.post(
        f"/plans/{name}/approve",
        data={"token": TOKEN, "plan_hash": plan_hash, "identity": "bob", "expires": "4h"},
    )
    assert response.status_code == 303
    return plan_hash


def _start(client: TestClient, plan_hash: str, name: str = "write.json") -> Any:
    return client.post(f"/plans/{name}/run", data={"token": TOKEN, "plan_hash": plan_hash})


def _until_done(client: TestClient, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = client.get(f"/runs/{run_id}/status.json")
        if response.status_code == 200:  # 503: the run's process held the journal; again
            doc: dict[str, Any] = response.json()
            if doc["done"]:
                return doc
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish")


def test_an_approved_plan_runs_and_every_step_succeeds(client: TestClient, tmp_path: Path) -> None:
    """Start from the page: a real `planactor run`; the run page's status ends succeeded."""
    plan_hash = _approve(client)
    response = _start(client, plan_hash)
    assert response.status_code == 303
    run_id = response.headers["location"].rsplit("/", 1)[1]
    doc = _until_done(client, run_id)
    assert doc["status"] == "succeeded"
    assert {s["state"] for s in doc["steps"]} == {"succeeded"}
    assert len((tmp_path / "ledger.jsonl").read_text().splitlines()) == 1
    page = client.get(f"/runs/{run_id}").text
    assert 'data-state="succeeded"' in page
    assert run_id in client.get("/runs").text


def test_the_gate_refuses_an_unapproved_plan(client: TestClient, tmp_path: Path) -> None:
    """No approval: `planactor run` says why (exit 3), the console shows it, nothing runs."""
    response = _start(client, _hash(client))
    assert response.status_code == 409
    assert "needs 1 approval(s)" in response.text
    assert "exited 3" in response.text
    assert not (tmp_path / "ledger.jsonl").exists()


def test_a_run_is_not_started_from_a_stale_page(client: TestClient, plans: Path) -> None:
    """The plan hash in the form is re-checked before the run starts."""
    _approve(client)
    response = _start(client, "sha256:" + "0" * 64)
    assert response.status_code == 409
    assert "changed since the page was shown" in response.text
    assert not (home() / "journal.db").exists()


def test_a_paused_run_shows_its_reason_and_the_way_on(client: TestClient, plans: Path) -> None:
    """A run that pauses shows the reason, the recover and resume commands, and links the
    remediation plan for it once one is in the folder."""
    steps = [{"id": "look", "actor": "testing.unexpected", "args": {"message": "<odd> state"}}]
    save(plans / "odd.json", plan_doc(steps, intent="look around"))
    response = _start(client, _approve(client, "odd.json"), "odd.json")
    assert response.status_code == 303, response.text
    run_id = response.headers["location"].rsplit("/", 1)[1]
    doc = _until_done(client, run_id)
    assert doc["status"] == "paused"
    assert "<odd> state" in doc["reason"]
    page = client.get(f"/runs/{run_id}").text
    assert "&lt;odd&gt; state" in page
    assert f"planactor recover {run_id}" in page
    assert f"planactor resume {run_id}" in page
    fix = [{"id": "fix", "actor": "core.echo", "args": {"message": "fixed"}}]
    save(plans / "fix.json", plan_doc(fix, intent="fix it", recovers=run_id))
    assert 'href="/plans/fix.json" class="remedy"' in client.get(f"/runs/{run_id}").text
    assert f'href="/runs/{run_id}" id="recovers"' in client.get("/plans/fix.json").text


def test_the_audit_page_verifies_the_run_and_gives_its_anchor(client: TestClient) -> None:
    """The record holds, the anchor is the journal's head, and the report is served alone."""
    response = _start(client, _approve(client))
    run_id = response.headers["location"].rsplit("/", 1)[1]
    _until_done(client, run_id)
    page = client.get(f"/runs/{run_id}/audit").text
    assert "the record holds" in page
    with Journal(home() / "journal.db", create=False) as journal:
        seq, head = journal.head(run_id)
    assert f"{run_id}@{seq}:{head}" in page
    report = client.get(f"/runs/{run_id}/audit.html")
    assert report.status_code == 200
    assert "default-src 'none'" in report.headers["content-security-policy"]
    assert run_id in report.text


def test_an_unknown_run_is_bad_input(client: TestClient) -> None:
    """A run id the journal does not hold is named, not a server error."""
    _start(client, _approve(client))  # makes the journal
    response = client.get("/runs/no-such-run")
    assert response.status_code == 400
    assert "no-such-run" in response.text


def test_the_status_document_is_json_and_not_cached(client: TestClient) -> None:
    """The live view polls a JSON document the browser must not cache."""
    response = _start(client, _approve(client))
    run_id = response.headers["location"].rsplit("/", 1)[1]
    status = client.get(f"/runs/{run_id}/status.json")
    assert status.headers["cache-control"] == "no-store"
    assert json.loads(status.text)["run_id"] == run_id
    _until_done(client, run_id)
