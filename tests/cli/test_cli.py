"""The command line: exit codes, output formats, and errors that never end in a traceback."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import planactor
from clitools import install_pack, run, uninstall_pack
from planactor import Catalog, Plan, validate
from planactor._examples import example_plan_bytes

PLANACTOR = Path(sys.executable).parent / "planactor"
EXAMPLE_HASH = Plan.model_validate_json(example_plan_bytes()).hash


def run_process(*argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `planactor` console script in a child process."""
    env = {k: v for k, v in os.environ.items() if k not in ("PLANACTOR_DEBUG", "FORCE_COLOR")}
    env.update(NO_COLOR="1", TERM="dumb", COLUMNS="120")
    return subprocess.run(
        [str(PLANACTOR), *argv],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def broken_doc() -> dict[str, Any]:
    """The example plan with a cycle, a wrong argument type and a misspelt actor."""
    doc: dict[str, Any] = json.loads(example_plan_bytes())
    doc["steps"][0]["after"] = ["report"]
    doc["steps"][1]["args"]["message"] = 42
    doc["steps"][2]["actor"] = "core.ecoh"
    return doc


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    p = tmp_path / "plan.json"
    p.write_bytes(example_plan_bytes())
    return p


@pytest.fixture
def broken_file(tmp_path: Path) -> Path:
    p = tmp_path / "broken.json"
    p.write_text(json.dumps(broken_doc(), indent=2))
    return p


# -- validate ----------------------------------------------------------------------------


def test_validate_valid_plan_prints_hash(
    capsys: pytest.CaptureFixture[str], plan_file: Path
) -> None:
    """`validate` on a valid plan exits 0 and prints its step count and hash."""
    code, out, err = run(capsys, "validate", str(plan_file))
    assert code == 0
    assert f"valid {plan_file}: 3 steps" in out
    assert f"plan hash {EXAMPLE_HASH}" in out
    assert err == ""


def test_validate_invalid_plan_lists_every_problem(
    capsys: pytest.CaptureFixture[str], broken_file: Path
) -> None:
    """`validate` on an invalid plan exits 2 and lists every problem with location and hint."""
    report = validate(broken_file.read_bytes(), catalog=Catalog.discover())
    assert len(report.errors) >= 3
    code, out, _ = run(capsys, "validate", str(broken_file))
    assert code == 2
    assert f"invalid {broken_file}: {len(report.errors)} error(s)" in out
    for problem in report.problems:
        line = next(
            (ln for ln in out.splitlines() if f"{problem.location}: {problem.message}" in ln), None
        )
        assert line is not None, f"{problem.code} at {problem.location} not listed"
        assert f"[{problem.code}]" in line
        if problem.hint:
            assert f"hint: {problem.hint}" in out
    assert {"cycle", "args-invalid", "unknown-actor"} <= set(report.codes())
    assert "did you mean 'core.echo'" in out


def test_validate_json_on_valid_plan(capsys: pytest.CaptureFixture[str], plan_file: Path) -> None:
    """`validate --json` on a valid plan prints a report with ok true and the hash."""
    code, out, _ = run(capsys, "validate", str(plan_file), "--json")
    doc = json.loads(out)
    assert code == 0
    assert doc["ok"] is True
    assert doc["problems"] == []
    assert doc["plan_hash"] == EXAMPLE_HASH
    assert doc["source"] == str(plan_file)


def test_validate_json_on_invalid_plan(
    capsys: pytest.CaptureFixture[str], broken_file: Path
) -> None:
    """`validate --json` on an invalid plan exits 2 with ok false and each problem's location."""
    code, out, _ = run(capsys, "validate", str(broken_file), "--json")
    doc = json.loads(out)
    assert code == 2
    assert doc["ok"] is False
    assert doc["errors"] == len(doc["problems"]) >= 3
    assert {p["code"] for p in doc["problems"]} >= {"cycle", "unknown-actor"}
    assert all(p["location"] and p["message"] for p in doc["problems"])
    assert {"location": "steps[2].actor", "code": "unknown-actor"}.items() <= next(
        p for p in doc["problems"] if p["code"] == "unknown-actor"
    ).items()


def test_validate_missing_file_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`validate` of a missing file exits 2 with a one-line message and a hint, no traceback."""
    missing = tmp_path / "nope.json"
    code, out, err = run(capsys, "validate", str(missing))
    assert code == 2
    assert out == ""
    assert f"error: {missing}: no such file" in err
    assert "hint: check the path" in err
    assert "Traceback" not in err


def test_validate_missing_file_with_json_is_a_json_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`validate --json` of a missing file still prints a JSON report (code unreadable), exit 2."""
    code, out, _ = run(capsys, "validate", str(tmp_path / "nope.json"), "--json")
    doc = json.loads(out)
    assert code == 2
    assert doc["ok"] is False
    assert [p["code"] for p in doc["problems"]] == ["unreadable"]


def test_validate_directory_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`validate` of a directory exits 2 saying so."""
    code, _, err = run(capsys, "validate", str(tmp_path))
    assert code == 2
    assert "is a directory" in err
    assert "Traceback" not in err


def test_validate_reads_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`validate -` reads the plan from standard input."""
    monkeypatch.setattr(sys, "stdin", _stdin(example_plan_bytes()))
    code, out, _ = run(capsys, "validate", "-")
    assert code == 0
    assert "valid <stdin>: 3 steps" in out
    assert EXAMPLE_HASH in out


def _stdin(data: bytes) -> Any:
    return io.TextIOWrapper(io.BytesIO(data))


def test_validate_malformed_json_shows_line_and_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Malformed JSON exits 2 and points at the line and column of the mistake."""
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "intent": "x",\n  "steps": [1 2]\n}\n')
    code, out, _ = run(capsys, "validate", str(bad))
    assert code == 2
    assert "(line 3, column 15)" in out
    assert "not valid JSON" in out
    assert "[json-syntax]" in out


def test_validate_malformed_json_position_in_json_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """With --json, a syntax error's line and column are fields of the problem."""
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "a": 1,\n}')
    _, out, _ = run(capsys, "validate", str(bad), "--json")
    (problem,) = json.loads(out)["problems"]
    assert (problem["code"], problem["line"], problem["column"]) == ("json-syntax", 3, 1)


