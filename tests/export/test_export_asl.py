"""`to_stepfunctions`: ASL that statelint accepts and that, interpreted, does what the
local engine does with the same plan (same writes, same compensations, same order)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from statelint.linter import Linter

from exporttools import AslRun, export_catalog, plan, run_asl
from planactor._errors import InputError
from planactor.catalog import Catalog
from planactor.engine import Engine
from planactor.export import FAILED_KEY, SKIPPED_KEY, to_stepfunctions
from planactor.journal import Journal
from planactor.plan import Plan
from planactor.testing import forge_approval, ledger_entries
from planactor.validate import validate_plan

PlanOf = Callable[[Path], dict[str, Any]]
_CATALOG = export_catalog()  # for the property test (a fixture per example is slow)


def _export(doc: dict[str, Any], cat: Catalog, **kw: Any) -> dict[str, Any]:
    machine = to_stepfunctions(validate_plan(doc, catalog=cat), catalog=cat, **kw)
    assert Linter.validate(machine) == []
    return machine


def _step(sid: str, actor: str, **fields: Any) -> dict[str, Any]:
    return {"id": sid, "actor": actor, **fields}


def _write(ledger: Path, sid: str, item: Any, **fields: Any) -> dict[str, Any]:
    return _step(sid, "testing.ledger_write", args={"ledger": str(ledger), "item": item}, **fields)


def _same_as_engine(
    plan_of: PlanOf, cat: Catalog, tmp_path: Path
) -> tuple[AslRun, str, list[tuple[str, str]]]:
    """Run the plan on the engine and, exported, on the interpreter, each with its own
    ledger; the ledgers must match entry for entry. Returns the ASL run, the engine's
    status and the (key, op) sequence."""
    engine_ledger, asl_ledger = tmp_path / "engine.jsonl", tmp_path / "asl.jsonl"
    with Journal(":memory:") as journal:
        result = Engine(catalog=cat, journal=journal).run(
            validate_plan(plan_of(engine_ledger), catalog=cat), run_id="exec-1"
        )
    asl = run_asl(_export(plan_of(asl_ledger), cat), catalog=cat, execution="exec-1")
    record = [(e["key"], e["op"], e["item"]) for e in ledger_entries(engine_ledger)]
    assert [(e["key"], e["op"], e["item"]) for e in ledger_entries(asl_ledger)] == record
    return asl, result.status, [(k, op) for k, op, _ in record]


def test_a_chain_runs_in_order_with_outputs_flowing(cat: Catalog, tmp_path: Path) -> None:
    """Chain: Task after Task, each key EXECUTION/STEP, a reference fed from the state."""

    def chain(ledger: Path) -> dict[str, Any]:
        return plan(
            [
                _write(ledger, "w1", "a"),
                _write(ledger, "w2", {"$ref": "w1.output.item"}),
                _step("done", "core.echo", args={"message": "ok"}, after=["w2"]),
            ]
        )

    machine = _export(chain(tmp_path / "l"), cat)
    assert list(machine["States"])[:4] == ["run: start", "w1", "w2", "done"]
    w2 = machine["States"]["w2"]
    assert w2["Parameters"]["key.$"] == "States.Format('{}/w2', $$.Execution.Name)"
    assert w2["Parameters"]["refs"] == {"w1.$": "$.outputs.w1"}
    assert w2["ResultPath"] == "$.outputs.w2"
    asl, status, record = _same_as_engine(chain, cat, tmp_path)
    assert (asl.status, status) == ("SUCCEEDED", "succeeded")
    assert record == [("exec-1/w1", "apply"), ("exec-1/w2", "apply")]
    assert asl.state["outputs"]["w2"]["item"] == "a"


def test_independent_branches_become_a_parallel_state(cat: Catalog, tmp_path: Path) -> None:
    """Fan-out of idempotent writes: one Parallel state, a branch per leaf, outputs merged."""

    def fan(ledger: Path) -> dict[str, Any]:
        return plan(
            [
                _step("root", "core.echo", args={"message": "go"}),
                *[_write(ledger, f"leaf-{i}", f"i{i}", after=["root"]) for i in range(3)],
                _step(
                    "join",
                    "core.echo",
                    args={"message": "j", "value": {"$ref": "leaf-1.output.item"}},
                    after=["leaf-0", "leaf-2"],
                ),
            ]
        )

    machine = _export(fan(tmp_path / "l"), cat)
    states = machine["States"]
    parallel = states["parallel 1"]
    assert [b["StartAt"] for b in parallel["Branches"]] == ["leaf-0", "leaf-1", "leaf-2"]
    assert states["root"]["Next"] == "parallel 1"
    assert parallel["Next"] == "join"
    # Step ids with '-' are stored under keys JSONPath's dot notation takes.
    assert states["join"]["Parameters"]["refs"] == {"leaf-1.$": "$.outputs.leaf_1"}
    asl, status, record = _same_as_engine(fan, cat, tmp_path)
    assert (asl.status, status) == ("SUCCEEDED", "succeeded")
    assert asl.state["outputs"]["join"]["value"] == "i1"
    assert sorted(record) == [(f"exec-1/leaf-{i}", "apply") for i in range(3)]


def test_two_diamonds_in_a_row_nest_sequences_in_parallels(cat: Catalog) -> None:
    """a -> (b -> c | d) -> e: a Parallel whose first branch is the sequence b, c."""
    doc = plan(
        [
            _step("a", "core.echo", args={"message": "a"}),
            _step("b", "core.echo", args={"message": "b"}, after=["a"]),
            _step("c", "core.echo", args={"message": "c"}, after=["b"]),
            _step("d", "core.echo", args={"message": "d"}, after=["a"]),
            _step("e", "core.echo", args={"message": "e"}, after=["c", "d"]),
        ]
    )
    states = _export(doc, cat)["States"]
    (first, second) = states["parallel 1"]["Branches"]
    assert first["StartAt"] == "b"
    assert first["States"]["b"]["Next"] == "c"
    assert list(second["States"]) == ["d"]
    assert states["a"]["Next"] == "parallel 1"
    assert states["parallel 1"]["Next"] == "e"


def test_a_graph_that_is_not_series_parallel_keeps_every_edge(cat: Catalog) -> None:
    """N-shape (c after a and b, d after b): exported with an extra ordering, none missing."""
    doc = plan(
        [
            _step("a", "core.echo", args={"message": "a"}),
            _step("b", "core.echo", args={"message": "b"}),
            _step("c", "core.echo", args={"message": "c"}, after=["a", "b"]),
            _step("d", "core.echo", args={"message": "d"}, after=["b"]),
        ]
    )
    states = _export(doc, cat)["States"]
    first, then = states["parallel 1"], states[states["parallel 1"]["Next"]]
    assert sorted(b["StartAt"] for b in first["Branches"]) == ["a", "b"]
    assert sorted(b["StartAt"] for b in then["Branches"]) == ["c", "d"]


def test_a_write_that_is_not_idempotent_keeps_the_plan_in_one_sequence(
    cat: Catalog, tmp_path: Path
) -> None:
    """A Parallel state abandons its other branches when one fails: with a non-idempotent
    write, the export is one sequence in the engine's order instead."""
    ledger = str(tmp_path / "l")
    doc = plan(
        [
            _step("a", "testing.ledger_write_once", args={"ledger": ledger, "item": "a"}),
            _step("b", "core.echo", args={"message": "b"}),
        ]
    )
    states = _export(doc, cat)["States"]
    assert not any(s["Type"] == "Parallel" for s in states.values())
    assert states["a"]["Next"] == "b"


