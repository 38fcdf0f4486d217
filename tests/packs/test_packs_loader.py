"""Declarative packs: pack.yaml is checked (file, JSON path, hint), found by the catalog,
listed with its source, and its schemas type-check plans as a Python actor's do."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from clitools import install_pack, run, uninstall_pack
from planactor import Catalog, CatalogError, PlanInvalid
from planactor.catalog import PACKS_ENV, load_pack
from planactor.cli._app import catalog as cli_catalog
from planactor.validate import validate_plan

MakePack = Callable[..., Path]

ECHO = """\
    name: demo
    actors:
      - name: demo.echo
        description: Print the arguments.
        kind: command
        effect: read
        input:
          word: string
          count: integer?
          mode: {enum: [fast, slow], default: fast}
        output: {}
        command:
          argv: [echo, "{word}", "{mode}"]
    """


def _plan(args: dict[str, object], actor: str = "demo.echo") -> dict[str, object]:
    return {
        "api_version": "planactor/v1",
        "intent": "test",
        "requested_by": "alice",
        "steps": [{"id": "s1", "actor": actor, "args": args}],
    }


def _refusal(folder: Path) -> CatalogError:
    with pytest.raises(CatalogError) as exc:
        Catalog.discover(packs=[folder])
    return exc.value


def test_a_declared_actor_joins_the_catalog_with_its_schema(make_pack: MakePack) -> None:
    """A pack folder's actor is in the catalog under the pack's name, with the declared schema."""
    cat = Catalog.discover(packs=[make_pack(ECHO)])
    a = cat.get("demo.echo")
    assert cat.pack_of("demo.echo") == "demo"
    assert a.effect == "read"
    assert a.idempotent
    assert a.input_schema["required"] == ["word"]
    assert a.input_schema["properties"]["mode"] == {"enum": ["fast", "slow"], "default": "fast"}
    assert a.module.startswith("command: ")
    assert a.module.endswith("pack.yaml")
    assert "kind:command" in a.tags


def test_packs_env_names_the_folders(make_pack: MakePack, monkeypatch: pytest.MonkeyPatch) -> None:
    """PLANACTOR_PACKS (os.pathsep-separated) is read when no folders are passed."""
    monkeypatch.setenv(PACKS_ENV, f"{make_pack(ECHO)}:")
    assert "demo.echo" in Catalog.discover()


def test_validate_type_checks_arguments_against_the_schema(make_pack: MakePack) -> None:
    """A plan's arguments are checked against the declared schema: type, enum, unknown, missing."""
    cat = Catalog.discover(packs=[make_pack(ECHO)])
    validate_plan(_plan({"word": "hi", "count": 3}), catalog=cat)
    with pytest.raises(PlanInvalid) as exc:
        validate_plan(_plan({"count": "3", "mode": "warp", "colour": "red"}), catalog=cat)
    found = {(p.code, p.location) for p in exc.value.report.problems}
    assert ("args-invalid", "steps[0].args.count") in found
    assert ("args-invalid", "steps[0].args.mode") in found
    assert ("args-unknown", "steps[0].args.colour") in found
    assert ("args-missing", "steps[0].args.word") in found


