"""`planactor lab init|show|check|fault|clear-faults|scenarios`: the simulated infrastructure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from planactor._errors import InputError
from planactor.cli._app import app, out
from planactor.lab import (
    LabDocument,
    Receipt,
    create_lab,
    current_lab,
    kinds,
    lab_path,
    storage_state,
)
from planactor.lab import network as netlab
from planactor.lab.storage import (
    WRITE_OPERATIONS,
    StorageState,
    faults_from_doc,
    path_role,
    path_works,
)
from planactor.lab.storage import facts as lab_facts

lab_app = typer.Typer(
    name="lab",
    help="The simulated infrastructure that actors read and change, with faults and monitors.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(lab_app)

PathOption = typer.Option(
    None, "--path", help="The lab file (default: PLANACTOR_LAB, else $PLANACTOR_HOME/lab.json)."
)
JsonOption = typer.Option(False, "--json", help="Print as JSON.")
_STATE_STYLE = {"online": "green", "offline": "yellow", "failed": "bold red"}


@lab_app.command("init")
def lab_init(
    kind: str = typer.Argument(..., help="storage or network."),
    path: Path | None = PathOption,
    scenario: str = typer.Option("default", "--scenario", help="`planactor lab scenarios`."),
    latency_ms: int | None = typer.Option(
        None, "--latency-ms", help="Real time each operation takes (default: the scenario's)."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing lab file."),
) -> None:
    """Create a lab file from a scenario."""
    lab = create_lab(path, kind=kind, scenario=scenario, latency_ms=latency_ms, overwrite=force)
    doc = lab.read()
    out.print(
        f"created a {doc.kind} lab (scenario {doc.scenario}) at {lab.path}: {_summary(doc)}",
        markup=False,
    )
    if lab.path.resolve() != lab_path().resolve():
        out.print(f"  point commands at it: export PLANACTOR_LAB={lab.path}", markup=False)


def _summary(doc: LabDocument) -> str:
    text = f"latency {doc.latency_ms} ms, {len(doc.faults)} fault(s)"
    if doc.kind == "network":
        n = netlab.state_from_doc(doc.state)
        servers = sum(len(r.servers) for r in n.racks)
        fabric = (
            f"a {n.fabric.kind} fabric of {len(n.fabric.switches)} switches and "
            f"{len(n.fabric.links)} links"
            if n.fabric
            else "no fabric yet"
        )
        return f"{len(n.racks)} racks, {servers} servers, {fabric}; {text}"
    if doc.kind != "storage":
        return text
    s = storage_state(doc)
    return (
        f"{len(s.arrays)} arrays, {len(s.controllers)} controllers, {len(s.hosts)} hosts, "
        f"{len(s.luns)} LUNs; {text}"
    )


@lab_app.command("scenarios")
def lab_scenarios(kind: str = typer.Argument("storage", help="storage or network.")) -> None:
    """List a kind of lab's scenarios."""
    known = kinds()
    if kind not in known:
        raise InputError(
            f"no {kind!r} lab in this planactor", hint="kinds: " + ", ".join(sorted(known))
        )
    table = Table(show_header=True)
    table.add_column("scenario", no_wrap=True)
    table.add_column("what it holds")
    for name, text in known[kind].scenarios().items():
        table.add_row(name, text)
    out.print(table)


@lab_app.command("show")
def lab_show(path: Path | None = PathOption, as_json: bool = JsonOption) -> None:
    """Print the lab: arrays and hosts, or racks, switches and links; faults, violations."""
    lab = current_lab(path)
    doc = lab.read()
    if as_json:
        typer.echo(json.dumps(doc.to_document(), indent=2, ensure_ascii=False))
        return
    out.print(
        f"{doc.kind} lab at {lab.path} (scenario {doc.scenario}, latency {doc.latency_ms} ms, "
        f"{doc.seq} change(s))",
        markup=False,
    )
    if doc.kind == "storage":
        _show_storage(storage_state(doc))
    elif doc.kind == "network":
        _show_network(netlab.state_from_doc(doc.state))
    _show_faults(doc)
    _show_log(doc)


