"""`run_actor_once`: one step's call as the engine makes it, for exported plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from planactor._errors import InputError, UnknownActor
from planactor.catalog import Catalog
from planactor.export import SKIPPED_KEY, parse_key, run_actor_once
from planactor.testing import applied_counts, ledger_entries


def test_the_key_is_the_idempotency_key_and_a_second_call_applies_nothing(
    cat: Catalog, tmp_path: Path
) -> None:
    """Two calls with the same RUN_ID/STEP_ID apply the write once; the ledger holds that key."""
    ledger = tmp_path / "ledger.jsonl"
    args = {"ledger": str(ledger), "item": "a"}
    first = run_actor_once(catalog=cat, actor="testing.ledger_write", args=args, key="r1/w1")
    again = run_actor_once(catalog=cat, actor="testing.ledger_write", args=args, key="r1/w1")
    assert (first.verdict, first.output and first.output["applied"]) == ("succeeded", True)
    assert (again.verdict, again.output and again.output["applied"]) == ("succeeded", False)
    assert applied_counts(ledger) == {"r1/w1": 1}


def test_a_key_that_is_not_run_slash_step_is_refused() -> None:
    """A key without a slash, with an empty run id or a malformed step id is exit 2."""
    for bad in ("w1", "/w1", "r1/", "r1/1step", "r1/a.b"):
        with pytest.raises(InputError, match="is not RUN_ID/STEP_ID"):
            parse_key(bad)
    assert parse_key("wf-1/uid/w_1") == ("wf-1/uid", "w_1")


def test_arguments_that_do_not_fit_the_input_model_are_invalid(cat: Catalog) -> None:
    """A missing field is verdict `invalid` (exit 2) naming the field; the actor is not called."""
    result = run_actor_once(catalog=cat, actor="core.echo", args={"mesage": "hi"}, key="r/s")
    assert result.verdict == "invalid"
    assert result.exit_code == 2
    assert result.message is not None
    assert "message" in result.message
    assert result.error_name == "planactor.InvalidInput"


def test_an_unknown_actor_is_refused_with_suggestions(cat: Catalog) -> None:
    """A misspelt actor is UnknownActor (exit 2) with the closest names."""
    with pytest.raises(UnknownActor) as e:
        run_actor_once(catalog=cat, actor="core.ecco", args={}, key="r/s")
    assert "core.echo" in e.value.suggestions


def test_references_resolve_from_refs_and_inputs(cat: Catalog) -> None:
    """`$ref` and `$input` in the arguments take the values handed in, as the engine's."""
    result = run_actor_once(
        catalog=cat,
        actor="core.echo",
        args={"message": {"$ref": "a.output.message"}, "value": {"$input": "n"}},
        key="r/b",
        refs={"a": {"message": "from a", "value": None}},
        inputs={"n": 3},
    )
    assert result.output == {"message": "from a", "value": 3}


def test_a_reference_that_is_not_handed_in_is_invalid(cat: Catalog) -> None:
    """A `$ref` to a step whose output was not passed is `invalid`, saying which."""
    result = run_actor_once(
        catalog=cat, actor="core.echo", args={"message": {"$ref": "a.output.m"}}, key="r/b"
    )
    assert result.verdict == "invalid"
    assert result.message is not None
    assert "a.output.m" in result.message


def test_a_false_condition_skips_and_readers_of_a_skipped_step_skip_too(cat: Catalog) -> None:
    """`when` false skips with the engine's reason; a step reading that output skips as well."""
    skipped = run_actor_once(
        catalog=cat,
        actor="core.echo",
        args={"message": "x"},
        key="r/b",
        refs={"a": {"healthy": False}},
        when={"$ref": "a.output.healthy", "op": "truthy"},
    )
    assert skipped.verdict == "skipped"
    assert skipped.exit_code == 0
    assert skipped.output == {SKIPPED_KEY: "condition `when` is false"}
    reader = run_actor_once(
        catalog=cat,
        actor="core.echo",
        args={"message": {"$ref": "b.output.message"}},
        key="r/c",
        refs={"b": skipped.output},
    )
    assert reader.output == {SKIPPED_KEY: "needs the output of step 'b', which skipped"}


