"""The plans pages and the reviewer's decisions: approve and reject, as `planactor approve`."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from consoletools import TOKEN, plan_doc, save, write_steps
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from planactor._home import home
from planactor.console._plans import Rejection
from planactor.policy import KeyStore

_HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _hash(client: TestClient, name: str = "write.json") -> str:
    m = re.search(r'id="plan-hash">([^<]+)<', client.get(f"/plans/{name}").text)
    assert m is not None
    return m.group(1)


def _approve(client: TestClient, identity: str, plan_hash: str, name: str = "write.json") -> Any:
    return client.post(
        f"/plans/{name}/approve",
        data={"token": TOKEN, "plan_hash": plan_hash, "identity": identity, "expires": "4h"},
    )


def _approvals(path: Path) -> list[dict[str, object]]:
    return list(json.loads(path.read_text()).get("approvals", []))


def test_the_list_shows_each_plan_with_its_verdict(client: TestClient, plans: Path) -> None:
    """Hash, intent, requester, validity, policy verdict and approvals; an invalid file too."""
    (plans / "broken.json").write_text('{"api_version": "planactor/v1"')
    page = client.get("/plans").text
    row = page[page.index('data-plan="write.json"') :]
    row = row[: row.index("</tr>")]
    assert "sha256:" in row
    assert "write the ledger" in row
    assert "alice" in row
    assert "valid" in row
    assert "needs 1 approval(s)" in row
    assert "0 of 1" in row
    broken = page[page.index('data-plan="broken.json"') :]
    assert "invalid" in broken[: broken.index("</tr>")]


def test_the_plan_page_shows_steps_badges_dag_and_policy(client: TestClient) -> None:
    """Each step with its effect badge and arguments, the drawn DAG, and the policy's rules."""
    page = client.get("/plans/write.json").text
    assert page.count('<g class="node') == 5
    assert 'class="badge kind-write"' in page
    assert 'class="badge kind-read"' in page
    assert "&#34;ledger ok&#34;" in page or "&quot;ledger ok&quot;" in page
    assert "irreversible-needs-ticket" in page
    assert "may not run yet" in page


def test_html_in_intent_arguments_and_names_is_escaped(client: TestClient, plans: Path) -> None:
    """A plan's intent, requester-visible values and file name are shown as text, never markup."""
    doc = plan_doc(
        [{"id": "e", "actor": "core.echo", "args": {"message": _HOSTILE}}], intent=_HOSTILE
    )
    name = '<i onclick="go()">x.json'
    save(plans / name, doc)
    listing = client.get("/plans").text
    page = client.get(f"/plans/{quote(name)}").text
    for text in (listing, page):
        assert "<script>alert" not in text
        assert "<img src=x" not in text
        assert "<i onclick" not in text
    assert "&lt;script&gt;alert(" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_reviewer_approves_with_their_key(client: TestClient, plans: Path) -> None:
    """bob's approval is signed, written into the file, and the plan may run."""
    response = _approve(client, "bob", _hash(client))
    assert response.status_code == 303
    approvals = _approvals(plans / "write.json")
    assert [a["identity"] for a in approvals] == ["bob"]
    page = client.get(response.headers["location"]).text
    assert "approved as bob" in page
    assert "may run now" in page
    assert "✓" in page


def test_the_requester_cannot_approve_their_own_plan(client: TestClient, plans: Path) -> None:
    """Separation of duties, with the message `planactor approve` gives; nothing written."""
    response = _approve(client, "alice", _hash(client))
    assert response.status_code == 400
    assert "separation of duties" in response.text
    assert _approvals(plans / "write.json") == []


def test_the_plans_own_planner_cannot_approve(client: TestClient, plans: Path) -> None:
    """A key named as the plan's planner is a machine identity here, and is refused."""
    KeyStore().new("carol")
    doc = plan_doc(write_steps(plans / "l.jsonl"), planner={"backend": "carol"})
    save(plans / "machine.json", doc)
    response = _approve(client, "carol", _hash(client, "machine.json"), "machine.json")
    assert response.status_code == 400
    assert "planner never approves" in response.text
    assert _approvals(plans / "machine.json") == []


def test_an_approver_without_a_key_here_is_refused(client: TestClient, plans: Path) -> None:
    """Only keys in the local store can sign; a made-up name is bad input."""
    response = _approve(client, "mallory", _hash(client))
    assert response.status_code == 400
    assert _approvals(plans / "write.json") == []


def test_a_plan_changed_since_the_page_was_shown_is_not_approved(
    client: TestClient, plans: Path
) -> None:
    """The hash in the form is re-checked: an edited file is refused (409), unapproved."""
    shown = _hash(client)
    doc = json.loads((plans / "write.json").read_text())
    doc["steps"][2]["args"]["item"] = "b"
    save(plans / "write.json", doc)
    response = _approve(client, "bob", shown)
    assert response.status_code == 409
    assert "changed since the page was shown" in response.text
    assert _approvals(plans / "write.json") == []