def test_retry_comes_from_the_policy_and_never_retries_a_final_failure(cat: Catalog) -> None:
    """attempts 4 -> MaxAttempts 3 on States.ALL after a catcher-less zero for final errors;
    a non-idempotent write retries only what the actor called retryable."""
    policy = {"attempts": 4, "backoff_s": 1.5, "multiplier": 2, "max_backoff_s": 30}
    doc = plan(
        [
            _step("r", "core.echo", args={"message": "x"}, retry=policy),
            _step(
                "w", "testing.ledger_write_once", args={"ledger": "/l", "item": "a"}, retry=policy
            ),
        ]
    )
    states = _export(doc, cat)["States"]
    timing = {"IntervalSeconds": 2, "BackoffRate": 2.0, "MaxAttempts": 3, "MaxDelaySeconds": 30}
    assert states["r"]["Retry"] == [
        {
            "ErrorEquals": [
                "planactor.NeedsDecision",
                "planactor.Failed",
                "planactor.InvalidInput",
            ],
            "MaxAttempts": 0,
        },
        {"ErrorEquals": ["States.ALL"], **timing},
    ]
    assert states["w"]["Retry"] == [{"ErrorEquals": ["planactor.Retryable"], **timing}]


def test_a_retryable_failure_is_retried_to_success(cat: Catalog, tmp_path: Path) -> None:
    """Interpreted: a step failing twice then passing succeeds within three attempts."""
    counter = tmp_path / "n"
    doc = plan(
        [
            _step(
                "f",
                "testing.flaky",
                args={"counter": str(counter), "fail_times": 2},
                retry={"attempts": 3},
            )
        ]
    )
    assert run_asl(_export(doc, cat), catalog=cat).status == "SUCCEEDED"
    assert counter.read_text() == "3"


