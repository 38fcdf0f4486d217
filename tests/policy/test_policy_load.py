"""`planactor.policy` loading: where the policy comes from, and every file mistake named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from planactor import InputError
from planactor.policy import default_policy_text, load_policy, parse_policy, policy_path

GOOD = """\
version: 1
name: strict
approvals: {writes: 2, reads: 1}
rules:
  - name: no-wipes
    description: Never wipe.
    match: {actor: "store.wipe"}
    require: {deny: wiping is done by hand}
"""


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own PLANACTOR_HOME and no PLANACTOR_POLICY."""
    monkeypatch.setenv("PLANACTOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PLANACTOR_POLICY", raising=False)
    return tmp_path / "home"


def _bad(text: str) -> InputError:
    with pytest.raises(InputError) as exc:
        parse_policy(text, source="ops/policy.yaml")
    assert exc.value.message.startswith("ops/policy.yaml")
    assert exc.value.hint
    return exc.value


# -- the shipped default --------------------------------------------------------------------


def test_the_default_policy_ships_and_parses() -> None:
    """Without any policy file, the shipped default is used: one approver for writes."""
    policy = load_policy()
    assert policy.source == "default policy"
    assert policy.name == "default"
    assert (policy.doc.approvals.writes, policy.doc.approvals.reads) == (1, 0)
    names = [r.name for r in policy.doc.rules]
    assert names == ["irreversible-needs-ticket", "wide-changes-need-two-approvers"]
    assert yaml.safe_load(default_policy_text())["name"] == "default"


def test_the_default_policy_is_the_same_every_time() -> None:
    """Its hash is stable, so runs under it can be compared."""
    assert load_policy().hash == parse_policy(default_policy_text(), source="x").hash


# -- where it comes from --------------------------------------------------------------------