def test_validate_max_steps(capsys: pytest.CaptureFixture[str], plan_file: Path) -> None:
    """`--max-steps` refuses plans with more steps and accepts plans at the limit."""
    code, out, _ = run(capsys, "validate", str(plan_file), "--max-steps", "2")
    assert code == 2
    assert "[too-many-steps]" in out
    assert "the limit is 2" in out
    code, _, _ = run(capsys, "validate", str(plan_file), "--max-steps", "3")
    assert code == 0


def test_validate_max_bytes(capsys: pytest.CaptureFixture[str], plan_file: Path) -> None:
    """`--max-bytes` refuses a plan file larger than the limit."""
    code, out, _ = run(capsys, "validate", str(plan_file), "--max-bytes", "100")
    assert code == 2
    assert "[too-large]" in out


def test_validate_max_steps_zero_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], plan_file: Path
) -> None:
    """`--max-steps 0` is out of range: a usage error, exit 2."""
    code, _, err = run(capsys, "validate", str(plan_file), "--max-steps", "0")
    assert code == 2
    assert "--max-steps" in err
    assert "Traceback" not in err


# -- validate --inventory (needs an actor with an entity argument) ------------------------

ARRAY_PACK = """
    from pydantic import BaseModel

    from planactor.catalog import actor, entity


    class InspectIn(BaseModel):
        array: str = entity("array", description="The array to inspect.")


    class InspectOut(BaseModel):
        healthy: bool


    @actor(name="labcli.inspect_array", effect="read")
    def inspect_array(args: InspectIn) -> InspectOut:
        \"\"\"Report an array's health.\"\"\"
        return InspectOut(healthy=True)
"""