def test_a_json_schema_input_checks_nested_values(make_pack: MakePack) -> None:
    """input_schema: a nested constraint is reported at the field, naming the inner path."""
    folder = make_pack(
        """\
        name: demo
        actors:
          - name: demo.fw
            kind: command
            effect: write
            irreversible: true
            input_schema:
              type: object
              required: [target]
              properties:
                target:
                  type: object
                  required: [version]
                  properties: {version: {type: string, pattern: "^[0-9.]+$"}}
            command: {argv: [echo, "{target}"]}
        """
    )
    cat = Catalog.discover(packs=[folder])
    validate_plan(_plan({"target": {"version": "1.2"}}, "demo.fw"), catalog=cat)
    with pytest.raises(PlanInvalid) as exc:
        validate_plan(_plan({"target": {"version": "1.x"}}, "demo.fw"), catalog=cat)
    (problem,) = exc.value.report.problems
    assert problem.location == "steps[0].args.target"
    assert "version" in problem.message
    assert "does not match" in problem.message


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("name: demo\nactors: 3\n", "actors", "valid list"),
        ("name: Demo\n", "name", "pattern"),
        (
            "name: demo\nactors:\n  - {name: demo.x, kind: shell, effect: read}\n",
            "actors[0].kind",
            "ansible",
        ),
        (
            "name: demo\nactors:\n  - {name: demo.x, kind: command, effect: read}\n",
            "actors[0]",
            "needs a `command:` section",
        ),
        (
            "name: demo\nactors:\n  - {name: demo.x, kind: command, effect: read,"
            " command: {argv: []}}\n",
            "actors[0].command.argv",
            "at least 1",
        ),
        (
            "name: demo\nactors:\n  - {name: demo.x, kind: command, effect: read, tiemout_s: 3,"
            " command: {argv: [ls]}}\n",
            "actors[0].tiemout_s",
            "Extra inputs",
        ),
        (
            "name: demo\nactors:\n  - {name: demo.x, kind: command, effect: read,"
            " input: {n: integr}, command: {argv: [ls]}}\n",
            "actors[0].input.n",
            "unknown type",
        ),
        (
            "name: demo\nactors:\n  - {name: demo.x, kind: command, effect: read,"
            " input_schema: {type: object, properties: {n: {type: wrong}}},"
            " command: {argv: [ls]}}\n",
            "actors[0].input_schema.properties.n.type",
            "not a valid JSON Schema",
        ),
        (
            "name: demo\nactors:\n  - {name: demo.x, kind: command, effect: read,"
            " input: {n: 'string?'}, command: {argv: [echo, '{n}']}}\n",
            "actors[0].command.argv[1]",
            "optional field without a default",
        ),
        (
            "name: demo\nactors:\n  - {name: demo.x, kind: command, effect: read,"
            " command: {argv: [echo, '{nope}']}}\n",
            "actors[0].command.argv[1]",
            "not an input field",
        ),
        (
            "name: demo\nactors:\n  - {name: demo.x, kind: command, effect: read,"
            " input: {json: string}, command: {argv: [ls]}}\n",
            "actors[0].input.properties.json",
            "cannot be a field name",
        ),
        (
            "name: demo\nactors:\n  - {name: demo.x, kind: http, effect: read,"
            " http: {base_url: 'http://h', path: '/{secret.t}', secrets: {t: {env: T}}}}\n",
            "actors[0].http.path",
            "cannot be used here",
        ),
        (
            "name: demo\nactors:\n  - {name: demo.x, kind: ansible, effect: read,"
            " ansible: {playbook: ../outside.yml}}\n",
            "actors[0].ansible",
            "outside the pack folder",
        ),
        (
            "name: demo\nactors:\n  - {name: demo.x, kind: command, effect: read,"
            " command: {argv: [/bin/../../etc/x]}}\n",
            "actors[0].command",
            "absolute",
        ),
        (
            "name: demo\nactors:\n  - {name: demo.x, kind: ansible, effect: read,"
            " output: {changed: string}, ansible: {playbook: p.yml}}\n",
            "actors[0].output",
            "sets changed itself",
        ),
        ("name: demo\nname: other\n", "line 2", "duplicate key"),
    ],
)
def test_a_malformed_pack_is_refused_with_file_path_and_hint(
    make_pack: MakePack, text: str, where: str, words: str
) -> None:
    """Each mistake names pack.yaml, the JSON path (or line) and what is wrong, with a hint."""
    folder = make_pack(text, {"p.yml": "- hosts: all\n  tasks: []\n"})
    (folder.parent / "outside.yml").write_text("- hosts: all\n")
    err = _refusal(folder)
    assert str(folder / "pack.yaml") in err.message
    assert where in err.message
    assert words in err.message
    assert err.hint
    assert err.exit_code == 2


