"""`planactor keys ...` and `planactor approve`: approver keys and signed approvals."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.table import Table

from planactor._errors import InputError
from planactor._files import load_plan, save_plan
from planactor.cli._app import app, catalog, out
from planactor.plan import Approval, Plan
from planactor.policy import KeyStore, PublicKey, load_policy, sign

keys_app = typer.Typer(
    name="keys",
    help="Approver keys (Ed25519) under $PLANACTOR_HOME/keys.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(keys_app)

_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_MAX_VALIDITY = timedelta(days=3653)

PolicyOption = typer.Option(
    None,
    "--policy",
    help="Policy file (default: $PLANACTOR_POLICY, $PLANACTOR_HOME/policy.yaml, else built in).",
)


def parse_expiry(text: str, *, now: datetime) -> timedelta:
    """`4h`, `30m`, `2d`, `90s`, or an ISO 8601 time with a zone."""
    m = _DURATION.match(text.strip().lower())
    if m:
        try:
            valid = timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
        except OverflowError:  # `9999999999999999999d` is no validity a datetime can hold
            valid = _MAX_VALIDITY + timedelta(days=1)
        if valid > _MAX_VALIDITY:
            raise InputError(
                f"--expires {text!r} is longer than ten years",
                hint="approvals are for a change window: e.g. --expires 4h or 2d",
            )
        return valid
    try:
        until = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"--expires {text!r} is neither a duration nor a time",
            hint="e.g. --expires 4h, 30m, 2d, or 2026-11-25T18:00:00Z",
        ) from None
    if until.tzinfo is None:
        raise InputError(
            f"--expires {text!r} has no time zone", hint="add one, e.g. 2026-11-25T18:00:00Z"
        )
    return until - now


@keys_app.command("new")
def keys_new(
    name: str = typer.Option(..., "--name", help="The approver's name, e.g. alice."),
) -> None:
    """Create an approver's key pair (the private key stays on this machine, mode 0600)."""
    key = KeyStore().new(name)
    out.print(f"created {name}: {key.key_id}", markup=False)
    out.print(f"  public key  {key.path}", markup=False)
    out.print(f"  private key {key.path.with_suffix('.key')} (keep it secret)", markup=False)


@keys_app.command("list")
def keys_list(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List trusted approvers (every NAME.pub in the key directory)."""
    store = KeyStore()
    trusted = store.trusted()
    rows = [
        {
            "identity": k.identity,
            "key_id": k.key_id,
            "private_key_here": k.path.with_suffix(".key").exists(),
        }
        for k in trusted.values()
    ]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    if not rows:
        out.print(
            f"no trusted approvers in {store.directory}; create one with "
            "`planactor keys new --name NAME`",
            markup=False,
        )
        return
    table = Table(title=f"trusted approvers in {store.directory}", title_justify="left")
    for col in ("identity", "key id", "private key here"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["identity"]), str(r["key_id"]), "yes" if r["private_key_here"] else "no"
        )
    out.print(table)


@keys_app.command("export")
def keys_export(name: str = typer.Argument(..., help="The approver.")) -> None:
    """Print an approver's public key, to be trusted elsewhere with `keys import`."""
    store = KeyStore()
    key = store.trusted().get(name)
    if key is None:
        raise InputError(f"no trusted key named {name!r}", hint="`planactor keys list`")
    typer.echo(key.path.read_text("ascii"), nl=False)


@keys_app.command("import")
def keys_import(
    name: str = typer.Argument(..., help="The approver's name."),
    public_key: Path = typer.Argument(..., help="Their public key (PEM), from `keys export`."),
) -> None:
    """Trust another person's public key as approver NAME."""
    key = KeyStore().import_public(name, public_key)
    out.print(f"trusted {name}: {key.key_id}", markup=False)


def sign_plan(
    plan: Plan,
    *,
    identity: str,
    store: KeyStore,
    key: Path | None = None,
    ticket: str | None = None,
    expires: str = "24h",
    comment: str | None = None,
) -> tuple[Plan, Approval, PublicKey | None]:
    """`plan` with `identity`'s signed approval added (replacing an older one of theirs),
    the approval, and the key trusted here under that name (None: none). Separation of
    duties and the other checks are `sign`'s; `approve` and `do --as` both sign here."""
    # Read before anything is written: a keys folder it refuses (one key under two names)
    # leaves the plan file as it was.
    trusted = store.trusted().get(identity)
    private = store.signing_key(identity, path=key)  # another key under a trusted name: exit 3
    now = datetime.now(UTC).replace(microsecond=0)  # what sign() records, to the second
    approval = sign(
        plan,
        identity=identity,
        key=private,
        now=now,
        valid_for=parse_expiry(expires, now=now),
        ticket=ticket,
        comment=comment,
    )
    # A newer approval by the same person replaces the older one.
    kept = [a for a in plan.approvals if a.identity != identity]
    return plan.model_copy(update={"approvals": [*kept, approval]}), approval, trusted


@app.command("approve")
def approve_cmd(
    plan: Path = typer.Argument(..., help="The plan file; the approval is added to it."),
    identity: str = typer.Option(..., "--as", help="Your approver name (your key)."),
    key: Path | None = typer.Option(None, "--key", help="Private key file (default: yours)."),
    ticket: str | None = typer.Option(None, "--ticket", help="Change ticket, e.g. CHG-123."),
    expires: str = typer.Option("24h", "--expires", help="Validity: 4h, 30m, 2d or a time."),
    comment: str | None = typer.Option(None, "--comment", help="A note for the record."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write the approved plan here instead of in place."
    ),
    policy_file: Path | None = PolicyOption,
) -> None:
    """Sign the plan's exact hash as NAME; the approval travels inside the plan file."""
    validated = load_plan(plan, catalog=catalog(), policy=load_policy(policy_file))
    approved, approval, trusted = sign_plan(
        validated.plan,
        identity=identity,
        store=KeyStore(),
        key=key,
        ticket=ticket,
        expires=expires,
        comment=comment,
    )
    target = output or plan
    save_plan(approved, target)
    out.print(
        f"approved {validated.hash} as {identity} until "
        f"{approval.expires_at.isoformat()}" + (f" (ticket {ticket})" if ticket else ""),
        markup=False,
    )
    out.print(f"written to {target} ({len(approved.approvals)} approval(s))", markup=False)
    if trusted is None or trusted.key_id != approval.key_id:
        out.print(
            f"note: this key is not trusted here as {identity}; the runner must "
            f"`planactor keys import {identity} FILE.pub`",
            markup=False,
        )