def _saga(fail: dict[str, Any]) -> PlanOf:
    def of(ledger: Path) -> dict[str, Any]:
        return plan(
            [
                _write(ledger, "w1", "a", on_failure="compensate"),
                _write(ledger, "w2", "b", after=["w1"], on_failure="compensate"),
                _step(
                    "check",
                    **fail,
                    after=["w2"],
                    on_failure="compensate",
                ),
                _write(ledger, "w3", "c", after=["check"], on_failure="compensate"),
            ]
        )

    return of


def test_a_failure_compensates_the_completed_writes_in_reverse_order(
    cat: Catalog, tmp_path: Path
) -> None:
    """on_failure compensate: w2 then w1 undone, once each, w3 never run; as the engine."""
    failing = {
        "actor": "testing.flaky",
        "args": {"counter": str(tmp_path / "n"), "fail_times": 9, "retryable": False},
    }
    asl, status, record = _same_as_engine(_saga(failing), cat, tmp_path)
    assert status == "compensated"
    assert (asl.status, asl.error) == ("FAILED", "planactor.Compensated")
    assert record == [
        ("exec-1/w1", "apply"),
        ("exec-1/w2", "apply"),
        ("exec-1/w2/compensate", "undo"),
        ("exec-1/w1/compensate", "undo"),
    ]
    assert asl.called()[-2:] == ["exec-1/w2/compensate", "exec-1/w1/compensate"]


def test_an_irreversible_write_in_the_rollback_ends_not_compensated(
    cat: Catalog, tmp_path: Path
) -> None:
    """A completed irreversible write cannot be undone: the rest is, and the run ends
    failed naming it, as the engine's does."""

    def of(ledger: Path) -> dict[str, Any]:
        return plan(
            [
                _write(ledger, "w1", "a"),
                _step(
                    "burn",
                    "exporttest.burn",
                    args={"ledger": str(ledger), "item": "b"},
                    after=["w1"],
                ),
                _step(
                    "bad", "testing.unexpected", args={}, after=["burn"], on_failure="compensate"
                ),
            ]
        )

    # UnexpectedState pauses the engine whatever on_failure says: no rollback at all.
    asl, status, record = _same_as_engine(of, cat, tmp_path)
    assert status == "paused"
    assert (asl.status, asl.error) == ("FAILED", "planactor.Paused")
    assert [op for _, op in record] == ["apply", "apply"]

    def failing(ledger: Path) -> dict[str, Any]:
        doc = of(ledger)
        doc["steps"][2] = _step(
            "bad",
            "testing.flaky",
            args={"counter": str(ledger) + ".n", "fail_times": 9, "retryable": False},
            after=["burn"],
            on_failure="compensate",
        )
        return doc

    (tmp_path / "second").mkdir()
    asl, status, record = _same_as_engine(failing, cat, tmp_path / "second")
    assert status == "failed"
    assert asl.error == "planactor.NotCompensated"
    assert asl.cause is not None
    assert "burn" in asl.cause
    assert record[-1] == ("exec-1/w1/compensate", "undo")


def test_the_default_pause_stops_the_execution_at_the_failed_step(
    cat: Catalog, tmp_path: Path
) -> None:
    """on_failure pause: the error is not caught; nothing after it runs, nothing is undone."""

    def of(ledger: Path) -> dict[str, Any]:
        return plan(
            [
                _write(ledger, "w1", "a"),
                _step(
                    "bad", "testing.flaky", args={"counter": str(ledger) + ".n", "fail_times": 9}
                ),
                _write(ledger, "w2", "b", after=["bad"]),
            ]
        )

    asl, status, record = _same_as_engine(of, cat, tmp_path)
    assert status == "paused"
    assert (asl.status, asl.error) == ("FAILED", "planactor.Retryable")
    assert record == [("exec-1/w1", "apply")]


