"""Kind `command`: argv templates without a shell, declared env and cwd, exit codes and
output mapped; hostile argument strings stay exactly one argv item each."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planactor import ActorError, Catalog, Plan
from planactor.catalog import Actor, ActorContext
from planactor.engine import Engine
from planactor.journal import Journal

MakePack = Callable[..., Path]

# Prints its argv (without the program) and a few variables as JSON; exits with its first
# argument when that is a number.
ARGV_PY = f"""\
#!{sys.executable}
import json, os, sys

print(json.dumps({{
    "argv": sys.argv[1:],
    "key": os.environ.get("PLANACTOR_IDEMPOTENCY_KEY"),
    "dry": os.environ.get("PLANACTOR_DRY_RUN"),
    "colour": os.environ.get("COLOUR"),
    "token": os.environ.get("TOKEN"),
    "cwd": os.getcwd(),
}}))
print("token was " + str(os.environ.get("TOKEN")), file=sys.stderr)
sys.exit(int(sys.argv[1]) if sys.argv[1:] and sys.argv[1].isdigit() else 0)
"""

PACK = """\
    name: cmd
    actors:
      - name: cmd.show
        kind: command
        effect: read
        timeout_s: 20
        input:
          a: string
          b: string
          n: integer
        output:
          argv: array
          key: string
          dry: string
          colour: string
          cwd: string
        command:
          argv: [./bin/argv.py, "{a}", "--b={b}", "{n}"]
          output: json
          cwd: work
          env: {COLOUR: blue}
      - name: cmd.fail
        kind: command
        effect: write
        irreversible: true
        input: {code: string}
        command:
          argv: [./bin/argv.py, "{code}"]
          env: {TOKEN: {env: CMD_TOKEN}}
          retryable_exit_codes: [75]
      - name: cmd.apply
        kind: command
        effect: write
        irreversible: true
        input: {a: string}
        output: {argv: array, dry: string}
        command:
          argv: [./bin/argv.py, apply, "{a}"]
          check_argv: [./bin/argv.py, check, "{a}"]
          output: json
      - name: cmd.text
        kind: command
        effect: read
        input: {a: string}
        command: {argv: [./bin/argv.py, "{a}"]}
      - name: cmd.slow
        kind: command
        effect: read
        timeout_s: 0.5
        command: {argv: [sleep, "5"]}
    """


@pytest.fixture
def cat(make_pack: MakePack) -> Catalog:
    folder = make_pack(PACK, {"bin/argv.py": ARGV_PY})
    (folder / "work").mkdir()
    return Catalog.discover(packs=[folder])


def _call(a: Actor, args: dict[str, Any], step: str = "s1") -> dict[str, Any]:
    out = a.call(args, ActorContext.for_step(run_id="r1", step_id=step))
    return out.model_dump(mode="json")


def test_arguments_fill_the_argv_and_json_output_is_the_result(cat: Catalog) -> None:
    """Each template item is one argv item; the JSON object printed is the output, with the
    exit code; the env, cwd and idempotency key are as declared."""
    out = _call(cat.get("cmd.show"), {"a": "x y", "b": "z", "n": 7})
    assert out["argv"] == ["x y", "--b=z", "7"]
    assert out["exit_code"] == 0
    assert out["key"] == "r1/s1"
    assert out["colour"] == "blue"
    assert out["cwd"].endswith("/work")
    assert out["dry"] == "0"


def test_text_output_is_kept_as_stdout(cat: Catalog) -> None:
    """output: text gives the exit code and stdout as they were."""
    out = _call(cat.get("cmd.text"), {"a": "hello"})
    assert out["exit_code"] == 0
    assert json.loads(out["stdout"])["argv"] == ["hello"]


def test_exit_codes_map_to_final_or_retryable(
    cat: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-zero exit is a final error unless listed in retryable_exit_codes; stderr is kept,
    with secret values replaced by ***."""
    monkeypatch.setenv("CMD_TOKEN", "s3cr3t-token-value")
    with pytest.raises(ActorError) as exc:
        _call(cat.get("cmd.fail"), {"code": "3"})
    assert not exc.value.retryable
    assert "exited 3" in exc.value.message
    assert "token was ***" in exc.value.message
    assert "s3cr3t" not in exc.value.message
    with pytest.raises(ActorError) as exc:
        _call(cat.get("cmd.fail"), {"code": "75"})
    assert exc.value.retryable


def test_a_missing_secret_variable_is_a_final_error_naming_it(cat: Catalog) -> None:
    """An env secret that is not set stops the call before the program runs, naming the variable."""
    with pytest.raises(ActorError) as exc:
        _call(cat.get("cmd.fail"), {"code": "x"})
    assert "CMD_TOKEN" in exc.value.message
    assert not exc.value.retryable


def test_a_slow_command_is_killed_at_its_timeout(cat: Catalog) -> None:
    """timeout_s kills the program; a read (idempotent) actor may be retried."""
    with pytest.raises(ActorError) as exc:
        _call(cat.get("cmd.slow"), {})
    assert "did not finish within 0.5 s" in exc.value.message
    assert exc.value.retryable


def test_a_nul_character_is_refused_cleanly(cat: Catalog) -> None:
    """A NUL in an argument cannot be an argv item: a final ActorError, not a crash."""
    with pytest.raises(ActorError) as exc:
        _call(cat.get("cmd.text"), {"a": "a\x00b"})
    assert "NUL" in exc.value.message


def test_a_dry_run_runs_the_check_argv_only(cat: Catalog, tmp_path: Path) -> None:
    """In a dry run the engine calls check_argv (PLANACTOR_DRY_RUN=1) and reports its output."""
    plan = Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "t",
            "requested_by": "alice",
            "steps": [{"id": "w", "actor": "cmd.apply", "args": {"a": "v"}}],
        }
    )
    with Journal(":memory:") as journal:
        result = Engine(catalog=cat, journal=journal).run(plan, dry_run=True)
    note = result.steps["w"].note or ""
    assert result.status == "succeeded"
    assert "would change" in note
    assert "'check', 'v'" in note
    assert "'dry': '1'" in note
    assert "apply" not in note


def test_a_hostile_string_does_not_reach_a_shell(cat: Catalog, tmp_path: Path) -> None:
    """Shell syntax in an argument is passed literally: nothing it says is executed."""
    marker = tmp_path / "PWNED"
    payloads = [
        f"; touch {marker}",
        f"$(touch {marker})",
        f"`touch {marker}`",
        f"a\ntouch {marker}",
    ]
    for p in payloads:
        out = _call(cat.get("cmd.show"), {"a": p, "b": p, "n": 1})
        assert out["argv"] == [p, f"--b={p}", "1"]
    assert not marker.exists()


HOSTILE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=40,
) | st.sampled_from(
    [
        "",
        " ",
        "--",
        "-rf /",
        "a b",
        "'",
        '"',
        "\\",
        "$HOME",
        "*",
        "~",
        "a;b",
        "a|b",
        "a&&b",
        ">x",
        "<x",
        "$(id)",
        "`id`",
        "{n}",
        "{{",
        "}}",
        "%s",
        "\n",
        "\t",
        "--b=1 --c=2",
    ]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(a=HOSTILE, b=HOSTILE)
def test_each_argument_is_exactly_one_argv_item(cat: Catalog, a: str, b: str) -> None:
    """Whatever the strings, the program receives exactly three argv items, byte for byte."""
    out = _call(cat.get("cmd.show"), {"a": a, "b": b, "n": 3})
    assert out["argv"] == [a, f"--b={b}", "3"]
