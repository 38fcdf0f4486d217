"""planactor.bench._topology_llm: the spec of a size, the scorer on hand-made documents, and
the generator next to the embedded SmolLM2-135M end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from planactor.bench import run_benchmark
from planactor.bench._topology_llm import fabric_schema, params_for, score_document
from planactor.fabric import generate, to_document


def _doc(switches: int) -> dict[str, Any]:
    return to_document(generate(params_for(switches).to_spec()))


def test_sizes_map_to_leaf_spine_specs() -> None:
    """100 switches is 4 spines x 96 leaves (the timed fabric); small sizes keep 2 spines."""
    p = params_for(100)
    assert (p.spines, p.leaves, p.spine_ports) == (4, 96, 96)
    assert (params_for(6).spines, params_for(6).leaves) == (2, 4)
    with pytest.raises(ValueError, match="at least 3"):
        params_for(2)


def test_schema_holds_the_lists_to_the_counts_asked_for() -> None:
    """The grammar's switch and link lists have exactly the asked-for lengths."""
    props = fabric_schema(params_for(6))["properties"]
    assert (props["switches"]["minItems"], props["switches"]["maxItems"]) == (6, 6)
    assert (props["links"]["minItems"], props["links"]["maxItems"]) == (8, 8)


def test_the_generators_document_scores_valid() -> None:
    """The generator's own document: parsed, schema ok, no finding, counts right."""
    score = score_document(json.dumps(_doc(6)), params_for(6))
    assert score["valid"]
    assert score["codes"] == {}
    assert (score["switches"], score["links"]) == (6, 8)


def test_a_missing_link_and_another_spec_are_counted_by_code() -> None:
    """Dropping a link is a `missing-link` error of the validator; a fabric of another size
    than asked is `spec-differs`, even when it is valid in itself."""
    doc = _doc(6)
    doc["links"] = doc["links"][1:]
    doc["summary"] = None
    for sw in doc["switches"]:
        sw["ports"] = None
    score = score_document(json.dumps(doc), params_for(6))
    assert score["codes"].get("missing-link") == 1
    assert not score["valid"]
    other = score_document(json.dumps(_doc(7)), params_for(6))
    assert other["codes"] == {"spec-differs": 1}
    assert other["errors"] == 1


def test_unparsable_and_off_schema_answers() -> None:
    """Not JSON: `unparsable`; JSON that is no fabric document: `schema`, with its errors."""
    assert score_document("{not json", params_for(6))["codes"] == {"unparsable": 1}
    bad = score_document(json.dumps({"switches": [], "links": "x"}), params_for(6))
    assert bad["parsed"]
    assert not bad["schema_ok"]
    assert bad["codes"]["schema"] == bad["errors"] > 0
    assert bad["detail"]


def test_generator_and_embedded_model_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bench topology --methods generator,llm` at 3 switches: the generator's document is
    valid, the model's is scored; JSONL and CSV written; counts consistent."""
    code = run_benchmark(
        "topology",
        [
            *("--methods", "generator,llm", "--sizes", "3", "--trials", "1"),
            *("--max-tokens", "800", "--out", str(tmp_path), "--json"),
        ],
    )
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["method"], r["size"], r["trials"]) for r in rows] == [
        ("generator", 3, 1),
        ("llm", 3, 1),
    ]
    generator, llm = rows
    assert (generator["valid"], generator["codes"]) == (1, {})
    assert llm["valid"] <= llm["schema_ok"] <= llm["parsed"] <= llm["trials"]
    assert llm["tokens_out"] > 0
    stem = tmp_path / "topology_local_SmolLM2-135M-Instruct-Q4_1"
    trials = [json.loads(x) for x in stem.with_suffix(".jsonl").read_text().splitlines()]
    assert len(trials) == 2
    with stem.with_suffix(".csv").open(newline="") as f:
        assert [int(r["trials"]) for r in csv.DictReader(f)] == [1, 1]
