"""`planactor routines [--json]` and `planactor routines show NAME [--json]`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clitools import install_pack, run, uninstall_pack
from planactor.catalog import Catalog
from planactor.cli import _routines

PACKAGE = "routines_cli_pack"

ACTORS = '''
from pydantic import BaseModel

from planactor.catalog import actor


class PingIn(BaseModel):
    host: str
    count: int = 1


class PingOut(BaseModel):
    up: bool


@actor(name="rcli.ping", effect="read")
def ping(args: PingIn) -> PingOut:
    """Check that a host answers."""
    return PingOut(up=True)
'''

PING_HOSTS = """
name: rcli.ping_hosts
description: Ping every host given.
intent: ping {hosts}
examples:
  - ping h1 and h2
params:
  hosts: {type: list, description: The hosts to ping., entity: host}
  count: {type: integer, description: Pings per host., minimum: 1, default: 3}
  tag: {type: string, description: A label., pattern: "[a-z]+", default: ops}
steps:
  - id: ping
    actor: rcli.ping
    for_each: {$param: hosts}
    args: {host: {$item: true}, count: {$param: count}}
"""

Installer = Callable[[dict[str, str]], None]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide console, so table cells are not wrapped by the width of the routine names.

    Through COLUMNS, which rich reads on every use: patching the console's `width` would, on
    undo, pin the width measured at that moment for every later test."""
    monkeypatch.setenv("COLUMNS", "250")


@pytest.fixture
def install_routines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installer]:
    """A pack package shipping `routines/*.yaml`, installed through the entry-point group."""

    def install(routines: dict[str, str]) -> None:
        files = {f"{PACKAGE}/__init__.py": ACTORS}
        files.update({f"{PACKAGE}/routines/{name}": text for name, text in routines.items()})
        install_pack(tmp_path, monkeypatch, "rcli", PACKAGE, files=files)

    yield install
    uninstall_pack(tmp_path / "site")


@pytest.fixture
def ping_hosts(install_routines: Installer) -> None:
    install_routines({"ping_hosts.yaml": PING_HOSTS})


@pytest.mark.usefixtures("ping_hosts")
def test_routines_lists_installed_routines_with_their_parameters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The table names each routine, its parameters (defaults shown) and description."""
    code, out, err = run(capsys, "routines")
    assert code == 0, err
    assert "routine(s)" in out
    row = next(line for line in out.splitlines() if "rcli.ping_hosts" in line)
    assert "hosts, count=3, tag=ops" in row
    assert "Ping every host given." in row


@pytest.mark.usefixtures("ping_hosts")
def test_routines_json_describes_each_routine(capsys: pytest.CaptureFixture[str]) -> None:
    """--json gives name, description, intent, parameter schema, actors and examples."""
    code, out, _ = run(capsys, "routines", "--json")
    assert code == 0
    (doc,) = [d for d in json.loads(out) if d["name"] == "rcli.ping_hosts"]
    assert doc["description"] == "Ping every host given."
    assert doc["intent"] == "ping {hosts}"
    assert doc["actors"] == ["rcli.ping"]
    assert doc["examples"] == ["ping h1 and h2"]
    assert doc["params"]["required"] == ["hosts"]
    assert doc["params"]["properties"]["hosts"] == {
        "type": "array",
        "description": "The hosts to ping.",
        "items": {"type": "string"},
    }
    assert doc["params"]["properties"]["count"]["minimum"] == 1


@pytest.mark.usefixtures("ping_hosts")
def test_routines_show_prints_parameters_actors_and_examples(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`show NAME` explains each parameter: type, description, entity, pattern, default."""
    code, out, err = run(capsys, "routines", "show", "rcli.ping_hosts")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "rcli.ping_hosts: Ping every host given."
    assert lines[1] == "intent: ping {hosts}"
    assert "  hosts: list, The hosts to ping. (a host from the inventory)" in lines
    assert "  count: integer, Pings per host. (default 3)" in lines
    assert "  tag: string, A label. (matching [a-z]+; default ops)" in lines
    assert "actors: rcli.ping" in lines
    assert "  e.g. ping h1 and h2" in lines


@pytest.mark.usefixtures("ping_hosts")
def test_routines_show_json_matches_the_listing(capsys: pytest.CaptureFixture[str]) -> None:
    """`show NAME --json` is the same description `routines --json` gives for it."""
    _, listing, _ = run(capsys, "routines", "--json")
    code, out, _ = run(capsys, "routines", "show", "rcli.ping_hosts", "--json")
    assert code == 0
    (expected,) = [d for d in json.loads(listing) if d["name"] == "rcli.ping_hosts"]
    assert json.loads(out) == expected


@pytest.mark.usefixtures("ping_hosts")
def test_routines_show_unknown_name_exits_2_with_did_you_mean(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A misspelt routine name is bad input (exit 2) with the closest names suggested."""
    code, out, err = run(capsys, "routines", "show", "rcli.ping_host")
    assert code == 2
    assert out == ""
    assert "unknown routine 'rcli.ping_host'" in err
    assert "did you mean 'rcli.ping_hosts'?" in err
    assert "Traceback" not in err


def test_routines_with_none_installed_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty catalog lists no routines, as text and as JSON."""
    monkeypatch.setattr(_routines, "catalog", lambda: Catalog())
    code, out, _ = run(capsys, "routines")
    assert (code, out.strip()) == (0, "no routines installed")
    code, out, _ = run(capsys, "routines", "--json")
    assert (code, json.loads(out)) == (0, [])


def test_a_routine_calling_a_missing_actor_stops_the_command_with_exit_2(
    capsys: pytest.CaptureFixture[str], install_routines: Installer
) -> None:
    """A pack whose routine calls an unknown actor is refused by name, not a traceback."""
    install_routines({"bad.yaml": PING_HOSTS.replace("actor: rcli.ping", "actor: rcli.pong")})
    code, _, err = run(capsys, "routines")
    assert code == 2
    assert "routine 'rcli.ping_hosts' (pack 'rcli') calls actors" in err
    assert "rcli.pong" in err


@pytest.mark.parametrize("description", ["Drain one [host] now.", "Eject [/dev/sdb] now."])
def test_routines_table_prints_descriptions_literally(
    capsys: pytest.CaptureFixture[str], install_routines: Installer, description: str
) -> None:
    """Square brackets in a routine's description are shown as written."""
    text = PING_HOSTS.replace("Ping every host given.", f'"{description}"')
    install_routines({"ping_hosts.yaml": text})
    code, out, err = run(capsys, "routines")
    assert code == 0, err
    assert description in out