def test_a_true_condition_calls_the_actor(cat: Catalog) -> None:
    """`when` on an input that holds runs the step."""
    result = run_actor_once(
        catalog=cat,
        actor="core.echo",
        args={"message": "go"},
        key="r/b",
        inputs={"mode": "apply"},
        when={"$input": "mode", "op": "eq", "value": "apply"},
    )
    assert result.verdict == "succeeded"


def test_a_malformed_condition_is_bad_input(cat: Catalog) -> None:
    """A `--when` naming neither $ref nor $input is InputError (exit 2)."""
    with pytest.raises(InputError, match="--when is not a condition"):
        run_actor_once(
            catalog=cat, actor="core.echo", args={"message": "x"}, key="r/s", when={"op": "eq"}
        )


def test_failures_are_judged_as_the_engine_judges_them(cat: Catalog, tmp_path: Path) -> None:
    """Retryable error: 75; final error: 1; unexpected state: 4 (a person decides)."""
    counter = str(tmp_path / "n")
    retry = run_actor_once(
        catalog=cat,
        actor="testing.flaky",
        args={"counter": counter, "fail_times": 5},
        key="r/f",
    )
    final = run_actor_once(
        catalog=cat,
        actor="testing.flaky",
        args={"counter": counter, "fail_times": 5, "retryable": False},
        key="r/f",
    )
    decide = run_actor_once(catalog=cat, actor="testing.unexpected", args={}, key="r/u")
    assert [r.exit_code for r in (retry, final, decide)] == [75, 1, 4]
    assert [r.error_name for r in (retry, final, decide)] == [
        "planactor.Retryable",
        "planactor.Failed",
        "planactor.NeedsDecision",
    ]


def test_a_timeout_is_retryable_for_a_read_and_a_decision_for_a_non_idempotent_write(
    cat: Catalog, tmp_path: Path
) -> None:
    """A read past its deadline may be tried again; a write that is not idempotent may have
    applied, so its timeout asks a person (exit 4)."""
    slow = run_actor_once(
        catalog=cat, actor="core.sleep", args={"seconds": 2}, key="r/s", timeout_s=0.05
    )
    assert (slow.verdict, slow.exit_code) == ("retry", 75)
    gate = tmp_path / "never"
    write = run_actor_once(
        catalog=cat,
        actor="exporttest.hang",
        args={"path": str(gate)},
        key="r/w",
        timeout_s=0.05,
    )
    assert (write.verdict, write.exit_code) == ("decide", 4)
    assert write.message is not None
    assert "outcome is unknown" in write.message


def test_a_compensation_runs_with_the_compensate_key_from_input_and_output(
    cat: Catalog, tmp_path: Path
) -> None:
    """`compensate_output` calls the actor's compensation with RUN/STEP/compensate, once."""
    ledger = tmp_path / "ledger.jsonl"
    args = {"ledger": str(ledger), "item": "a"}
    done = run_actor_once(catalog=cat, actor="testing.ledger_write", args=args, key="r/w")
    assert done.output is not None
    for _ in range(2):
        undo = run_actor_once(
            catalog=cat,
            actor="testing.ledger_write",
            args=args,
            key="r/w",
            compensate_output=done.output,
        )
        assert undo.verdict == "succeeded"
    assert [(e["key"], e["op"]) for e in ledger_entries(ledger)] == [
        ("r/w", "apply"),
        ("r/w/compensate", "undo"),
    ]


def test_compensating_a_step_that_did_not_run_does_nothing(cat: Catalog, tmp_path: Path) -> None:
    """A skipped step's output (the skip marker) has nothing to undo."""
    ledger = tmp_path / "ledger.jsonl"
    result = run_actor_once(
        catalog=cat,
        actor="testing.ledger_write",
        args={"ledger": str(ledger), "item": "a"},
        key="r/w",
        compensate_output={SKIPPED_KEY: "condition `when` is false"},
    )
    assert result.verdict == "skipped"
    assert ledger_entries(ledger) == []


def test_an_irreversible_actor_cannot_be_compensated(cat: Catalog, tmp_path: Path) -> None:
    """Asking for the compensation of an irreversible write is InputError, saying so."""
    with pytest.raises(InputError, match="irreversible"):
        run_actor_once(
            catalog=cat,
            actor="exporttest.burn",
            args={"ledger": str(tmp_path / "l"), "item": "a"},
            key="r/w",
            compensate_output={"item": "a"},
        )
