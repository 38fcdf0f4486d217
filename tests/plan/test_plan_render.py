"""planactor.plan._render: the review renderings (rich table, Mermaid, Graphviz DOT)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table

from planactor.plan import (
    API_VERSION,
    Plan,
    StepKind,
    dependencies,
    render_dot,
    render_mermaid,
    render_table,
)

PROPERTY = settings(max_examples=100, deadline=None)

KINDS: dict[str, StepKind] = {
    "core.read": "read",
    "core.write": "write",
    "db.drop_table": "irreversible",
}


def kind_of(actor: str) -> StepKind:
    return KINDS.get(actor, "unknown")


def _plan(*steps: dict[str, Any], intent: str = "ship it", **top: Any) -> Plan:
    return Plan.model_validate(
        {
            "api_version": API_VERSION,
            "intent": intent,
            "requested_by": "ops",
            "steps": list(steps),
            **top,
        }
    )


PLAN = _plan(
    {"id": "fetch", "actor": "core.read", "args": {"url": "https://x", "n": 1}},
    {"id": "backup", "actor": "core.write", "args": {"source": {"$ref": "fetch.output.data"}}},
    {
        "id": "drop",
        "actor": "db.drop_table",
        "after": ["backup"],
        "args": {"table": {"$input": "table"}, "from": {"$ref": "fetch.output"}},
        "retry": {"attempts": 3},
        "timeout_s": 30,
        "when": {"$ref": "backup.output.ok"},
        "on_failure": "compensate",
    },
    {"id": "notify", "actor": "chat.post", "args": {}, "retry": {"attempts": 1}},
    inputs={"table": "users"},
)

MERMAID_NODE = re.compile(r'    n(\d+)\["(.*)"\]:::(\w+)')
MERMAID_EDGE = re.compile(r"    n(\d+) --> n(\d+)")
DOT_STRING = r'"((?:[^"\\]|\\.)*)"'
DOT_NODE = re.compile(rf'    n(\d+) \[label={DOT_STRING}, fillcolor="([^"]*)", color="([^"]*)"\];')
DOT_EDGE = re.compile(r"    n(\d+) -> n(\d+);")


def _edges_of(plan: Plan) -> list[tuple[int, int]]:
    """(dependency, dependent) index pairs for dependencies that are steps of the plan."""
    index = {s.id: i for i, s in enumerate(plan.steps)}
    return [(index[d], index[s.id]) for s in plan.steps for d in dependencies(s) if d in index]


def _mermaid_text(label: str) -> list[str]:
    """The lines of a Mermaid label, entity codes decoded."""
    decode = {"#quot;": '"', "#lt;": "<", "#gt;": ">", "#35;": "#"}
    return [re.sub(r"#(quot|lt|gt|35);", lambda m: decode[m[0]], p) for p in label.split("<br/>")]


def _dot_text(quoted: str) -> str:
    """The text of a DOT string body, escapes decoded."""
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], quoted)


def _table_text(table: Table) -> str:
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(table)
    return console.export_text()


def _row(text: str, step_id: str) -> str:
    (line,) = [ln for ln in text.splitlines() if re.match(rf"│ \d+ │ {re.escape(step_id)} +│", ln)]
    return line


# --- Mermaid --------------------------------------------------------------------------------


def test_mermaid_has_one_node_per_step_and_one_edge_per_dependency() -> None:
    """Each step is a numbered node, and each dependency an arrow from it to its dependent."""
    out = render_mermaid(PLAN, kind_of)
    lines = out.removesuffix("\n").split("\n")
    assert lines[0] == "flowchart TD"
    nodes = [m for ln in lines if (m := MERMAID_NODE.fullmatch(ln))]
    edges = [(int(m[1]), int(m[2])) for ln in lines if (m := MERMAID_EDGE.fullmatch(ln))]
    assert [int(m[1]) for m in nodes] == list(range(len(PLAN.steps)))
    assert sorted(edges) == sorted(_edges_of(PLAN))
    assert sorted(edges) == [(0, 1), (0, 2), (1, 2)]
    assert out.endswith("\n")


def test_mermaid_styles_nodes_by_effect() -> None:
    """Nodes carry their kind's class, irreversible ones say so, and used classes are defined."""
    out = render_mermaid(PLAN, kind_of)
    nodes = {int(m[1]): m for ln in out.split("\n") if (m := MERMAID_NODE.fullmatch(ln))}
    assert [nodes[i][3] for i in range(4)] == ["read", "write", "irreversible", "unknown"]
    assert "irreversible" in _mermaid_text(nodes[2][2])[2]
    assert "irreversible" not in _mermaid_text(nodes[1][2])[2]
    defined = re.findall(r"^    classDef (\w+) fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6}$", out, re.M)
    assert sorted(defined) == ["irreversible", "read", "unknown", "write"]