def test_policy_comes_from_home_then_environment_then_the_option(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--policy beats PLANACTOR_POLICY, which beats $PLANACTOR_HOME/policy.yaml."""
    assert policy_path() is None
    home.mkdir()
    (home / "policy.yaml").write_text(GOOD.replace("strict", "from-home"))
    assert load_policy().name == "from-home"
    env_file = tmp_path / "env.yaml"
    env_file.write_text(GOOD.replace("strict", "from-env"))
    monkeypatch.setenv("PLANACTOR_POLICY", str(env_file))
    assert load_policy().name == "from-env"
    option = tmp_path / "option.yaml"
    option.write_text(GOOD.replace("strict", "from-option"))
    policy = load_policy(option)
    assert policy.name == "from-option"
    assert policy.source == str(option)


def test_a_missing_policy_file_is_an_input_error(tmp_path: Path) -> None:
    """A --policy path that does not exist is named, with a hint."""
    with pytest.raises(InputError, match="no such policy file") as exc:
        load_policy(tmp_path / "nope.yaml")
    assert str(tmp_path / "nope.yaml") in exc.value.message


def test_a_policy_file_that_is_not_text_is_an_input_error(tmp_path: Path) -> None:
    """Binary garbage or a directory is refused as bad input, not a traceback."""
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="cannot read the policy"):
        load_policy(binary)
    with pytest.raises(InputError, match="cannot read the policy"):
        load_policy(tmp_path)


def test_a_good_file_parses_with_its_approvals_and_rules() -> None:
    """Top-level approval counts and rules are read as written."""
    policy = parse_policy(GOOD, source="ops/policy.yaml")
    assert (policy.doc.approvals.writes, policy.doc.approvals.reads) == (2, 1)
    assert policy.doc.rules[0].require.deny == "wiping is done by hand"
    assert policy.source == "ops/policy.yaml"


# -- mistakes, each named with its place ----------------------------------------------------


def test_bad_yaml_is_named_with_line_and_column() -> None:
    """A YAML syntax error says where it is."""
    e = _bad("version: 1\nname: x\nrules:\n  - name: [unclosed\n")
    assert "not valid YAML" in e.message
    assert "(line 5, column 1)" in e.message


def test_a_tab_indent_is_named_with_its_line() -> None:
    """Another syntax error: the place is the line of the tab."""
    e = _bad("version: 1\nname: x\nrules:\n\t- name: a\n")
    assert "line 4" in e.message


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just words\n", "42\n"])
def test_a_document_that_is_not_a_mapping_is_refused(text: str) -> None:
    """A policy is a mapping; an empty file, a list or a scalar is not."""
    assert "a policy is a YAML mapping" in _bad(text).message


def test_unknown_keys_are_named_with_their_path() -> None:
    """A misspelt key is refused at its place rather than silently ignored."""
    e = _bad(GOOD.replace("require:", "requires:"))
    assert "rules[0].requires: Extra inputs are not permitted" in e.message
    assert "rules[0].require: Field required" in e.message
    e = _bad(GOOD.replace("match: {actor:", "match: {actors:"))
    assert "rules[0].match.actors" in e.message
    e = _bad(GOOD + "extra: 1\n")
    assert "extra: Extra inputs are not permitted" in e.message


def test_duplicate_rule_names_are_refused() -> None:
    """Two rules with one name would make explanations ambiguous."""
    rule = GOOD.split("rules:\n", 1)[1]
    e = _bad(GOOD + rule)
    assert "two rules are named 'no-wipes'" in e.message


def test_a_rule_requiring_nothing_is_refused_at_its_place() -> None:
    """`require: {}` is named at rules[0].require."""
    e = _bad(GOOD.replace("{deny: wiping is done by hand}", "{}"))
    assert "rules[0].require:" in e.message
    assert "must require something" in e.message


def test_an_unknown_time_zone_is_refused_at_its_place() -> None:
    """A window's time zone must be an IANA name."""
    text = GOOD.replace(
        "{deny: wiping is done by hand}",
        "{window: {start: '22:00', end: '04:00', timezone: Mars/Olympus}}",
    )
    e = _bad(text)
    assert "rules[0].require.window.timezone" in e.message
    assert "unknown time zone 'Mars/Olympus'" in e.message


@pytest.mark.parametrize(
    ("change", "place"),
    [
        (("version: 1", "version: 2"), "version"),
        (("writes: 2", "writes: -1"), "approvals.writes"),
        (("writes: 2", "writes: 11"), "approvals.writes"),
        (("name: no-wipes", "name: No Wipes"), "rules[0].name"),
        (('actor: "store.wipe"', "effect: delete"), "rules[0].match.effect"),
        (("{deny: wiping is done by hand}", "{approvers: 0}"), "rules[0].require.approvers"),
        (
            ("{deny: wiping is done by hand}", "{window: {start: '22:00', end: '22:00'}}"),
            "rules[0].require.window",
        ),
        (
            (
                "{deny: wiping is done by hand}",
                "{window: {days: [funday], start: 1:00, end: 2:00}}",
            ),
            "rules[0].require.window.days[0]",
        ),
    ],
)
def test_each_invalid_value_is_named_with_its_path(change: tuple[str, str], place: str) -> None:
    """Every field's mistake is reported at its place in the file."""
    e = _bad(GOOD.replace(*change))
    assert f"\n  {place}:" in e.message


def test_every_problem_is_reported_at_once() -> None:
    """Several mistakes are all listed, with their count."""
    e = _bad(GOOD.replace("version: 1", "version: 9").replace("writes: 2", "writes: -3"))
    assert "(2 problem(s))" in e.message


# -- duplicate keys (issue 17 item 6) --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "version: 1\nname: p\napprovals:\n  writes: 1\n  writes: 0\n",
            "line 5: duplicate key approvals.writes (first given on line 4)",
        ),
        (
            "version: 1\nname: p\nname: q\n",
            "line 3: duplicate key name (first given on line 2)",
        ),
        (
            GOOD + "    require: {ticket: true}\n",
            "line 9: duplicate key rules[0].require (first given on line 8)",
        ),
        (
            "version: 1\nname: p\napprovals: {writes: 2, writes: 0}\n",
            "line 3: duplicate key approvals.writes (first given on line 3)",
        ),
    ],
    ids=["approvals", "top-level", "in-a-rule", "flow-mapping"],
)
def test_a_key_given_twice_is_refused_with_its_path_and_line(text: str, said: str) -> None:
    """`writes: 1` then `writes: 0`: YAML would let the last win silently, and a reviewer
    reading the first would be misled; refused (exit 2) naming file, key path and lines."""
    e = _bad(text)
    assert e.exit_code == 2
    assert e.message == f"ops/policy.yaml: {said}; the last one would silently win"
    assert e.hint is not None
    assert "once" in e.hint


def test_a_policy_file_with_a_duplicate_key_is_refused_when_loaded(tmp_path: Path) -> None:
    """The same through load_policy: the message names the file's path."""
    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\nname: p\napprovals:\n  writes: 1\n  writes: 0\n")
    with pytest.raises(InputError, match=r"policy\.yaml: line 5: duplicate key approvals\.writes"):
        load_policy(path)


def test_equal_values_in_different_mappings_are_not_duplicates() -> None:
    """Two rules may both say `ticket: true`; only one mapping's own keys must differ."""
    text = GOOD + (
        "  - name: tickets\n"
        "    description: Tickets for wipes.\n"
        "    match: {actor: store.wipe}\n"
        "    require: {ticket: true}\n"
        "  - name: more-tickets\n"
        "    description: Tickets for resizes.\n"
        "    match: {actor: store.resize}\n"
        "    require: {ticket: true}\n"
    )
    assert [r.name for r in parse_policy(text, source="x").doc.rules][1:] == [
        "tickets",
        "more-tickets",
    ]