def test_a_write_actor_needs_compensation_or_irreversible(make_pack: MakePack) -> None:
    """The catalog's rules hold for declared actors: a bare write is refused, naming the pack."""
    err = _refusal(
        make_pack(
            "name: demo\nactors:\n  - {name: demo.x, kind: command, effect: write,"
            " command: {argv: [ls]}}\n"
        )
    )
    assert "demo.x" in err.message
    assert "compensate" in err.message


def test_compensate_args_must_name_fields(make_pack: MakePack) -> None:
    """compensate_args values name input.FIELD or output.FIELD; anything else is refused."""
    err = _refusal(
        make_pack(
            """\
            name: demo
            actors:
              - {name: demo.undo, kind: command, effect: write, irreversible: true,
                 input: {id: string}, command: {argv: [ls]}}
              - {name: demo.do, kind: command, effect: write, compensate: demo.undo,
                 compensate_args: {id: output.ident}, input: {x: string}, command: {argv: [ls]}}
            """
        )
    )
    assert "actors[1].compensate_args.id" in err.message


def test_a_missing_pack_folder_or_file_is_refused(tmp_path: Path) -> None:
    """A folder that does not exist, or has no pack.yaml, is a CatalogError naming it."""
    assert "no such pack folder" in _refusal(tmp_path / "nope").message
    (tmp_path / "empty").mkdir()
    assert "no pack.yaml" in _refusal(tmp_path / "empty").message


def test_routines_beside_the_pack_are_loaded(make_pack: MakePack) -> None:
    """routines/*.yaml in the pack folder join the catalog, checked against its actors."""
    folder = make_pack(
        ECHO,
        {
            "routines/say.yaml": """\
                name: demo.say_hello
                description: Say a word.
                intent: "Say {word}"
                examples: [say hello]
                params:
                  word: {type: string, description: The word.}
                steps:
                  - {id: say, actor: demo.echo, args: {word: "{word}"}}
                """
        },
    )
    loaded = load_pack(folder)
    assert [r.name for r in loaded.routines] == ["demo.say_hello"]
    assert "demo.say_hello" in Catalog.discover(packs=[folder]).routines


