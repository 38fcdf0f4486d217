"""`planactor audit`: a run's audit report, verification of the journal, and its heads.

One command dispatches on its first argument, because `audit RUN_ID` and `audit verify`
share the name:

    planactor audit RUN_ID [--format md|html|json] [-o FILE] [--anchor A]   the report
    planactor audit verify [RUN_ID] [--anchor RUN_ID@SEQ:HASH ...] [--json] check, exit 0/1
    planactor audit head [RUN_ID] [--json]                                  heads to anchor
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.text import Text

from planactor._errors import InputError
from planactor._home import default_journal
from planactor.audit import (
    ANCHOR_FORMAT,
    Anchor,
    Finding,
    Verification,
    audit_html,
    audit_json,
    audit_markdown,
    audit_run,
    linked_runs,
    links_html,
    links_markdown,
    run_ids,
    verify_run,
)
from planactor.cli._app import EXIT_FAILED, EXIT_OK, app, err, kind_of, out
from planactor.cli._layout import fit, print_lines
from planactor.cli._run import DbOption, JsonOption, _journal
from planactor.journal import Journal
from planactor.policy import KeyStore

_USAGE = "planactor audit RUN_ID | planactor audit verify [RUN_ID] | planactor audit head [RUN_ID]"


class Format(StrEnum):
    md = "md"
    html = "html"
    json = "json"


@app.command(
    "audit",
    help=(
        "Audit runs. `audit RUN_ID` writes the report (who asked, what was approved and by "
        "whom, what ran, integrity); `audit verify [RUN_ID]` recomputes the hash chain and "
        "checks plans and signatures (exit 1 on tampering, naming the first bad event); "
        "`audit head [RUN_ID]` prints each run's head as RUN_ID@SEQ:HASH, to keep elsewhere."
    ),
)
def audit_cmd(
    args: list[str] | None = typer.Argument(
        None, metavar="RUN_ID | verify [RUN_ID] | head [RUN_ID]", show_default=False
    ),
    fmt: Format | None = typer.Option(
        None, "--format", "-f", help="Report format: md (default), html or json."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report to FILE instead of standard output."
    ),
    anchor: list[str] = typer.Option(
        [],
        "--anchor",
        metavar=ANCHOR_FORMAT,
        help="A head kept elsewhere (`audit head`); the chain must still hold it. Repeatable.",
    ),
    db: Path | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    words = list(args or [])
    if not words:
        raise InputError("audit needs a run id or a subcommand", hint=f"usage: {_USAGE}")
    verb = words[0]
    if verb in ("verify", "head"):
        rest = words[1:]
        if len(rest) > 1:
            raise InputError(
                f"audit {verb} takes at most one run id, got {len(rest)}", hint=f"usage: {_USAGE}"
            )
        if fmt is not None or output is not None:
            raise InputError(
                f"--format and --output belong to the report, not to `audit {verb}`",
                hint=f"`planactor audit RUN_ID --format {fmt or 'html'}` writes a report",
            )
        run_id = rest[0] if rest else None
        if verb == "verify":
            code = _verify(db, run_id, [Anchor.parse(a) for a in anchor], as_json)
        else:
            if anchor:
                raise InputError("--anchor belongs to `audit verify`, not to `audit head`")
            code = _heads(db, run_id, as_json)
        raise typer.Exit(code)
    if len(words) > 1:
        raise InputError(
            f"audit takes one run id, got {' '.join(words)!r}", hint=f"usage: {_USAGE}"
        )
    if as_json and fmt not in (None, Format.json):
        raise InputError("--json and --format disagree", hint="give one of them")
    chosen = Format.json if as_json else (fmt or Format.md)
    raise typer.Exit(_report(db, verb, chosen, output, [Anchor.parse(a) for a in anchor]))


# -- the report ----------------------------------------------------------------------------------


def _open(db: Path | None, run_id: str | None) -> Journal | None:
    """The journal, or None when the file does not exist (never created by a read)."""
    path = db or default_journal()
    if path.exists() or db is not None:  # a journal named with --db must exist (exit 2)
        return _journal(path)
    if run_id is not None:
        raise InputError(
            f"no run {run_id!r}: there is no journal at {path}",
            hint="`planactor runs` lists the runs; --db names another journal",
        )
    return None


def _report(
    db: Path | None, run_id: str, fmt: Format, output: Path | None, anchors: list[Anchor]
) -> int:
    _check_anchor_runs(anchors, run_id)
    journal = _open(db, run_id)
    assert journal is not None
    with journal:
        record = audit_run(
            journal, run_id, trusted=KeyStore().trusted(), anchors=anchors, kind_of=kind_of
        )
        links = linked_runs(journal, run_id)  # a remediation and the run it recovers
    if fmt is Format.html:
        text = audit_html(record, kind_of=kind_of)
        text = text.replace("</body></html>", links_html(run_id, links) + "</body></html>")
    elif fmt is Format.json:
        text = audit_json(record)
        if links:
            doc = json.loads(text)
            doc["linked_runs"] = [x.to_document() for x in links]
            text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    else:
        text = audit_markdown(record, kind_of=kind_of) + links_markdown(run_id, links)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as e:
            raise InputError(f"{output}: cannot write the report: {e.strerror}") from None
        err.print(f"wrote the {fmt.value} audit report of {run_id} to {output}", markup=False)
    for note in record.notes:
        err.print(Text.assemble(("note: ", "yellow"), note))
    if not record.ok:
        first = record.findings[0]
        err.print(
            Text.assemble((_label(first), "bold red"), f" {run_id}: {first.where}: {first.message}")
        )
        return EXIT_FAILED
    return EXIT_OK


def _check_anchor_runs(anchors: list[Anchor], run_id: str | None) -> None:
    if run_id is None:
        return
    others = sorted({a.run_id for a in anchors if a.run_id != run_id})
    if others:
        raise InputError(
            f"--anchor names run(s) {', '.join(others)}, but only {run_id} is checked",
            hint=f"give the anchors of {run_id}, or leave out the run id to check every run",
        )


# -- verify --------------------------------------------------------------------------------------


def _verify(db: Path | None, run_id: str | None, anchors: list[Anchor], as_json: bool) -> int:
    _check_anchor_runs(anchors, run_id)
    journal = _open(db, None if anchors else run_id)
    results: list[Verification] = []
    missing: list[Anchor] = []
    if journal is not None:
        with journal:
            known = run_ids(journal)
            if run_id is not None and run_id not in known and not anchors:
                journal.run(run_id)  # unknown run: InputError (exit 2) with a hint
            ids = [run_id] if run_id is not None else list(known)
            missing = [a for a in anchors if a.run_id not in known]
            trusted = KeyStore().trusted()
            for rid in ids:
                if rid not in known:
                    continue
                mine = [a for a in anchors if a.run_id == rid]
                results.append(
                    verify_run(journal, rid, trusted=trusted, anchors=mine, kind_of=kind_of)
                )
    else:
        missing = list(anchors)
    path = db or default_journal()
    ok = all(v.ok for v in results) and not missing
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "ok": ok,
                    "journal": str(path),
                    "runs": [v.to_document() for v in results],
                    "missing": [{"anchor": str(a), "reason": _MISSING} for a in missing],
                }
            )
        )
    else:
        if not results and not missing:
            out.print(f"no runs in {path}", markup=False)
        for v in results:
            print_lines(out, _verify_lines(v, out.width))
        for a in missing:
            out.print(Text.assemble(("MISSING  ", "bold red"), f"{a.run_id}: ", _MISSING))
    return EXIT_OK if ok else EXIT_FAILED


_MISSING = (
    "an anchor names this run, but the journal holds no such run: it was deleted, or this is "
    "not the journal it ran in (--db)"
)


def _label(first: Finding) -> str:
    """A run that could write without a recorded authorization is not (only) tampered with."""
    return "UNAUTHORIZED" if first.check == "unauthorized" else "TAMPERED"


def _verify_lines(v: Verification, width: int) -> list[Text]:
    """One line per run (the head cut to fit the width: `audit head` and --json give it
    whole; a finding is the evidence, never cut), then one line per note."""
    notes = [Text(f"         note: {n}", style="dim") for n in v.notes]
    if v.ok:
        approvals = f", {v.approvals_checked} approval(s) checked" if v.approvals_checked else ""
        anchored = f", {len(v.anchors)} anchor(s) hold" if v.anchors else ""
        said = f"{v.run_id}: {v.chain.events} events{approvals}{anchored}"
        # The head repeats the run id: shown from `@SEQ:`, with as much hash as fits.
        head = str(v.head).removeprefix(v.run_id)
        room = width - 9 - len(said) - len("; head ")
        if room >= 12:
            said += f"; head {fit(head, room)}"
        line = Text.assemble(("ok       ", "bold green"), said)
        return [line, *notes]
    first = v.findings[0]
    extra = len(v.findings) - 1
    more = f" (+{extra} more finding(s), --json lists them)" if extra else ""
    line = Text.assemble(
        (f"{_label(first):<8} ", "bold red"), f"{v.run_id}: {first.where}: {first.message}{more}"
    )
    return [line, *notes]


# -- head ----------------------------------------------------------------------------------------


def _heads(db: Path | None, run_id: str | None, as_json: bool) -> int:
    journal = _open(db, run_id)
    rows: list[dict[str, object]] = []
    if journal is not None:
        with journal:
            ids = run_ids(journal)
            if run_id is not None:
                if run_id not in ids:
                    journal.run(run_id)  # unknown run: InputError (exit 2) with a hint
                ids = [run_id]
            for rid in ids:
                chain = journal.verify(rid)
                a = Anchor(run_id=rid, seq=chain.events - 1, hash=chain.head) if chain.ok else None
                rows.append(
                    {
                        "run_id": rid,
                        "ok": chain.ok,
                        "seq": a.seq if a else None,
                        "hash": a.hash if a else None,
                        "anchor": str(a) if a else None,
                        "reason": None
                        if chain.ok
                        else f"event #{chain.first_bad_seq}: {chain.reason}",
                    }
                )
    bad = [r for r in rows if not r["ok"]]
    if as_json:
        out.print_json(json.dumps(rows))
    else:
        if not rows:
            out.print(f"no runs in {db or default_journal()}", markup=False)
        for r in rows:
            if r["ok"]:
                out.print(str(r["anchor"]), markup=False, soft_wrap=True)
    for r in bad:
        err.print(
            Text.assemble(
                ("warning: ", "yellow"),
                f"{r['run_id']} does not verify ({r['reason']}); it has no head worth anchoring",
            )
        )
    return EXIT_FAILED if bad else EXIT_OK