def test_mermaid_defines_only_the_classes_it_uses() -> None:
    """A plan with only read steps defines only the read class."""
    out = render_mermaid(_plan({"id": "a", "actor": "core.read"}), kind_of)
    assert re.findall(r"classDef (\w+)", out) == ["read"]


def test_renderings_ask_kind_of_about_each_actor() -> None:
    """The kind_of callback is asked about each step's actor, and only actors."""
    asked: list[str] = []

    def spy(actor: str) -> StepKind:
        asked.append(actor)
        return kind_of(actor)

    render_mermaid(PLAN, spy)
    render_dot(PLAN, spy)
    render_table(PLAN, spy)
    assert sorted(asked) == sorted([s.actor for s in PLAN.steps] * 3)


def test_mermaid_skips_edges_to_unknown_steps() -> None:
    """A dependency on a step not in the plan (an invalid plan) draws no arrow."""
    out = render_mermaid(_plan({"id": "a", "actor": "core.read", "after": ["ghost"]}), kind_of)
    assert "-->" not in out


# Actor names are free text to the model (the catalog checks them), so labels must survive any.
label_text = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\n\r"), max_size=190
)


@PROPERTY
@given(
    actor=label_text.filter(bool),
    extra=st.sampled_from(['"', "<", ">", '"><script>', "\\", "#", "#quot;", "#35;"]),
)
def test_mermaid_labels_are_escaped(actor: str, extra: str) -> None:
    """Quotes, angle brackets and `#` are encoded, so the node text reads back intact."""
    actor = actor + extra
    out = render_mermaid(_plan({"id": "a", "actor": actor}), kind_of)
    (node,) = [m for ln in out.split("\n") if (m := MERMAID_NODE.fullmatch(ln))]
    label = node[2]
    assert '"' not in label
    assert not re.search(r"<(?!br/>)|(?<!<br/)>", label)
    assert _mermaid_text(label) == ["a", actor, "[? unknown actor]"]


# --- DOT ------------------------------------------------------------------------------------


def test_dot_has_one_node_per_step_and_one_edge_per_dependency() -> None:
    """Each step is a node and each dependency an edge from it to its dependent."""
    out = render_dot(PLAN, kind_of)
    lines = out.removesuffix("\n").split("\n")
    assert lines[0] == "digraph plan {"
    assert lines[-1] == "}"
    nodes = [m for ln in lines if (m := DOT_NODE.fullmatch(ln))]
    edges = [(int(m[1]), int(m[2])) for ln in lines if (m := DOT_EDGE.fullmatch(ln))]
    assert [int(m[1]) for m in nodes] == list(range(len(PLAN.steps)))
    assert sorted(edges) == sorted(_edges_of(PLAN))


def test_dot_colours_match_mermaid_and_mark_irreversible() -> None:
    """Each kind has its own colours, the same in DOT as in Mermaid; irreversible is labelled."""
    dot = render_dot(PLAN, kind_of)
    mermaid = render_mermaid(PLAN, kind_of)
    classes = {
        k: (fill, stroke)
        for k, fill, stroke in re.findall(r"classDef (\w+) fill:(#\w+),stroke:(#\w+)", mermaid)
    }
    nodes = {int(m[1]): m for ln in dot.split("\n") if (m := DOT_NODE.fullmatch(ln))}
    kinds = [kind_of(s.actor) for s in PLAN.steps]
    for i, kind in enumerate(kinds):
        assert (nodes[i][3], nodes[i][4]) == classes[kind]
    assert len({nodes[i][3] for i in nodes}) == len(set(kinds))
    assert _dot_text(nodes[2][2]).endswith("[write ⚠ irreversible]")