def test_a_rejection_is_recorded_signed_with_its_reason(client: TestClient, plans: Path) -> None:
    """bob's rejection names the reason, verifies under bob's key, and shows on both pages."""
    plan_hash = _hash(client)
    response = client.post(
        "/plans/write.json/reject",
        data={"token": TOKEN, "plan_hash": plan_hash, "identity": "bob", "reason": "wrong <item>"},
    )
    assert response.status_code == 303
    lines = (home() / "console" / "rejections.jsonl").read_text().splitlines()
    record = Rejection(**json.loads(lines[0]))
    assert record.plan_hash == plan_hash
    assert record.reason == "wrong <item>"
    public = KeyStore().trusted()["bob"].key
    public.verify(base64.b64decode(record.signature), record.payload())  # raises if forged
    page = client.get("/plans/write.json").text
    assert "rejected by bob" in page
    assert "wrong &lt;item&gt;" in page
    assert "rejected" in client.get("/plans").text


def test_a_rejection_needs_a_reason_and_a_reviewer_who_is_not_the_requester(
    client: TestClient,
) -> None:
    """No reason, or the requester rejecting their own plan: 400 and nothing recorded."""
    plan_hash = _hash(client)
    empty = client.post(
        "/plans/write.json/reject",
        data={"token": TOKEN, "plan_hash": plan_hash, "identity": "bob", "reason": "  "},
    )
    assert empty.status_code == 400
    assert "needs a reason" in empty.text
    own = client.post(
        "/plans/write.json/reject",
        data={"token": TOKEN, "plan_hash": plan_hash, "identity": "alice", "reason": "no"},
    )
    assert own.status_code == 400
    assert not (home() / "console" / "rejections.jsonl").exists()


def test_the_diff_against_another_plan_for_the_same_intent(client: TestClient, plans: Path) -> None:
    """A re-planned version shows the changed argument, old and new, escaped."""
    doc = json.loads((plans / "write.json").read_text())
    doc["steps"][2]["args"]["item"] = "<new>"
    save(plans / "write-v2.json", doc)
    save(plans / "other.json", plan_doc(write_steps(plans / "x"), intent="something else"))
    page = client.get("/plans/write-v2.json?against=write.json").text
    diff = page[page.index('id="diff"') :]
    assert "1 step changed" in diff
    assert "args.item" in diff
    assert "&#34;a&#34;" in diff or "&quot;a&quot;" in diff
    assert "&lt;new&gt;" in diff
    assert "other.json" not in page[page.index('name="against"') : page.index('id="diff"')]


def test_a_name_outside_the_folder_is_refused(client: TestClient) -> None:
    """Only files directly in the plans folder: a path that climbs out is bad input."""
    response = client.get("/plans/..%2F..%2Fetc%2Fpasswd")
    assert response.status_code in (400, 404)
    assert "root:" not in response.text


def test_grounding_and_coverage_notes_are_shown(client: TestClient, plans: Path) -> None:
    """Where each value came from, what was left out, and the routines considered, escaped."""
    planner = {
        "backend": "routine",
        "grounding": [
            {"param": "array", "value": "<a1>", "source": "inventory", "detail": "the only one"}
        ],
        "not_planned": [{"clause": "and <reboot> it", "reason": "no routine reboots"}],
        "candidates": [{"routine": "storage.rebalance", "score": 3.5}],
        "routine_chosen_by": "score",
    }
    save(plans / "noted.json", plan_doc(write_steps(plans / "l"), planner=planner))
    page = client.get("/plans/noted.json").text
    grounding = page[page.index('id="grounding"') :]
    assert "&lt;a1&gt;" in grounding
    assert "inventory" in grounding
    assert "the only one" in grounding
    coverage = page[page.index('id="coverage"') :]
    assert "not planned: “and &lt;reboot&gt; it” (no routine reboots)" in coverage
    assert "storage.rebalance" in coverage


def test_a_validity_the_form_does_not_offer_is_refused(client: TestClient, plans: Path) -> None:
    """A hand-made request asking for ten years is bad input, not a silent default."""
    response = client.post(
        "/plans/write.json/approve",
        data={"token": TOKEN, "plan_hash": _hash(client), "identity": "bob", "expires": "3650d"},
    )
    assert response.status_code == 400
    assert "not one the form offers" in response.text
    assert _approvals(plans / "write.json") == []


def test_a_private_key_that_is_not_the_trusted_one_does_not_sign(
    client: TestClient, plans: Path
) -> None:
    """As `approve`: bob's .key replaced by another key is refused; nothing is written."""
    other = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (KeyStore().directory / "bob.key").write_bytes(other)
    response = _approve(client, "bob", _hash(client))
    assert response.status_code == 400
    assert "not the key trusted here" in response.text
    assert _approvals(plans / "write.json") == []