@pytest.fixture
def array_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A third-party pack with an entity argument, installed for the CLI's catalog."""
    files = {"labcli_pack.py": textwrap.dedent(ARRAY_PACK)}
    site = install_pack(tmp_path, monkeypatch, "labcli", "labcli_pack", files=files)
    yield
    uninstall_pack(site)


def _array_plan(tmp_path: Path, array: str) -> Path:
    doc = {
        "api_version": "planactor/v1",
        "intent": "check an array",
        "requested_by": "alice",
        "steps": [{"id": "inspect", "actor": "labcli.inspect_array", "args": {"array": array}}],
    }
    p = tmp_path / f"inspect-{array}.json"
    p.write_text(json.dumps(doc))
    return p


def _inventory(tmp_path: Path, text: str | bytes) -> Path:
    p = tmp_path / "inventory.json"
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


@pytest.mark.usefixtures("array_pack")
def test_validate_inventory_catches_an_unknown_entity(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """With --inventory, an entity argument naming nothing in the inventory is an error."""
    inv = _inventory(tmp_path, json.dumps({"array": ["array-01", "array-02"]}))
    plan = _array_plan(tmp_path, "array-99")
    code, out, _ = run(capsys, "validate", str(plan), "--inventory", str(inv))
    assert code == 2
    assert "steps[0].args.array: no array named 'array-99' in the inventory" in out
    assert "[unknown-entity]" in out
    assert "did you mean" in out


@pytest.mark.usefixtures("array_pack")
def test_validate_inventory_accepts_a_known_entity(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """With --inventory, a known entity passes; without it, entities are not checked."""
    inv = _inventory(tmp_path, json.dumps({"array": ["array-01", "array-02"]}))
    code, _, _ = run(
        capsys, "validate", str(_array_plan(tmp_path, "array-01")), "--inventory", str(inv)
    )
    assert code == 0
    code, _, _ = run(capsys, "validate", str(_array_plan(tmp_path, "array-99")))
    assert code == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"array": ', "inventory is not valid JSON: line 1, column 11"),
        (b"\xff\xfe{}", "inventory is not valid JSON: not UTF-8 text"),
        ('{"array": "array-01"}', "an inventory maps each entity kind to a list of names"),
        ('["array-01"]', "an inventory maps each entity kind to a list of names"),
        ('{"array": [1, 2]}', "an inventory maps each entity kind to a list of names"),
    ],
    ids=["truncated", "not-utf8", "not-a-list", "not-an-object", "not-strings"],
)
def test_validate_malformed_inventory_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
    plan_file: Path,
    tmp_path: Path,
    text: str | bytes,
    message: str,
) -> None:
    """A malformed inventory file exits 2 with a message naming it, not an internal error."""
    inv = _inventory(tmp_path, text)
    code, _, err = run(capsys, "validate", str(plan_file), "--inventory", str(inv))
    assert code == 2
    assert f"error: {inv}: {message}" in err
    assert "internal error" not in err
    assert "Traceback" not in err


def test_validate_missing_inventory_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], plan_file: Path, tmp_path: Path
) -> None:
    """A missing inventory file exits 2 saying it cannot be read."""
    missing = tmp_path / "none.json"
    code, _, err = run(capsys, "validate", str(plan_file), "--inventory", str(missing))
    assert code == 2
    assert f"{missing}: cannot read inventory" in err


# -- show --------------------------------------------------------------------------------


def test_show_table(capsys: pytest.CaptureFixture[str], plan_file: Path) -> None:
    """`show` renders a table with the intent, hash and every step id."""
    code, out, err = run(capsys, "show", str(plan_file))
    assert code == 0
    assert "Find the lowest-latency path" in out
    assert EXAMPLE_HASH in out
    for step_id in ("route", "report", "latency"):
        assert step_id in out
    assert err == ""


def test_show_mermaid(capsys: pytest.CaptureFixture[str], plan_file: Path) -> None:
    """`show --format mermaid` prints a Mermaid flowchart with the dependency edges."""
    code, out, _ = run(capsys, "show", str(plan_file), "--format", "mermaid")
    assert code == 0
    assert out.startswith("flowchart TD")
    assert '"route<br/>' in out
    assert '"latency<br/>' in out
    assert "-->" in out