def _show_storage(state: StorageState) -> None:
    f = lab_facts(state)
    arrays = Table(show_header=True, title="arrays", title_justify="left")
    for col in ("array", "mode", "controller", "firmware", "state", "host I/O"):
        arrays.add_column(col, no_wrap=col != "host I/O")
    for name, a in f["arrays"].items():
        for i, c in enumerate(a["controllers"]):
            io = a["io"][c]
            arrays.add_row(
                name if i == 0 else "",
                a["mode"] if i == 0 else "",
                Text(c, style="bold" if c == a["active"] else ""),
                a["firmware"][c],
                Text(a["state"][c], style=_STATE_STYLE.get(a["state"][c], "")),
                _hosts(io),
            )
    out.print(arrays)
    hosts = Table(show_header=True, title="hosts and paths", title_justify="left")
    for col in ("host", "array", "LUNs", "paths"):
        hosts.add_column(col, no_wrap=col != "paths")
    for name, h in f["hosts"].items():
        for i, array in enumerate(h["arrays"]):
            paths = Text()
            for c in state.arrays[array].controllers:
                if (name, c) not in state.paths:
                    continue
                ok = path_works(state, name, c)
                role = path_role(state, name, c)
                if paths:
                    paths.append("  ")
                paths.append(
                    f"{c} ", style="bold" if role in ("active", "active-optimized") else ""
                )
                word: str = state.paths[(name, c)].state
                if word == "up" and not ok:
                    word = f"up, controller {state.controllers[c].state}"
                paths.append(f"{word} ({role})", style="green" if ok else "red")
            luns = [n for n in h["luns"] if state.luns[n].array == array]
            label = Text(name)
            if i == 0 and not h["responsive"]:
                label.append(" (not responding)", style="red")
            hosts.add_row(label if i == 0 else "", array, ", ".join(luns), paths)
    out.print(hosts)


def _show_network(state: netlab.NetworkState) -> None:
    fabric = state.fabric
    cut = netlab.cut_racks(state)
    servers = sum(len(r.servers) for r in state.racks)
    if fabric is None:
        out.print(f"site: {len(state.racks)} racks, {servers} servers", markup=False)
        out.print(
            Text(
                "fabric: none (apply one: network.apply_fabric, or the network.deploy_fabric "
                "routine)",
                style="dim",
            )
        )
    else:
        working = sum(1 for ln in fabric.links if netlab.link_works(fabric, ln))
        line = Text(
            f"fabric: {fabric.kind} {fabric.fingerprint[:19]}, {len(fabric.switches)} switches, "
            f"{working}/{len(fabric.links)} links working; "
        )
        if cut:
            line.append(f"{len(cut)} rack pair(s) cut apart", style="bold red")
        else:
            line.append("every rack reaches every other", style="green")
        out.print(line)
    where = netlab.rack_switches(fabric) if fabric else {}
    racks = Table(show_header=True, title="racks", title_justify="left")
    for col in ("rack", "servers", "switch", "cannot reach"):
        racks.add_column(col, no_wrap=col != "cannot reach")
    for r in state.racks:
        apart = [q.name for q in state.racks if (r.name, q.name) in cut or (q.name, r.name) in cut]
        racks.add_row(
            r.name,
            _servers(r.servers),
            where.get(r.name, "-"),
            Text(", ".join(apart), style="red") if apart else Text("-", style="dim"),
        )
    out.print(racks)
    if fabric is None:
        return
    info = netlab.facts(state)["fabric"]["switches"]
    switches = Table(show_header=True, title="switches", title_justify="left")
    for col in ("switch", "role", "state", "ASN", "loopback", "uplinks working", "rack"):
        switches.add_column(col, no_wrap=True)
    for name, sw in fabric.switches.items():
        f = info[name]
        status = netlab.switch_status(sw)
        switches.add_row(
            name,
            sw.role,
            Text(status, style=_NET_STYLE.get(status, "bold red")),
            str(sw.asn),
            sw.loopback,
            Text(
                f"{f['working_uplinks']}/{f['uplinks']}" if f["uplinks"] else "-",
                style="red" if f["uplinks"] and not f["working_uplinks"] else "",
            ),
            f["rack"] or "",
        )
    out.print(switches)
    links = Table(show_header=True, title="links", title_justify="left")
    for col in ("link", "addresses", "Gbps", "state"):
        links.add_column(col, no_wrap=col != "state")
    for ln in fabric.links:
        status = netlab.link_status(fabric, ln)
        links.add_row(
            f"{ln.a.switch}:{ln.a.port} -- {ln.b.switch}:{ln.b.port}",
            f"{ln.a.address} {ln.b.address}",
            str(ln.speed_gbps),
            Text(status, style="green" if status == "up" else "red"),
        )
    out.print(links)


