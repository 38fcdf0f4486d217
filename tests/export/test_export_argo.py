"""`to_argo`: a Workflow Argo's schema accepts, whose DAG does what the plan says."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exporttools import plan, run_argo
from planactor._errors import InputError
from planactor.catalog import Catalog
from planactor.export import SKIPPED_KEY, to_argo
from planactor.plan import Plan, make_basis
from planactor.testing import applied_counts, forge_approval
from planactor.validate import validate_plan


def _export(doc: dict[str, Any], cat: Catalog, schema: dict[str, Any]) -> dict[str, Any]:
    workflow = to_argo(validate_plan(doc, catalog=cat), catalog=cat, image="reg/planactor:1")
    jsonschema.Draft202012Validator(schema).validate(workflow)
    return workflow


def _tasks(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    dag = workflow["spec"]["templates"][0]
    assert dag["name"] == workflow["spec"]["entrypoint"]
    return {t["name"]: t for t in dag["dag"]["tasks"]}


def _template(workflow: dict[str, Any], name: str) -> dict[str, Any]:
    found = [t for t in workflow["spec"]["templates"] if t["name"] == name]
    assert len(found) == 1
    return found[0]


def _chain(ledger: Path) -> dict[str, Any]:
    return plan(
        [
            {
                "id": "w1",
                "actor": "testing.ledger_write",
                "args": {"ledger": str(ledger), "item": "a"},
            },
            {
                "id": "w2",
                "actor": "testing.ledger_write",
                "args": {"ledger": str(ledger), "item": {"$ref": "w1.output.item"}},
            },
            {"id": "check", "actor": "core.echo", "args": {"message": "done"}, "after": ["w2"]},
        ]
    )


def test_a_chain_is_one_task_per_step_each_waiting_for_the_one_before(
    cat: Catalog, argo_schema: dict[str, Any], tmp_path: Path
) -> None:
    """Chain: three tasks, `depends` on the previous step, each running actor-run with its key."""
    workflow = _export(_chain(tmp_path / "l"), cat, argo_schema)
    tasks = _tasks(workflow)
    assert [(n, t.get("depends")) for n, t in tasks.items()] == [
        ("w1", None),
        ("w2", "w1"),
        ("check", "w2"),
    ]
    container = _template(workflow, "w2")["container"]
    assert container["image"] == "reg/planactor:1"
    assert container["command"] == ["planactor"]
    args = container["args"]
    assert args[:4] == ["actor-run", "testing.ledger_write", "--key", "{{workflow.uid}}/w2"]
    # The reference is an Argo parameter fed from the producing task's output.
    assert "w1={{inputs.parameters.ref-w1}}" in args
    assert tasks["w2"]["arguments"]["parameters"] == [
        {"name": "ref-w1", "value": "{{tasks.w1.outputs.parameters.output}}"}
    ]


def test_the_exported_chain_runs_each_write_once_with_the_run_and_step_key(
    cat: Catalog, argo_schema: dict[str, Any], tmp_path: Path, testing_pack: None
) -> None:
    """Walked as Argo would, through `planactor actor-run`: outputs flow, keys are uid/step."""
    ledger = tmp_path / "l"
    result = run_argo(_export(_chain(ledger), cat, argo_schema), home=tmp_path / "home")
    assert result.phases == {"w1": "Succeeded", "w2": "Succeeded", "check": "Succeeded"}
    assert result.outputs["w2"]["item"] == "a"  # w2 wrote what w1 returned
    assert applied_counts(ledger) == {"uid-1/w1": 1, "uid-1/w2": 1}
    # `argo retry` of the same workflow keeps its uid: nothing is applied twice.
    run_argo(_export(_chain(ledger), cat, argo_schema), home=tmp_path / "home")
    assert applied_counts(ledger) == {"uid-1/w1": 1, "uid-1/w2": 1}


def test_a_fan_out_runs_its_branches_side_by_side_and_joins(
    cat: Catalog, argo_schema: dict[str, Any], tmp_path: Path, testing_pack: None
) -> None:
    """Fan-out: the branches depend on the root only, the join on every branch."""
    ledger = tmp_path / "l"
    branches = [
        {
            "id": f"leaf_{i}",
            "actor": "testing.ledger_write",
            "args": {"ledger": str(ledger), "item": f"i{i}"},
            "after": ["root"],
        }
        for i in range(3)
    ]
    doc = plan(
        [
            {"id": "root", "actor": "core.echo", "args": {"message": "go"}},
            *branches,
            {
                "id": "join",
                "actor": "core.echo",
                "args": {"message": "joined", "value": {"$ref": "leaf_2.output.item"}},
                "after": ["leaf_0", "leaf_1"],
            },
        ]
    )
    workflow = _export(doc, cat, argo_schema)
    tasks = _tasks(workflow)
    # Argo task names take no underscore: leaf_0 is the task leaf-0 (its key keeps leaf_0).
    assert {n: t.get("depends") for n, t in tasks.items()} == {
        "root": None,
        "leaf-0": "root",
        "leaf-1": "root",
        "leaf-2": "root",
        "join": "leaf-0 && leaf-1 && leaf-2",
    }
    result = run_argo(workflow, home=tmp_path / "home")
    assert set(result.phases.values()) == {"Succeeded"}
    assert result.outputs["join"] == {"message": "joined", "value": "i2"}
    assert applied_counts(ledger) == {f"uid-1/leaf_{i}": 1 for i in range(3)}


def test_retries_map_onto_the_retry_strategy_gated_on_the_retryable_exit_code(
    cat: Catalog, argo_schema: dict[str, Any], tmp_path: Path, testing_pack: None
) -> None:
    """attempts 3 -> limit 2 with the backoff; a retryable failure is tried again, a final
    one is not, and no later task starts after it."""
    counter = tmp_path / "calls"
    doc = plan(
        [
            {
                "id": "flaky",
                "actor": "testing.flaky",
                "args": {"counter": str(counter), "fail_times": 2},
                "retry": {"attempts": 3, "backoff_s": 0.5, "multiplier": 3, "max_backoff_s": 10},
            },
            {"id": "after", "actor": "core.echo", "args": {"message": "x"}, "after": ["flaky"]},
        ]
    )
    workflow = _export(doc, cat, argo_schema)
    strategy = _template(workflow, "flaky")["retryStrategy"]
    assert strategy == {
        "limit": "2",
        "retryPolicy": "OnFailure",
        "expression": "asInt(lastRetry.exitCode) == 75",
        "backoff": {"duration": "500ms", "factor": "3", "cap": "10s"},
    }
    ok = run_argo(workflow, home=tmp_path / "home")
    assert ok.phases == {"flaky": "Succeeded", "after": "Succeeded"}
    assert counter.read_text() == "3"

    counter.unlink()
    doc["steps"][0]["args"]["retryable"] = False
    final = run_argo(_export(doc, cat, argo_schema), home=tmp_path / "home")
    assert final.phases == {"flaky": "Failed"}  # `after` never started
    assert final.exit_codes["flaky"] == 1
    assert counter.read_text() == "1"


def test_a_false_condition_skips_the_step_and_its_readers_but_not_its_followers(
    cat: Catalog, argo_schema: dict[str, Any], tmp_path: Path, testing_pack: None
) -> None:
    """`when` is evaluated by actor-run: a reader of the skipped output skips, a step that is
    only `after` it runs, as in the engine."""
    doc = plan(
        [
            {"id": "probe", "actor": "core.echo", "args": {"message": "m", "value": False}},
            {
                "id": "fix",
                "actor": "core.echo",
                "args": {"message": "fixing"},
                "when": {"$ref": "probe.output.value", "op": "truthy"},
            },
            {
                "id": "report",
                "actor": "core.echo",
                "args": {"message": {"$ref": "fix.output.message"}},
            },
            {"id": "tidy", "actor": "core.echo", "args": {"message": "tidy"}, "after": ["fix"]},
        ]
    )
    result = run_argo(_export(doc, cat, argo_schema), home=tmp_path / "home")
    assert result.outputs["fix"] == {SKIPPED_KEY: "condition `when` is false"}
    assert result.outputs["report"] == {
        SKIPPED_KEY: "needs the output of step 'fix', which skipped"
    }
    assert result.outputs["tidy"]["message"] == "tidy"


def test_plan_inputs_travel_only_to_the_steps_that_read_them(
    cat: Catalog, argo_schema: dict[str, Any], tmp_path: Path, testing_pack: None
) -> None:
    """`$input` values go in the step's --inputs; a step reading none gets no --inputs."""
    doc = plan(
        [
            {"id": "a", "actor": "core.echo", "args": {"message": {"$input": "greeting"}}},
            {"id": "b", "actor": "core.echo", "args": {"message": "plain"}},
        ],
        inputs={"greeting": "hello", "unused": 1},
    )
    workflow = _export(doc, cat, argo_schema)
    a_args = _template(workflow, "a")["container"]["args"]
    assert a_args[a_args.index("--inputs") + 1] == '{"greeting":"hello"}'
    assert "--inputs" not in _template(workflow, "b")["container"]["args"]
    assert run_argo(workflow, home=tmp_path / "home").outputs["a"]["message"] == "hello"