def test_show_dot(capsys: pytest.CaptureFixture[str], plan_file: Path) -> None:
    """`show --format dot` prints a Graphviz digraph."""
    code, out, _ = run(capsys, "show", str(plan_file), "-f", "dot")
    assert code == 0
    assert out.startswith("digraph")
    assert "->" in out
    assert out.rstrip().endswith("}")


def test_show_json_round_trips_to_the_same_hash(
    capsys: pytest.CaptureFixture[str], plan_file: Path
) -> None:
    """`show --format json` prints the normalised plan, which hashes the same as the file."""
    code, out, _ = run(capsys, "show", str(plan_file), "--format", "json")
    assert code == 0
    assert Plan.model_validate_json(out).hash == EXAMPLE_HASH


def test_show_structurally_broken_plan_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`show` of a plan that does not parse as a plan exits 2 listing its problems."""
    p = tmp_path / "struct.json"
    p.write_text('{"intent": "x", "steps": 3}')
    code, out, err = run(capsys, "show", str(p))
    assert code == 2
    assert out == ""
    assert f"error: {p}: plan is invalid" in err
    assert "'steps' must be a list" in err
    assert "Traceback" not in err


def test_show_semantically_invalid_plan_renders_with_a_warning(
    capsys: pytest.CaptureFixture[str], broken_file: Path
) -> None:
    """`show` still renders a plan that parses but fails validation, warning on stderr."""
    code, out, err = run(capsys, "show", str(broken_file), "--format", "mermaid")
    assert code == 0
    assert out.startswith("flowchart TD")
    assert "validation error(s)" in err


def test_show_missing_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`show` of a missing file exits 2 with a clear message."""
    code, _, err = run(capsys, "show", str(tmp_path / "nope.json"))
    assert code == 2
    assert "no such file" in err
    assert "Traceback" not in err


# -- actors ------------------------------------------------------------------------------


def test_actors_lists_the_builtins(capsys: pytest.CaptureFixture[str]) -> None:
    """`actors` lists the built-in actors by their full names, with their packs."""
    code, out, _ = run(capsys, "actors", "--json")
    assert code == 0
    packs = {a["name"]: a["pack"] for a in json.loads(out)}
    for name, pack in (
        ("core.echo", "core"),
        ("core.sleep", "core"),
        ("graph.shortest_path", "graph"),
        ("network.design_fabric", "network"),
        ("storage.upgrade_firmware", "storage"),
    ):
        assert packs[name] == pack


def test_actors_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`actors --json` prints every actor's metadata as a JSON list, sorted by name."""
    code, out, _ = run(capsys, "actors", "--json")
    actors = {a["name"]: a for a in json.loads(out)}
    assert code == 0
    assert {"core.echo", "core.sleep", "graph.shortest_path"} <= set(actors)
    assert list(actors) == sorted(actors)
    path = actors["graph.shortest_path"]
    assert (path["pack"], path["effect"], path["idempotent"]) == ("graph", "read", True)
    assert path["description"].startswith("Weighted shortest path")


def test_actors_show_prints_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    """`actors show NAME` prints the metadata and the input and output schemas."""
    code, out, _ = run(capsys, "actors", "show", "graph.shortest_path")
    assert code == 0
    assert "graph.shortest_path" in out
    assert "input schema" in out
    assert "output schema" in out
    for field in ('"edges"', '"directed"', '"reachable"', '"distance"'):
        assert field in out