_NET_STYLE = {"up": "green", "drained": "yellow"}


def _servers(names: tuple[str, ...]) -> str:
    if len(names) <= 2:
        return ", ".join(names) or "-"
    return f"{len(names)} ({names[0]}..{names[-1]})"


def _hosts(names: list[str]) -> Text:
    if not names:
        return Text("-", style="dim")
    if len(names) <= 2:
        return Text(", ".join(names))
    return Text(f"{len(names)} hosts")


def _show_faults(doc: LabDocument) -> None:
    if not doc.faults:
        out.print(Text("faults: none", style="dim"))
        return
    out.print("faults:", markup=False)
    if doc.kind == "storage":
        described = [f.describe() for f in faults_from_doc(doc.faults)]
    elif doc.kind == "network":
        described = [f.describe() for f in netlab.faults_from_doc(doc.faults)]
    else:
        described = [json.dumps(f) for f in doc.faults]
    for text in described:
        out.print(Text(f"  {text}", style="yellow"))


def _show_log(doc: LabDocument, limit: int = 20) -> None:
    applied = sum(doc.applied_counts().values())
    out.print(
        f"operations: {len(doc.operations)} logged, {applied} applied "
        f"({len(doc.applied_counts())} distinct idempotency keys)",
        markup=False,
    )
    if not doc.violations:
        out.print(Text("violations: none", style="green"))
        return
    out.print(Text(f"violations: {len(doc.violations)}", style="bold red"))
    table = Table(show_header=True, header_style="bold red")
    network = doc.kind == "network"
    cols = ("racks cut apart", "server pairs") if network else ("host", "LUN")
    for col in ("seq", "at", "kind", *cols, "cause"):
        table.add_column(col, no_wrap=col not in ("cause", "racks cut apart"))
    for v in doc.violations[-limit:]:
        if network:
            what = (", ".join("/".join(map(str, p)) for p in v.get("racks", [])), v.get("pairs"))
        else:
            what = (v.get("host", ""), v.get("lun", ""))
        table.add_row(
            str(v.get("seq", "")),
            str(v.get("at", "")),
            str(v.get("kind", "")),
            *(str(w) for w in what),
            Text(str(v.get("cause", "")), style="red"),
        )
    out.print(table)
    if len(doc.violations) > limit:
        out.print(f"  ... {len(doc.violations) - limit} earlier (see --json)", markup=False)


@lab_app.command("check")
def lab_check(path: Path | None = PathOption, as_json: bool = JsonOption) -> None:
    """Exit 1 if the lab recorded any invariant violation (a DU, a partition)."""
    doc = current_lab(path).read()
    if as_json:
        typer.echo(json.dumps({"ok": not doc.violations, "violations": doc.violations}, indent=2))
    elif doc.violations:
        for v in doc.violations:
            out.print(Text(f"{v.get('kind')}: {v.get('cause')}", style="red"))
    else:
        out.print(Text("no violations", style="green"))
    raise typer.Exit(1 if doc.violations else 0)