def test_the_plan_hash_and_approvals_travel_as_annotations(
    cat: Catalog, argo_schema: dict[str, Any]
) -> None:
    """metadata.annotations carry the plan hash, requester, ticket, basis, the paused run it
    recovers and the signed approvals."""
    basis = make_basis(lab="storage", facts={"array/a1": {"healthy": True}})
    doc = plan(
        [{"id": "e", "actor": "core.echo", "args": {"message": "hi"}}],
        change_ticket="CHG-7",
        basis=basis.to_document(),
        recovers="run-9",
    )
    parsed = Plan.model_validate(doc)
    approval = forge_approval(parsed, "carol", Ed25519PrivateKey.generate(), now=datetime.now(UTC))
    doc["approvals"] = [approval.model_dump(mode="json")]
    notes = _export(doc, cat, argo_schema)["metadata"]["annotations"]
    assert notes["planactor.io/plan-hash"] == parsed.hash
    assert notes["planactor.io/requested-by"] == "alice"
    assert notes["planactor.io/change-ticket"] == "CHG-7"
    assert notes["planactor.io/basis"] == f"storage lab, {basis.digest}"
    assert notes["planactor.io/recovers"] == "run-9"
    (carried,) = json.loads(notes["planactor.io/approvals"])
    assert carried["identity"] == "carol"
    assert carried["plan_hash"] == parsed.hash
    assert carried["signature"] == approval.signature


