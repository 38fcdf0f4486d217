"""planactor.testing's forgeries: each is one only an audit can catch, not a broken file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from planactor import InputError, Plan, testing
from planactor.engine import Engine
from planactor.journal import Journal
from planactor.policy import PublicKey, judge, key_id_of, sign
from planactor.testing import forge_approval, rewrite_chain, sql

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _plan() -> Plan:
    return Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "say hi",
            "requested_by": "alice",
            "steps": [{"id": "e", "actor": "core.echo", "args": {"message": "hi"}}],
        }
    )


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, str]:
    """A journal file holding one finished run of _plan(), and that run's id."""
    db = tmp_path / "journal.db"
    journal = Journal(db)
    try:
        run_id = Engine(catalog=testing.catalog(), journal=journal).run(_plan()).run_id
    finally:
        journal.close()
    return db, run_id


def _verify(db: Path, run_id: str, anchor: tuple[int, str] | None = None) -> bool:
    journal = Journal(db)
    try:
        return journal.verify(run_id, anchor=anchor).ok
    finally:
        journal.close()


def test_sql_edits_the_file_behind_planactors_back(recorded: tuple[Path, str]) -> None:
    """A body changed with sql() alone breaks the hash chain: the journal sees it."""
    db, run_id = recorded
    sql(db, "UPDATE events SET body = replace(body, 'hi', 'ho') WHERE run_id = ?", run_id)
    assert not _verify(db, run_id)


def test_rewrite_chain_edits_bodies_and_rehashes_so_only_an_anchor_catches_it(
    recorded: tuple[Path, str],
) -> None:
    """Every body passes through `edit`; the chain and head are recomputed, so the chain alone
    verifies, and an anchor taken before the forgery does not."""
    db, run_id = recorded
    journal = Journal(db)
    try:
        anchor = journal.head(run_id)
        before = [e.type for e in journal.events(run_id)]
    finally:
        journal.close()
    seen: list[str] = []

    def edit(body: dict[str, Any]) -> None:
        seen.append(body["type"])
        body["at"] = "2020-01-01T00:00:00.000000+00:00"

    rewrite_chain(db, run_id, edit)
    assert seen == before
    assert _verify(db, run_id)
    assert not _verify(db, run_id, anchor=anchor)
    journal = Journal(db)
    try:
        assert {e.at[:4] for e in journal.events(run_id)} == {"2020"}
    finally:
        journal.close()


def test_forge_approval_signs_what_sign_refuses() -> None:
    """The requester cannot sign their own plan with sign(); the forgery is signed anyway,
    correctly, so only the policy's judgement refuses it."""
    plan, key = _plan(), Ed25519PrivateKey.generate()
    with pytest.raises(InputError):
        sign(plan, identity="alice", key=key, now=NOW, valid_for=timedelta(hours=1))
    approval = forge_approval(plan, "alice", key, now=NOW)
    assert approval.plan_hash == plan.hash
    assert approval.key_id == key_id_of(key.public_key())
    public = key.public_key()
    trusted = {
        "alice": PublicKey(
            identity="alice", key_id=key_id_of(public), key=public, path=Path("alice.pub")
        )
    }
    verdict = judge(approval, plan=plan, plan_hash=plan.hash, trusted=trusted, now=NOW)
    assert verdict.code == "self-approval"