def test_actors_lists_the_source(
    make_pack: MakePack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`planactor actors --json` gives each actor's source: the kind and the pack.yaml path."""
    folder = make_pack(ECHO)
    monkeypatch.setenv(PACKS_ENV, str(folder))
    cli_catalog.cache_clear()
    code, out, _ = run(capsys, "actors", "--json")
    assert code == 0
    found = {a["name"]: a for a in json.loads(out)}
    assert found["demo.echo"]["source"] == f"command: {folder / 'pack.yaml'}"
    assert found["demo.echo"]["pack"] == "demo"
    assert found["core.echo"]["source"] == "planactor.actors.core"


def test_a_broken_pack_stops_the_cli_with_exit_2(
    make_pack: MakePack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed pack.yaml stops `planactor actors` with exit 2 and the message, no traceback."""
    monkeypatch.setenv(PACKS_ENV, str(make_pack("name: demo\nactors: {}\n")))
    cli_catalog.cache_clear()
    code, _, err = run(capsys, "actors")
    assert code == 2
    assert "pack.yaml" in err
    assert "actors" in err
    assert "Traceback" not in err


def test_the_pack_option_loads_a_folder(
    make_pack: MakePack, capsys: pytest.CaptureFixture[str]
) -> None:
    """`planactor --pack DIR actors` lists the folder's actors (and exports PLANACTOR_PACKS)."""
    folder = make_pack(ECHO)
    code, out, err = run(capsys, "--pack", str(folder), "actors", "--json")
    assert code == 0, err
    assert "demo.echo" in {a["name"] for a in json.loads(out)}
    code, out, err = run(capsys, "--pack", str(folder), "actors", "show", "demo.echo", "--json")
    assert code == 0, err
    assert json.loads(out)["input_schema"]["required"] == ["word"]


def test_the_example_pack_and_its_plan_are_valid() -> None:
    """examples/tls-rotate loads, and its plan (the README tour's) validates against it."""
    example = Path(__file__).resolve().parents[2] / "examples" / "tls-rotate"
    cat = Catalog.discover(packs=[example])
    rotate = cat.get("tls.rotate_certificate")
    assert rotate.compensate == "tls.restore_certificate"
    assert rotate.check is not None  # check mode: dry runs report the diff
    validate_plan((example / "plan.json").read_text(), catalog=cat)


def test_whole_object_rules_and_referenced_arguments_are_checked(make_pack: MakePack) -> None:
    """dependentRequired is enforced when the actor is called; with a $ref in one argument
    the validator still checks the literal others field by field."""
    folder = make_pack(
        """\
        name: demo
        actors:
          - name: demo.pair
            kind: command
            effect: read
            input_schema:
              type: object
              properties: {a: {type: integer}, b: {type: integer}, c: {type: string}}
              dependentRequired: {a: [b]}
            command: {argv: [echo, ok]}
        """
    )
    cat = Catalog.discover(packs=[folder])
    pair = cat.get("demo.pair")
    pair.parse_input({"a": 1, "b": 2})
    with pytest.raises(ValueError, match="'b' is a dependency of 'a'"):
        pair.parse_input({"a": 1})
    plan = _plan({"a": 1, "b": "two", "c": {"$ref": "s0.output.stdout"}}, "demo.pair")
    plan["steps"] = [
        {"id": "s0", "actor": "demo.pair", "args": {}},
        {**plan["steps"][0], "after": ["s0"]},  # type: ignore[index]
    ]
    with pytest.raises(PlanInvalid) as exc:
        validate_plan(plan, catalog=cat)
    assert [(p.code, p.location) for p in exc.value.report.problems] == [
        ("args-invalid", "steps[1].args.b")
    ]


def test_a_package_pack_with_a_pack_yaml_is_found_through_its_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed package registered under planactor.actors may declare its actors in a
    pack.yaml beside its __init__.py."""
    site = install_pack(
        tmp_path,
        monkeypatch,
        "yamlpack",
        "yamlpack",
        files={
            "yamlpack/__init__.py": '"""A pack declared in YAML."""\n',
            "yamlpack/pack.yaml": ECHO.replace("    ", "", 1).replace("\n    ", "\n"),
        },
    )
    try:
        cat = Catalog.discover()
        assert cat.pack_of("demo.echo") == "yamlpack"
    finally:
        uninstall_pack(site)


def test_links_and_relative_paths_out_of_the_pack_are_refused(
    make_pack: MakePack, tmp_path: Path
) -> None:
    """A playbook that is a symlink to a file outside, or a program `./../x`, is refused."""
    outside = tmp_path / "elsewhere.yml"
    outside.write_text("- hosts: all\n  tasks: []\n")
    folder = make_pack(
        "name: demo\nactors:\n  - {name: demo.x, kind: ansible, effect: read,"
        " ansible: {playbook: link.yml}}\n"
    )
    (folder / "link.yml").symlink_to(outside)
    assert "outside the pack folder" in _refusal(folder).message
    folder = make_pack(
        "name: demo\nactors:\n  - {name: demo.x, kind: command, effect: read,"
        " command: {argv: [./../elsewhere.yml]}}\n",
        name="other",
    )
    assert "outside the pack folder" in _refusal(folder).message


def test_a_pack_file_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    """pack.yaml goes through the strict reader: a FIFO is named and refused, never read."""
    folder = tmp_path / "fifo"
    folder.mkdir()
    os.mkfifo(folder / "pack.yaml")
    err = _refusal(folder)
    assert "FIFO" in err.message
    assert err.exit_code == 2
