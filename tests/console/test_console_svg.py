"""The DAG drawing: one node per step, each below what it depends on, every text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from planactor.console._svg import dag_svg, layered_svg
from planactor.plan import Plan, StepKind

_NS = "{http://www.w3.org/2000/svg}"


def _plan(steps: list[dict[str, object]]) -> Plan:
    return Plan.model_validate(
        {"api_version": "planactor/v1", "intent": "x", "requested_by": "alice", "steps": steps}
    )


def _kind(name: str) -> StepKind:
    kinds: dict[str, StepKind] = {"w": "write", "x": "irreversible"}
    return kinds.get(name.split(".")[-1], "read")


def _tops(svg: str) -> dict[str, float]:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    return {
        g.attrib["data-step"]: float(g.find(f"{_NS}rect").attrib["y"])  # type: ignore[union-attr]
        for g in root.iter(f"{_NS}g")
    }


def test_each_step_sits_below_every_step_it_depends_on() -> None:
    """A diamond a -> (b, c) -> d draws three rows, b and c side by side."""
    plan = _plan(
        [
            {"id": "a", "actor": "core.echo", "args": {"message": "1"}},
            {"id": "b", "actor": "core.echo", "args": {"message": "2"}, "after": ["a"]},
            {"id": "c", "actor": "core.echo", "args": {"message": "3"}, "after": ["a"]},
            {"id": "d", "actor": "core.echo", "args": {"message": "4"}, "after": ["b", "c"]},
        ]
    )
    svg = layered_svg(plan, _kind)
    top = _tops(svg)
    assert top["a"] < top["b"] == top["c"] < top["d"]
    assert svg.count('class="edge"') == 4


def test_a_reference_is_a_dependency_too() -> None:
    """A step reading another's output is drawn below it, with an edge, without `after`."""
    plan = _plan(
        [
            {"id": "a", "actor": "core.echo", "args": {"message": "1"}},
            {"id": "b", "actor": "core.echo", "args": {"message": {"$ref": "a.output.message"}}},
        ]
    )
    top = _tops(layered_svg(plan, _kind))
    assert top["a"] < top["b"]


def test_badges_follow_the_kind() -> None:
    """R, W and W! mark reads, writes and irreversible writes in the drawing."""
    plan = _plan(
        [
            {"id": "r", "actor": "p.r", "args": {}},
            {"id": "w", "actor": "p.w", "args": {}},
            {"id": "x", "actor": "p.x", "args": {}},
        ]
    )
    badges = re.findall(r'class="badge"[^>]*>([^<]+)<', layered_svg(plan, _kind))
    assert badges == ["R", "W", "W!"]


def test_actor_names_are_escaped() -> None:
    """Text that looks like markup stays text inside the SVG."""
    plan = _plan([{"id": "a", "actor": "p.<b>&w", "args": {}}])
    svg = dag_svg(plan, _kind, graphviz=False)
    assert "<b>" not in svg
    assert "p.&lt;b&gt;&amp;w" in svg
    ET.fromstring(svg)
