"""`planactor export` and `planactor actor-run`: output, refusals and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clitools import echo_plan, ledger_write, run, write_plan
from planactor.testing import applied_counts


def test_export_to_argo_prints_a_workflow(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`export PLAN --to argo` prints a Workflow whose task runs actor-run with the image."""
    code, out, err = run(
        capsys, "export", str(echo_plan(tmp_path)), "--to", "argo", "--image", "r/p:2"
    )
    assert code == 0, err
    workflow = json.loads(out)
    assert workflow["kind"] == "Workflow"
    (container,) = [t["container"] for t in workflow["spec"]["templates"] if "container" in t]
    assert container["image"] == "r/p:2"
    assert container["args"][:2] == ["actor-run", "core.echo"]


def test_export_to_stepfunctions_writes_the_file_and_says_what_it_wrote(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`-o F` writes the state machine there and names the plan hash on stderr."""
    target = tmp_path / "machine.json"
    code, out, err = run(
        capsys, "export", str(echo_plan(tmp_path)), "--to", "stepfunctions", "-o", str(target)
    )
    assert code == 0, err
    assert out == ""
    machine = json.loads(target.read_text())
    assert machine["StartAt"] == "run: start"
    assert "sha256:" in err
    assert "0 approvals recorded" in err


def test_export_refuses_what_the_target_cannot_express_with_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, testing_pack: None
) -> None:
    """A rollback plan to Argo: exit 2, the step and the reason, a hint, no traceback."""
    ledger = tmp_path / "l.jsonl"
    plan = write_plan(
        tmp_path, [ledger_write(ledger, "w1"), ledger_write(ledger, "w2", after=["w1"])]
    )
    code, out, err = run(capsys, "export", str(plan), "--to", "argo")
    assert code == 2
    assert out == ""
    assert "step 'w1': on_failure 'compensate'" in err
    assert "hint: export with --to stepfunctions" in err
    assert "Traceback" not in err


def test_export_of_an_invalid_plan_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An unknown actor fails validation before anything is exported."""
    plan = write_plan(tmp_path, [{"id": "x", "actor": "core.nope", "args": {}}])
    code, _, err = run(capsys, "export", str(plan), "--to", "stepfunctions")
    assert code == 2
    assert "core.nope" in err


def test_an_option_of_the_other_target_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--image belongs to argo, --resource to stepfunctions."""
    code, _, err = run(
        capsys, "export", str(echo_plan(tmp_path)), "--to", "stepfunctions", "--image", "x"
    )
    assert code == 2
    assert "--image is for --to argo" in err


def test_actor_run_prints_the_output_and_writes_the_output_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """actor-run prints the actor's output as JSON (and to --output-file)."""
    out_file = tmp_path / "out" / "output.json"
    code, out, err = run(
        capsys,
        "actor-run",
        "core.echo",
        "--args",
        '{"message": "hi", "value": {"$input": "n"}}',
        "--inputs",
        '{"n": [1, 2]}',
        "--key",
        "run-1/echo",
        "--output-file",
        str(out_file),
    )
    assert code == 0, err
    assert json.loads(out) == {"message": "hi", "value": [1, 2]}
    assert json.loads(out_file.read_text()) == json.loads(out)


def test_actor_run_applies_a_write_once_per_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, testing_pack: None
) -> None:
    """The same --key twice applies the write once; another key applies it again."""
    ledger = tmp_path / "l.jsonl"
    args = json.dumps({"ledger": str(ledger), "item": "a"})
    for key in ("run-1/w1", "run-1/w1", "run-2/w1"):
        code, _, err = run(
            capsys, "actor-run", "testing.ledger_write", "--args", args, "--key", key
        )
        assert code == 0, err
    assert applied_counts(ledger) == {"run-1/w1": 1, "run-2/w1": 1}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--args", '{"mesage": "hi"}', "--key", "r/s"],
            "the arguments do not fit core.echo's input",
        ),
        (["--args", "{not json", "--key", "r/s"], "--args is not JSON"),
        (["--args", "[1]", "--key", "r/s"], "--args must be a JSON object"),
        (["--args", '{"message": "hi"}', "--key", "no-slash"], "is not RUN_ID/STEP_ID"),
        (["--args", '{"message": "hi"}', "--key", "r/s", "--ref", "nothing"], "is not STEP=JSON"),
    ],
)
def test_actor_run_bad_input_is_exit_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Arguments that do not fit the input model, bad JSON, a bad key or ref: exit 2."""
    code, out, err = run(capsys, "actor-run", "core.echo", *argv)
    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_actor_run_exit_codes_say_retry_fail_or_decide(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, testing_pack: None
) -> None:
    """A retryable failure is 75, a final one 1, an unexpected state 4."""
    counter = str(tmp_path / "n")
    flaky = {"counter": counter, "fail_times": 9}
    code, _, err = run(
        capsys, "actor-run", "testing.flaky", "--args", json.dumps(flaky), "--key", "r/f"
    )
    assert code == 75
    assert "planned failures" in err
    final = {**flaky, "retryable": False}
    code, _, _ = run(
        capsys, "actor-run", "testing.flaky", "--args", json.dumps(final), "--key", "r/f"
    )
    assert code == 1
    code, _, err = run(capsys, "actor-run", "testing.unexpected", "--args", "{}", "--key", "r/u")
    assert code == 4
    assert "not as the plan assumed" in err


def test_actor_run_hands_the_lab_to_the_actor(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--lab F reaches the lab pack's actor as its resource; without one it fails saying so."""
    lab = tmp_path / "lab.json"
    code, _, err = run(capsys, "lab", "init", "storage", "--path", str(lab))
    assert code == 0, err
    code, out, err = run(
        capsys, "actor-run", "storage.inventory", "--args", "{}", "--key", "r/i", "--lab", str(lab)
    )
    assert code == 0, err
    assert json.loads(out)["arrays"]
    code, _, err = run(capsys, "actor-run", "storage.inventory", "--args", "{}", "--key", "r/i")
    assert code == 1
    assert "no 'lab' resource" in err


def test_export_writes_yaml_when_the_file_name_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`-o workflow.yaml` writes the same Workflow as YAML."""
    import yaml

    target = tmp_path / "workflow.yaml"
    code, _, err = run(
        capsys, "export", str(echo_plan(tmp_path)), "--to", "argo", "-o", str(target)
    )
    assert code == 0, err
    code, out, _ = run(capsys, "export", str(echo_plan(tmp_path)), "--to", "argo")
    assert yaml.safe_load(target.read_text()) == json.loads(out)
    assert not target.read_text().startswith("{")


def test_actor_run_compensate_undoes_the_step_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, testing_pack: None
) -> None:
    """--compensate OUTPUT runs the declared compensation with the key RUN/STEP/compensate."""
    ledger = tmp_path / "l.jsonl"
    args = json.dumps({"ledger": str(ledger), "item": "a"})
    code, out, err = run(
        capsys, "actor-run", "testing.ledger_write", "--args", args, "--key", "r/w"
    )
    assert code == 0, err
    for _ in range(2):
        code, _, err = run(
            capsys,
            "actor-run",
            "testing.ledger_write",
            "--args",
            args,
            "--key",
            "r/w",
            "--compensate",
            out,
        )
        assert code == 0, err
    entries = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert [(e["key"], e["op"]) for e in entries] == [("r/w", "apply"), ("r/w/compensate", "undo")]