def _refusal(doc: dict[str, Any], cat: Catalog) -> str:
    with pytest.raises(InputError) as e:
        to_argo(validate_plan(doc, catalog=cat), catalog=cat)
    assert e.value.exit_code == 2
    return e.value.message


def test_a_plan_that_would_roll_back_is_refused_naming_the_step(
    cat: Catalog, tmp_path: Path
) -> None:
    """on_failure compensate with a compensable write: refused, saying which step and why."""
    ledger = str(tmp_path / "l")
    doc = plan(
        [
            {"id": "w1", "actor": "testing.ledger_write", "args": {"ledger": ledger, "item": "a"}},
            {
                "id": "w2",
                "actor": "testing.ledger_write",
                "args": {"ledger": ledger, "item": "b"},
                "after": ["w1"],
                "on_failure": "compensate",
            },
        ]
    )
    message = _refusal(doc, cat)
    assert "cannot export this plan to Argo Workflows" in message
    assert "step 'w2': on_failure 'compensate'" in message
    assert "saga rollback" in message


def test_what_argo_cannot_express_is_refused_each_step_with_its_reason(cat: Catalog) -> None:
    """continue, '{{' in the arguments, an LLM skill and a fractional multiplier: every
    problem listed at once."""
    doc = plan(
        [
            {
                "id": "read",
                "actor": "core.echo",
                "args": {"message": "x"},
                "on_failure": "continue",
            },
            {"id": "tmpl", "actor": "core.echo", "args": {"message": "{{workflow.name}}"}},
            {"id": "llm", "actor": "core.summarize_run", "args": {"run_id": "r1"}},
            {
                "id": "slow",
                "actor": "core.echo",
                "args": {"message": "x"},
                "retry": {"attempts": 3, "multiplier": 1.5},
            },
        ]
    )
    message = _refusal(doc, cat)
    assert "(4 problems)" in message
    assert "step 'read': on_failure 'continue'" in message
    assert "step 'tmpl': its args contain '{{'" in message
    assert "step 'llm': core.summarize_run is an LLM skill" in message
    assert "step 'slow': retry multiplier 1.5" in message
