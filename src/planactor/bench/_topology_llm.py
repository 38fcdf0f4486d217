"""Leaf-spine fabrics: the network pack's generator next to an LLM agent writing the document.

    planactor bench topology --methods generator,llm [--sizes 100] [--trials 3]
        [--planner local|openai|anthropic] [--model M] [--base-url URL]
        [--max-tokens 3072] [--json] [--out DIR]

A size is a switch count: `spines = max(2, round(size / 25))` and the rest leaves (100 ->
4 spines x 96 leaves, 384 links, the fabric `bench topology` times), 48 servers per leaf.
The LLM is given the spec and the conventions in prose and answers with the whole fabric
document (spec, switches, links with their addresses) under the pack's own JSON schema
(`FabricDocument`, as constrained output); the generator runs `generate`. Both are scored
by the pack's validator (`check_document`): a count of each finding code, plus `schema`
(the document does not parse as a FabricDocument) and `spec-differs` (it describes another
fabric than the one asked for). Latency and tokens per trial; trials go to
`<out>/topology_<planner>_<model>.jsonl` and the summary to the `.csv` beside it.

A 100-switch document is ~25,000 tokens: beyond the embedded SmolLM2-135M's 4,096-token
context, so use a small size with it too (`--sizes 6,100`) to see any output at all.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from planactor._errors import BackendError, InputError
from planactor.bench._sweep_files import choices, positive, slug
from planactor.fabric import (
    FabricDocument,
    LeafSpineParams,
    LeafSpineSpecDocument,
    check_document,
    generate,
    to_document,
)
from planactor.planner import BACKENDS, Backend, Message, get_backend

__all__ = [
    "METHODS",
    "TopologyTrial",
    "fabric_schema",
    "main",
    "params_for",
    "score_document",
]

METHODS = ("generator", "llm")
DEFAULT_SIZES = (100,)
DEFAULT_OUT = Path("bench-results")
ANSWER_CHARS = 4000


def params_for(switches: int) -> LeafSpineParams:
    """The leaf-spine spec of a size: 4 spines per 100 switches (at least 2), leaves the rest."""
    if switches < 3:
        raise ValueError("a leaf-spine fabric here has at least 3 switches")
    spines = max(2, round(switches / 25))
    leaves = switches - spines
    return LeafSpineParams(
        leaves=leaves, spines=spines, servers_per_leaf=48, spine_ports=max(64, leaves)
    )


@dataclass(kw_only=True)
class TopologyTrial:
    method: str
    size: int
    trial: int
    backend: str
    model: str
    parsed: bool = False  # JSON came back
    schema_ok: bool = False  # ... and it is a FabricDocument
    valid: bool = False  # ... of the fabric asked for, with no error finding
    codes: dict[str, int] = field(default_factory=dict)  # finding code -> count
    errors: int = 0
    warnings: int = 0
    switches: int = 0
    links: int = 0
    latency_s: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    usd: float = 0.0
    error: str | None = None
    detail: list[str] = field(default_factory=list)  # the first schema errors, if any
    answer: str = ""  # the model's document, its first ANSWER_CHARS characters

    def to_document(self) -> dict[str, Any]:
        return asdict(self)


def score_document(text: str, params: LeafSpineParams) -> dict[str, Any]:
    """What the pack's validator says of a fabric document in `text`.

    Keys: parsed, schema_ok, valid, codes (finding code -> count, with `schema` for a
    document that is not a FabricDocument and `spec-differs` for another fabric than
    `params`), errors, warnings, switches, links; `detail` the first schema errors.
    """
    out: dict[str, Any] = {"parsed": False, "schema_ok": False, "valid": False, "codes": {}}
    out |= {"errors": 0, "warnings": 0, "switches": 0, "links": 0}
    try:
        raw = json.loads(text)
    except ValueError:
        out["codes"] = {"unparsable": 1}
        out["errors"] = 1
        return out
    out["parsed"] = True
    if isinstance(raw, dict):
        for key in ("switches", "links"):
            if isinstance(raw.get(key), list):
                out[key] = len(raw[key])
    try:
        doc = FabricDocument.model_validate(raw)
    except ValidationError as e:
        out["codes"] = {"schema": e.error_count()}
        out["errors"] = e.error_count()
        out["detail"] = [
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()[:5]
        ]
        return out
    out["schema_ok"] = True
    try:
        report = check_document(doc)
    except (ValueError, KeyError, IndexError) as e:  # the model cannot even be built
        out["codes"] = {"unbuildable": 1}
        out["errors"] = 1
        out["detail"] = [str(e)]
        return out
    codes = Counter(f.code for f in report.findings)
    wanted = LeafSpineSpecDocument(kind="leaf-spine", **params.model_dump())
    if doc.spec != wanted:
        codes["spec-differs"] += 1
    out["codes"] = dict(sorted(codes.items()))
    severities = Counter(f.severity for f in report.findings)
    out["errors"] = severities["error"] + codes["spec-differs"]
    out["warnings"] = severities["warning"]
    out["valid"] = out["errors"] == 0
    return out


def fabric_messages(params: LeafSpineParams) -> list[Message]:
    spec = {"kind": "leaf-spine", **params.model_dump(mode="json")}
    rules = (
        "Conventions: switches named spine-1..spine-S then leaf-1..leaf-L, role spine or leaf, "
        "index from 1 in their tier, pod null, port_count = spine_ports or leaf_ports, "
        "servers = servers_per_leaf on leaves and 0 on spines. Every spine has ASN asn_base; "
        "leaves take asn_base+1, asn_base+2, ... Loopbacks are /32s from loopback_pool, from "
        "its first host address, in switch order. One link from every spine to every leaf "
        "(uplinks_per_spine of them), speed uplink_gbps: end `a` is the spine (ports "
        "Ethernet1, 2, ... in leaf order), end `b` the leaf (ports after its server ports, "
        "one per spine), and each link takes the next /31 of p2p_pool, the even address on "
        "`a`. Leave out summary, ports, server_ports and subnet."
    )
    user = (
        f"Write the complete JSON document of this leaf-spine fabric: keys spec, switches, "
        f"links.\nspec: {json.dumps(spec)}\n{rules}"
    )
    return [
        {"role": "system", "content": "You design data-centre networks. Answer only JSON."},
        {"role": "user", "content": user},
    ]


def fabric_schema(params: LeafSpineParams) -> dict[str, Any]:
    """The pack's `FabricDocument` schema with the switch and link lists held to the counts
    asked for: without a bound a small model never closes a list (measured: SmolLM2-135M
    wrote switches until max_tokens even at 3 switches). The planner narrows its schemas to
    the inventory the same way."""
    schema = FabricDocument.model_json_schema()
    links = params.leaves * params.spines * params.uplinks_per_spine
    for key, count in (("switches", params.leaves + params.spines), ("links", links)):
        schema["properties"][key] |= {"minItems": count, "maxItems": count}
    return schema


def run_trial(
    method: str,
    size: int,
    trial: int,
    *,
    backend: Backend | None,
    max_tokens: int,
    timeout_s: float,
) -> TopologyTrial:
    params = params_for(size)
    row = TopologyTrial(
        method=method,
        size=size,
        trial=trial,
        backend="planactor" if backend is None or method == "generator" else backend.name,
        model="fabric.generate" if backend is None or method == "generator" else backend.model,
    )
    start = time.perf_counter()
    text = ""
    try:
        if method == "generator":
            text = json.dumps(to_document(generate(params.to_spec())))
        elif backend is None:
            raise ValueError("the llm method needs a backend")
        else:
            call = backend.complete(
                fabric_messages(params),
                schema=fabric_schema(params),
                max_tokens=max_tokens,
                timeout_s=timeout_s,
            )
            text = call.text
            row.tokens_in, row.tokens_out, row.usd = call.tokens_in, call.tokens_out, call.cost_usd
            row.model = backend.model
    except BackendError as e:
        row.error = e.message
        if "cut off" in e.message:
            row.tokens_out = max_tokens  # it wrote all it was allowed to (the input is unknown)
    row.latency_s = time.perf_counter() - start
    score = score_document(text, params)
    for key in ("parsed", "schema_ok", "valid", "codes", "errors", "warnings", "switches", "links"):
        setattr(row, key, score[key])
    row.detail = score.get("detail", [])
    if method == "llm":
        row.answer = text[:ANSWER_CHARS]
    return row


@dataclass(frozen=True, slots=True, kw_only=True)
class TopologyRow:
    method: str
    size: int
    trials: int
    parsed: int
    schema_ok: int
    valid: int
    median_latency_s: float
    tokens_in: float
    tokens_out: float
    usd: float
    mean_errors: float
    codes: dict[str, int]  # summed over the trials
    backend_errors: int

    def to_document(self) -> dict[str, Any]:
        return asdict(self)


def summarize(trials: Sequence[TopologyTrial]) -> list[TopologyRow]:
    groups: dict[tuple[str, int], list[TopologyTrial]] = {}
    for t in trials:
        groups.setdefault((t.method, t.size), []).append(t)
    rows = []
    for (method, size), ts in sorted(
        groups.items(), key=lambda kv: (METHODS.index(kv[0][0]), kv[0][1])
    ):
        codes: Counter[str] = Counter()
        for t in ts:
            codes.update(t.codes)
        rows.append(
            TopologyRow(
                method=method,
                size=size,
                trials=len(ts),
                parsed=sum(t.parsed for t in ts),
                schema_ok=sum(t.schema_ok for t in ts),
                valid=sum(t.valid for t in ts),
                median_latency_s=statistics.median(t.latency_s for t in ts),
                tokens_in=statistics.fmean(t.tokens_in for t in ts),
                tokens_out=statistics.fmean(t.tokens_out for t in ts),
                usd=statistics.fmean(t.usd for t in ts),
                mean_errors=statistics.fmean(t.errors for t in ts),
                codes=dict(sorted(codes.items())),
                backend_errors=sum(t.error is not None for t in ts),
            )
        )
    return rows


def _write_csv(rows: Sequence[TopologyRow], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(TopologyRow.__dataclass_fields__))
        writer.writeheader()
        for r in rows:
            writer.writerow({**r.to_document(), "codes": json.dumps(r.codes)})


def _seconds(s: float) -> str:
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.1f} s"


def _render(console: Console, rows: Sequence[TopologyRow]) -> None:
    table = Table(title="leaf-spine fabric: generator vs LLM agent (scored by check_document)")
    for h in ("method", "switches", "trials", "JSON", "schema", "valid", "median latency"):
        table.add_column(h, justify="left" if h == "method" else "right")
    for h in ("tok in", "tok out", "errors/doc", "finding codes (summed)", "backend errors"):
        table.add_column(h, justify="left" if h.startswith("finding") else "right")
    for r in rows:
        table.add_row(
            r.method,
            str(r.size),
            str(r.trials),
            f"{r.parsed}/{r.trials}",
            f"{r.schema_ok}/{r.trials}",
            f"{r.valid}/{r.trials}",
            _seconds(r.median_latency_s),
            f"{r.tokens_in:,.0f}",
            f"{r.tokens_out:,.0f}",
            f"{r.mean_errors:.1f}",
            ", ".join(f"{c} {n}" for c, n in r.codes.items()) or "-",
            str(r.backend_errors),
        )
    console.print(table)


def _methods(text: str) -> tuple[str, ...]:
    return choices(text, METHODS, "method")


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"sizes are switch counts like 6,100: not {text!r}"
        ) from None
    if any(not 3 <= s <= 1088 for s in sizes):
        raise argparse.ArgumentTypeError("every size is 3 to 1,088 switches")
    return sizes


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="planactor bench topology", description=(__doc__ or "").split("\n\n", 1)[0]
    )
    p.add_argument("--methods", type=_methods, required=True, help="generator,llm")
    p.add_argument("--sizes", type=_sizes, default=DEFAULT_SIZES, help="switch counts (100)")
    p.add_argument("--trials", type=positive, default=3, help="documents per method and size (3)")
    p.add_argument("--planner", choices=BACKENDS, default="local", help="LLM backend (local)")
    p.add_argument("--model", default=None, help="GGUF path (local) or model id (hosted)")
    p.add_argument("--base-url", default=None, help="an OpenAI-compatible server's URL")
    p.add_argument(
        "--max-tokens", type=positive, default=3072, help="answer tokens per document (3072)"
    )
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per call (600)")
    p.add_argument("--json", action="store_true", help="print the summary rows as JSON")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder (bench-results)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(argv) if argv is not None else None)
    if not args.timeout > 0:
        raise InputError("--timeout must be positive")
    llm = "llm" in args.methods
    backend = get_backend(args.planner, model=args.model, base_url=args.base_url) if llm else None
    name = (
        f"{args.planner}_{slug(backend.model or args.model or 'default')}"
        if backend is not None
        else "generator"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    jsonl, csv_path = args.out / f"topology_{name}.jsonl", args.out / f"topology_{name}.csv"
    err = Console(file=sys.stderr, width=None if sys.stderr.isatty() else 150)
    trials = []
    with jsonl.open("w", encoding="utf-8") as sink:
        for size in args.sizes:
            for method in args.methods:
                for t in range(args.trials):
                    err.print(f"{method} {size} switches, trial {t + 1}/{args.trials}")
                    row = run_trial(
                        method,
                        size,
                        t,
                        backend=backend,
                        max_tokens=args.max_tokens,
                        timeout_s=args.timeout,
                    )
                    sink.write(json.dumps(row.to_document()) + "\n")
                    sink.flush()
                    trials.append(row)
    rows = summarize(trials)
    _write_csv(rows, csv_path)
    if args.json:
        print(json.dumps([r.to_document() for r in rows], indent=2))
    else:
        _render(Console(file=sys.stdout, width=None if sys.stdout.isatty() else 170), rows)
    err.print(f"results: {jsonl}, {csv_path}")
    return 0