def test_continue_records_the_failure_skips_its_readers_and_ends_failed(
    cat: Catalog, tmp_path: Path
) -> None:
    """on_failure continue (a read): the readers skip, other steps run, the run ends failed."""

    def of(ledger: Path) -> dict[str, Any]:
        return plan(
            [
                _step(
                    "probe",
                    "testing.flaky",
                    args={"counter": str(ledger) + ".n", "fail_times": 9, "retryable": False},
                    on_failure="continue",
                ),
                _step(
                    "use",
                    "core.echo",
                    args={"message": "x", "value": {"$ref": "probe.output.calls"}},
                ),
                _write(ledger, "w1", "a", after=["probe"]),
            ]
        )

    asl, status, record = _same_as_engine(of, cat, tmp_path)
    assert status == "failed"
    assert (asl.status, asl.error) == ("FAILED", "planactor.Failed")
    assert record == [("exec-1/w1", "apply")]
    uses = [c for c in asl.calls if c["actor"] == "core.echo"]
    assert uses[0]["refs"] == {"probe": {FAILED_KEY: "failed (continued)"}}


def test_continue_inside_a_parallel_branch_stays_in_that_branch(
    cat: Catalog, tmp_path: Path
) -> None:
    """A read that fails and continues in one branch: its states live in the branch, the
    other branch and the join run, and the execution ends failed, as the engine's run."""

    def of(ledger: Path) -> dict[str, Any]:
        return plan(
            [
                _step("root", "core.echo", args={"message": "r"}),
                _step(
                    "probe",
                    "testing.flaky",
                    args={"counter": str(ledger) + ".n", "fail_times": 9, "retryable": False},
                    after=["root"],
                    on_failure="continue",
                ),
                _step(
                    "use",
                    "core.echo",
                    args={"message": "u", "value": {"$ref": "probe.output.calls"}},
                ),
                _write(ledger, "other", "o", after=["root"]),
                _write(ledger, "join", "j", after=["use", "other"]),
            ]
        )

    machine = _export(of(tmp_path / "l"), cat)
    branches = machine["States"]["parallel 1"]["Branches"]
    assert list(branches[0]["States"]) == [
        "probe",
        "use",
        "decide: probe",
        "failed: probe",
        "no output: probe",
    ]
    asl, status, record = _same_as_engine(of, cat, tmp_path)
    assert status == "failed"
    assert (asl.status, asl.error) == ("FAILED", "planactor.Failed")
    assert record == [("exec-1/other", "apply"), ("exec-1/join", "apply")]


def test_conditions_skip_as_in_the_engine(cat: Catalog, tmp_path: Path) -> None:
    """`when` false: the write is skipped, its reader too, its follower runs."""

    def of(ledger: Path) -> dict[str, Any]:
        return plan(
            [
                _step("probe", "core.echo", args={"message": "m", "value": 0}),
                _write(
                    ledger, "fix", "f", when={"$ref": "probe.output.value", "op": "gt", "value": 0}
                ),
                _step("note", "core.echo", args={"message": {"$ref": "fix.output.item"}}),
                _write(ledger, "after", "z", after=["fix"]),
            ],
        )

    asl, status, record = _same_as_engine(of, cat, tmp_path)
    assert (asl.status, status) == ("SUCCEEDED", "succeeded")
    assert record == [("exec-1/after", "apply")]
    assert asl.state["outputs"]["note"] == {
        SKIPPED_KEY: "needs the output of step 'fix', which skipped"
    }


def test_the_plan_hash_and_approvals_travel_in_the_comment(cat: Catalog) -> None:
    """The state machine's Comment carries the plan hash and the signed approvals."""
    doc = plan([_step("e", "core.echo", args={"message": "hi"})])
    parsed = Plan.model_validate(doc)
    approval = forge_approval(parsed, "carol", Ed25519PrivateKey.generate(), now=datetime.now(UTC))
    doc["approvals"] = [approval.model_dump(mode="json")]
    comment = _export(doc, cat, resource="arn:aws:lambda:eu-west-1:1:function:run")["Comment"]
    assert f"planactor.io/plan-hash={parsed.hash}" in comment
    approvals = json.loads(comment.split("planactor.io/approvals=", 1)[1])
    assert approvals[0]["signature"] == approval.signature