_FAULT_ARGS: dict[str, dict[str, tuple[str, ...]]] = {
    "storage": {
        "path-down": ("host", "controller"),
        "host-down": ("host",),
        "upgrade-fails": ("controller",),
        "timeout": ("operation",),
    },
    "network": {"link-down": ("a", "b"), "switch-down": ("switch",), "apply-fails": ()},
}
_EXAMPLE = {
    "host": "esx-03",
    "controller": "array-01-b",
    "operation": "move_paths",
    "a": "spine-1",
    "b": "leaf-1",
    "switch": "spine-2",
}
_META = {"a": "SWITCH", "b": "SWITCH"}
_COUNTED = ("upgrade-fails", "timeout", "apply-fails")


@lab_app.command("fault")
def lab_fault(
    kind: str = typer.Argument(
        ...,
        help="storage: path-down HOST CONTROLLER | host-down HOST | upgrade-fails CONTROLLER | "
        "timeout OPERATION; network: link-down SWITCH SWITCH | switch-down SWITCH | apply-fails",
    ),
    targets: list[str] = typer.Argument(None, help="What the fault hits."),
    path: Path | None = PathOption,
    times: int | None = typer.Option(
        None,
        "--times",
        min=1,
        help="upgrade-fails, timeout, apply-fails: fire this many times (default 1).",
    ),
    before_apply: bool = typer.Option(
        False, "--before-apply", help="timeout: time out before the operation takes effect."
    ),
) -> None:
    """Inject a fault: a path or a link goes down, a switch fails, an upgrade fails..."""
    lab = current_lab(path)
    lab_kind = lab.read().kind
    known = _FAULT_ARGS.get(lab_kind, {})
    if kind not in known:
        other = [k for k, faults in _FAULT_ARGS.items() if kind in faults]
        raise InputError(
            f"unknown fault {kind!r} for a {lab_kind} lab"
            + (f" (it is a {other[0]} lab fault)" if other else ""),
            hint="faults: " + ", ".join(known) if known else None,
        )
    names = known[kind]
    given = list(targets or [])
    if len(given) != len(names):
        takes = " ".join(_META.get(n, n.upper()) for n in names) if names else "no argument"
        raise InputError(
            f"fault {kind} takes {takes}, got {len(given)} argument(s)",
            hint=f"e.g. planactor lab fault {kind} " + " ".join(_EXAMPLE[n] for n in names),
        )
    if kind == "timeout" and given[0] not in WRITE_OPERATIONS:
        raise InputError(
            f"cannot time out {given[0]!r}", hint="operations: " + ", ".join(WRITE_OPERATIONS)
        )
    fault: dict[str, Any] = {"kind": kind, **dict(zip(names, given, strict=True))}
    if times is not None and kind in _COUNTED:
        fault["times"] = times
    if kind == "timeout":
        fault["applied"] = not before_apply
    _report(lab.inject_fault(fault))


@lab_app.command("clear-faults")
def lab_clear_faults(path: Path | None = PathOption) -> None:
    """Lift every injected fault (a controller that failed stays failed: reboot it)."""
    lab = current_lab(path)
    if lab.read().kind not in _FAULT_ARGS:
        raise InputError(f"{lab.path}: this lab kind has no faults to clear")
    _report(lab.clear_faults())


def _report(receipt: Receipt) -> None:
    if receipt.error is not None:
        raise InputError(str(receipt.error["message"]), hint=receipt.error.get("hint"))
    for line in receipt.changes or ("nothing to change",):
        out.print(line, markup=False)
    for v in receipt.violations:
        out.print(Text(f"{v['kind']}: {v['cause']}", style="bold red"))