def test_actors_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`actors show NAME --json` includes the schemas as JSON objects."""
    code, out, _ = run(capsys, "actors", "show", "graph.shortest_path", "--json")
    doc = json.loads(out)
    assert code == 0
    assert set(doc["input_schema"]["properties"]) == {"edges", "source", "target", "directed"}
    assert set(doc["output_schema"]["properties"]) == {"reachable", "path", "distance", "hops"}


def test_actors_show_unknown_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    """`actors show` of a misspelt name exits 2 with a did-you-mean hint."""
    code, out, err = run(capsys, "actors", "show", "graph.shortest_pth")
    assert code == 2
    assert out == ""
    assert "unknown actor 'graph.shortest_pth'" in err
    assert "did you mean 'graph.shortest_path'" in err
    assert "Traceback" not in err


@pytest.mark.usefixtures("array_pack")
def test_actors_lists_third_party_packs(capsys: pytest.CaptureFixture[str]) -> None:
    """`actors --json` includes actors of installed third-party packs, with their pack."""
    _, out, _ = run(capsys, "actors", "--json")
    actors = {a["name"]: a for a in json.loads(out)}
    assert actors["labcli.inspect_array"]["pack"] == "labcli"


# -- schema ------------------------------------------------------------------------------


def test_schema_plan_describes_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    """`schema plan` prints a JSON Schema that the example plan satisfies."""
    code, out, _ = run(capsys, "schema", "plan")
    schema = json.loads(out)
    example = json.loads(example_plan_bytes())
    assert code == 0
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"api_version", "intent", "requested_by", "steps"} <= set(schema["required"])
    assert set(schema["required"]) <= set(example)
    assert set(example) <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    step = schema["$defs"]["Step"]
    for s in example["steps"]:
        assert set(step["required"]) <= set(s)
        assert set(s) <= set(step["properties"])
    try:
        import jsonschema
    except ImportError:
        return
    jsonschema.validate(example, schema)


def test_schema_plan_refuses_what_a_plan_cannot_hold(capsys: pytest.CaptureFixture[str]) -> None:
    """The schema forbids unknown top-level fields and requires the plan's key fields."""
    _, out, _ = run(capsys, "schema", "plan")
    schema = json.loads(out)
    assert "colour" not in schema["properties"]
    assert "steps" in schema["required"]
    assert schema["$defs"]["Step"]["additionalProperties"] is False


# -- usage errors, version, demo -----------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["frobnicate"], "No such command 'frobnicate'"),
        (["show", "plan.json", "--format", "xml"], "'xml' is not one of"),
        (["validate"], "Missing argument"),
        (["validate", "plan.json", "--colour"], "No such option"),
        (["schema", "nope"], "No such command 'nope'"),
    ],
    ids=["unknown-command", "bad-format", "missing-argument", "unknown-option", "bad-subcommand"],
)
def test_usage_errors_exit_2_without_traceback(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Usage errors print a short message and exit 2, never a traceback."""
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`--version` prints the package version and exits 0."""
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out == f"planactor {planactor.__version__}\n"


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` lists the commands and exits 0."""
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("validate", "show", "actors", "schema", "demo"):
        assert command in out


# -- end to end, through the installed console script -------------------------------------


def test_console_script_missing_file_has_no_traceback(tmp_path: Path) -> None:
    """The installed script exits 2 on a missing plan with a clear message, no traceback."""
    result = run_process("validate", str(tmp_path / "nope.json"))
    assert result.returncode == 2
    assert "no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_console_script_reads_stdin() -> None:
    """The installed script validates a plan piped to `validate -`."""
    result = run_process("validate", "-", stdin=example_plan_bytes())
    assert result.returncode == 0, result.stderr
    assert "valid <stdin>: 3 steps" in result.stdout
    assert EXAMPLE_HASH in result.stdout


def test_console_script_usage_error_exits_2() -> None:
    """The installed script exits 2 on an unknown command, without a traceback."""
    result = run_process("frobnicate")
    assert result.returncode == 2
    assert "No such command" in result.stderr
    assert "Traceback" not in result.stderr


def test_console_script_malformed_inventory_exits_2(plan_file: Path, tmp_path: Path) -> None:
    """The installed script reports a malformed inventory as bad input (2), not a crash (1)."""
    inv = _inventory(tmp_path, '{"array": ')
    result = run_process("validate", str(plan_file), "--inventory", str(inv))
    assert result.returncode == 2
    assert "inventory is not valid JSON" in result.stderr
    assert "internal error" not in result.stderr
    assert "Traceback" not in result.stderr