@PROPERTY
@given(
    actor=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=190),
    intent=st.text(st.characters(exclude_categories=("Cs",)), min_size=1),
    extra=st.sampled_from(['"', "\\", "\n", '\\"', "<b>", "\\n"]),
)
def test_dot_strings_are_escaped(actor: str, intent: str, extra: str) -> None:
    """Quotes, backslashes and newlines in labels and the title are escaped and read back."""
    plan = _plan({"id": "a", "actor": actor + extra}, intent=intent + extra)
    out = render_dot(plan, kind_of)
    title = re.search(rf"^    label={DOT_STRING}; labelloc=t;$", out, re.M)
    assert title is not None
    assert _dot_text(title[1]) == intent + extra
    nodes = [m for ln in out.split("\n") if (m := DOT_NODE.fullmatch(ln))]
    assert len(nodes) == 1
    assert _dot_text(nodes[0][2]) == f"a\n{actor + extra}\n[? unknown actor]"


def test_dot_skips_edges_to_unknown_steps() -> None:
    """A dependency on a step not in the plan draws no edge."""
    out = render_dot(_plan({"id": "a", "actor": "core.read", "after": ["ghost"]}), kind_of)
    assert "->" not in out


# --- table ----------------------------------------------------------------------------------


def test_table_has_one_row_per_step() -> None:
    """The table lists every step once, in plan order, numbered from 0."""
    table = render_table(PLAN, kind_of, title="Review")
    assert table.row_count == len(PLAN.steps)
    text = _table_text(table)
    assert text.lstrip().startswith("Review")
    for i, step in enumerate(PLAN.steps):
        assert re.match(rf"│ {i} │ {step.id} +│ {re.escape(step.actor)} ", _row(text, step.id))


@pytest.mark.parametrize(
    ("step_id", "badge"),
    [
        ("fetch", "[read]"),
        ("backup", "[write]"),
        ("drop", "[write ⚠ irreversible]"),
        ("notify", "[? unknown actor]"),
    ],
)
def test_table_badges_show_the_effect(step_id: str, badge: str) -> None:
    """Each row shows its actor's effect; irreversible writes carry a warning."""
    row = _row(_table_text(render_table(PLAN, kind_of)), step_id)
    assert f"│ {badge} " in row


def test_table_badge_styles_differ_by_effect() -> None:
    """The effect badges are styled, and irreversible differs from an ordinary write."""
    table = render_table(PLAN, kind_of)
    effect = next(c for c in table.columns if c.header == "effect")
    styles = [str(cell.style) for cell in effect.cells]  # type: ignore[attr-defined]
    assert all(styles)
    assert len(set(styles)) == len(PLAN.steps)


def test_table_summarises_args_with_reference_arrows() -> None:
    """Top-level references show as ←STEP.output... or ←inputs.NAME; other values as JSON."""
    text = _table_text(render_table(PLAN, kind_of))
    assert 'url="https://x" n=1' in _row(text, "fetch")
    assert "source=←fetch.output.data" in _row(text, "backup")
    assert "table=←inputs.table from=←fetch.output" in _row(text, "drop")


def test_table_shows_nested_references_as_json() -> None:
    """A reference inside a list or object is shown as its JSON, not as an arrow."""
    plan = _plan({"id": "a", "actor": "core.read", "args": {"xs": [{"$input": "n"}]}})
    assert 'xs=[{"$input": "n"}]' in _row(_table_text(render_table(plan, kind_of)), "a")


def test_table_cuts_long_args_with_an_ellipsis() -> None:
    """An argument summary longer than 60 characters is cut to 60, ending in '…'."""
    plan = _plan({"id": "a", "actor": "core.read", "args": {"text": "x" * 100}})
    row = _row(_table_text(render_table(plan, kind_of)), "a")
    (summary,) = re.findall(r'text="x+…', row)
    assert len(summary) == 60


def test_table_shows_dependencies_and_failure_policy() -> None:
    """The after column lists all dependencies or '-'; the policy cell adds when/retry/timeout."""
    text = _table_text(render_table(PLAN, kind_of))
    assert "│ backup, fetch │ " in _row(text, "drop")
    assert "│ compensate when retry×3 timeout 30s" in _row(text, "drop")
    assert re.search(r"│ - +│", _row(text, "fetch"))
    assert re.search(r"│ pause +│$", _row(text, "notify"))


def test_table_never_cuts_step_ids_or_actor_names() -> None:
    """In an 80-column pipe the step and actor columns keep their full text."""
    plan = _plan(
        {"id": "a-rather-long-step-identifier", "actor": "storage.upgrade_firmware"},
        {"id": "b", "actor": "core.echo", "args": {"message": "x" * 200}},
    )
    console = Console(record=True, width=80, file=io.StringIO())
    console.print(render_table(plan, kind_of))
    text = console.export_text()
    assert "a-rather-long-step-identifier" in text
    assert "storage.upgrade_firmware" in text