def test_what_step_functions_cannot_express_is_refused_each_step_with_its_reason(
    cat: Catalog,
) -> None:
    """An LLM skill, a key ending in '.$' and a too long id: every problem listed, exit 2."""
    doc = plan(
        [
            _step("llm", "core.summarize_run", args={"run_id": "r1"}),
            _step("dollar", "core.echo", args={"message": "x", "value": {"a.$": "$.x"}}),
            _step("s" * 70, "core.echo", args={"message": "x"}),
        ]
    )
    with pytest.raises(InputError) as e:
        to_stepfunctions(validate_plan(doc, catalog=cat), catalog=cat)
    message = e.value.message
    assert e.value.exit_code == 2
    assert "cannot export this plan to Step Functions" in message
    assert "(3 problems)" in message
    assert "step 'llm': core.summarize_run is an LLM skill" in message
    assert "step 'dollar': its args have a key 'a.$'" in message
    assert f"step '{'s' * 70}': its id is longer than 64 characters" in message


def test_step_ids_never_collide_with_the_exports_own_states(cat: Catalog, tmp_path: Path) -> None:
    """Steps named like the export's own states (Start, Done, compensated) keep their own."""
    ledger = str(tmp_path / "l")
    doc = plan(
        [
            _step("Start", "testing.ledger_write", args={"ledger": ledger, "item": "a"}),
            _step(
                "compensated",
                "testing.flaky",
                args={"counter": ledger + ".n", "fail_times": 9, "retryable": False},
                after=["Start"],
                on_failure="compensate",
            ),
            _step("Done", "core.echo", args={"message": "x"}, after=["compensated"]),
        ]
    )
    asl = run_asl(_export(doc, cat), catalog=cat)
    assert (asl.status, asl.error) == ("FAILED", "planactor.Compensated")
    assert asl.called() == ["exec-1/Start", "exec-1/compensated", "exec-1/Start/compensate"]


def _positions(machine: dict[str, Any]) -> dict[str, list[tuple[str, int]]]:
    """Each Task's place in the state machine: the sequence positions and Parallel branches
    on the way to it."""
    found: dict[str, list[tuple[str, int]]] = {}

    def walk(states: dict[str, Any], name: str | None, prefix: list[tuple[str, int]]) -> None:
        i = 0
        while name is not None:
            state = states[name]
            if state["Type"] == "Task":
                found[name] = [*prefix, ("seq", i)]
            elif state["Type"] == "Parallel":
                for b, branch in enumerate(state["Branches"]):
                    walk(branch["States"], branch["StartAt"], [*prefix, ("seq", i), ("par", b)])
            i += 1
            name = None if state.get("End") else state.get("Next")

    walk(machine["States"], machine["StartAt"], [])
    return found


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_every_dependency_is_kept_by_the_series_parallel_shape(data: st.DataObject) -> None:
    """For random DAGs, each step comes after every step it depends on in a sequence, never
    beside it in a Parallel state, and every step is exported once."""
    cat = _CATALOG
    n = data.draw(st.integers(min_value=1, max_value=12))
    steps = []
    for i in range(n):
        after = (
            data.draw(st.lists(st.integers(min_value=0, max_value=i - 1), unique=True)) if i else []
        )
        steps.append(
            _step(f"s{i}", "core.echo", args={"message": "x"}, after=[f"s{j}" for j in after])
        )
    machine = to_stepfunctions(validate_plan(plan(steps), catalog=cat), catalog=cat)
    where = _positions(machine)
    assert sorted(where) == sorted(s["id"] for s in steps)
    for s in steps:
        for d in s["after"]:
            mine, theirs = where[s["id"]], where[d]
            k = next(k for k, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b)
            assert mine[k][0] == theirs[k][0] == "seq", f"{d} and {s['id']} in parallel"
            assert theirs[k][1] < mine[k][1], f"{s['id']} before {d}"


def test_a_very_wide_fan_out_nests_parallel_states(cat: Catalog) -> None:
    """600 independent steps: Parallel states of at most 256 branches, merges nested < 10."""
    steps = [_step(f"s{i}", "core.echo", args={"message": "x"}) for i in range(600)]
    machine = _export(plan(steps), cat)
    outer = machine["States"]["parallel 1"]
    assert len(outer["Branches"]) == 3
    inner = [b["States"][b["StartAt"]] for b in outer["Branches"]]
    assert [len(p["Branches"]) for p in inner] == [256, 256, 88]
    merge = inner[0]["ResultSelector"]["outputs.$"]
    assert merge.count("States.JsonMerge(States.JsonMerge(" * 4) == 1
    assert "States.JsonMerge(" * 9 not in merge
    assert sorted(_positions(machine)) == sorted(s["id"] for s in steps)
