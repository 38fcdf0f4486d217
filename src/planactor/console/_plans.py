"""The plans folder as the console shows it, and the two decisions a reviewer makes there.

Reading: each `*.json` file directly in the folder is validated against the catalog and the
policy in force, and its approvals and policy are judged now, as `planactor policy check`
does. Deciding: an approval is made by `planactor.policy.sign` (the rules of `planactor
approve`: no self-approval, no machine identity, a trusted key of one's own) and written into
the plan file; a rejection is a signed line in `$PLANACTOR_HOME/console/rejections.jsonl`.
Both refuse a plan whose hash is not the one the reviewer was shown.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from planactor._errors import InputError, PlanactorError, PlanChanged, PlanInvalid
from planactor._files import read_plan_text, save_plan
from planactor._home import home
from planactor.catalog import Catalog
from planactor.plan import Approval, Plan, PlanDiff, StepKind, diff_plans, same_person
from planactor.policy import Authorization, KeyStore, RulePolicy, key_id_of, review, sign
from planactor.validate import Problem, ValidatedPlan, validate_plan

__all__ = [
    "EXPIRIES",
    "PlanEntry",
    "Rejection",
    "approve_plan",
    "diff_against",
    "kinds",
    "list_plans",
    "read_entry",
    "reject_plan",
    "rejections",
    "reviewers",
]

# What the approve form offers; `planactor approve --expires` takes any duration.
EXPIRIES: Mapping[str, timedelta] = {
    "4h": timedelta(hours=4),
    "24h": timedelta(hours=24),
    "2d": timedelta(days=2),
    "7d": timedelta(days=7),
}
_REJECTION_DOMAIN = "planactor/rejection/v1"
_LOCK = threading.Lock()  # one decision at a time: two approvals must not lose one another


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    plan_hash: str
    plan_file: str
    identity: str
    key_id: str
    reason: str
    rejected_at: str
    signature: str = ""

    def payload(self) -> bytes:
        doc = {
            "domain": _REJECTION_DOMAIN,
            "plan_hash": self.plan_hash,
            "plan_file": self.plan_file,
            "identity": self.identity,
            "key_id": self.key_id,
            "reason": self.reason,
            "rejected_at": self.rejected_at,
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanEntry:
    """One plan file: valid (with its review) or not (with every problem)."""

    name: str
    path: Path
    validated: ValidatedPlan | None = None
    auth: Authorization | None = None
    problems: tuple[Problem, ...] = ()
    error: str | None = None
    rejected: tuple[Rejection, ...] = field(default=())

    @property
    def plan(self) -> Plan | None:
        return self.validated.plan if self.validated is not None else None

    @property
    def hash(self) -> str | None:
        return self.validated.hash if self.validated is not None else None

    @property
    def may_run(self) -> bool:
        if self.auth is None:
            return False
        rep = self.auth.report
        return len(self.auth.approvals.approvers) >= rep.approvers_required and not rep.unmet


def plan_path(folder: Path, name: str) -> Path:
    """`name` as a plan file directly in `folder`; InputError for anything else."""
    path = folder / name
    if "/" in name or "\\" in name or name.startswith(".") or not name.endswith(".json"):
        raise InputError(f"{name!r} is not a plan file of this console", hint="pick one listed")
    if not path.is_file():
        raise InputError(f"no plan file {name!r} in {folder}", hint="the list shows what exists")
    return path


def read_entry(
    folder: Path,
    name: str,
    *,
    catalog: Catalog,
    policy: RulePolicy,
    keys: KeyStore,
    now: datetime | None = None,
) -> PlanEntry:
    path = plan_path(folder, name)
    try:
        data, source = read_plan_text(path)
        validated = validate_plan(data, catalog=catalog, policy=policy, source=source)
    except PlanInvalid as e:
        return PlanEntry(name=name, path=path, problems=e.report.problems, error=e.message)
    except PlanactorError as e:
        return PlanEntry(name=name, path=path, error=e.message)
    auth = review(
        validated,
        catalog=catalog,
        policy=policy,
        trusted=keys.trusted(),
        now=now or datetime.now(UTC),
    )
    mine = tuple(r for r in rejections() if r.plan_hash == validated.hash)
    return PlanEntry(name=name, path=path, validated=validated, auth=auth, rejected=mine)


def list_plans(
    folder: Path, *, catalog: Catalog, policy: RulePolicy, keys: KeyStore
) -> list[PlanEntry]:
    names = sorted(p.name for p in folder.glob("*.json") if p.is_file())
    now = datetime.now(UTC)
    return [
        read_entry(folder, n, catalog=catalog, policy=policy, keys=keys, now=now)
        for n in names
        if not n.startswith(".")
    ]


def reviewers(keys: KeyStore, *, requester: str | None = None) -> list[tuple[str, bool]]:
    """Trusted approvers whose private key is on this machine (who can decide here), each
    with whether they requested the plan; the others first, so the form offers one of them."""
    names = sorted(
        k.identity for k in keys.trusted().values() if k.path.with_suffix(".key").exists()
    )
    marked = [(n, requester is not None and same_person(n, requester)) for n in names]
    return sorted(marked, key=lambda m: m[1])


def _current(
    folder: Path, name: str, expected_hash: str, catalog: Catalog, policy: RulePolicy
) -> ValidatedPlan:
    path = plan_path(folder, name)
    data, source = read_plan_text(path)
    validated = validate_plan(data, catalog=catalog, policy=policy, source=source)
    if validated.hash != expected_hash:
        raise PlanChanged(
            f"{name} changed since the page was shown: you reviewed {expected_hash[:19]}…, "
            f"the file now holds {validated.hash[:19]}…",
            hint="reload the plan page and review the plan as it is now",
        )
    return validated


def approve_plan(
    folder: Path,
    name: str,
    *,
    expected_hash: str,
    identity: str,
    expires: timedelta,
    ticket: str | None,
    comment: str | None,
    catalog: Catalog,
    policy: RulePolicy,
    keys: KeyStore,
) -> Approval:
    """Sign the plan as `identity` and write the approval into its file, as `approve` does."""
    with _LOCK:
        validated = _current(folder, name, expected_hash, catalog, policy)
        private = keys.signing_key(identity, trusted_only=True)  # as `planactor approve`
        approval = sign(
            validated.plan,
            identity=identity,
            key=private,
            now=datetime.now(UTC),
            valid_for=expires,
            ticket=ticket or None,
            comment=comment or None,
        )
        # A newer approval by the same person replaces the older one (as `approve`).
        kept = [a for a in validated.plan.approvals if a.identity != identity]
        save_plan(validated.plan.model_copy(update={"approvals": [*kept, approval]}), folder / name)
        return approval


def _rejections_file() -> Path:
    return home() / "console" / "rejections.jsonl"


def reject_plan(
    folder: Path,
    name: str,
    *,
    expected_hash: str,
    identity: str,
    reason: str,
    catalog: Catalog,
    policy: RulePolicy,
    keys: KeyStore,
) -> Rejection:
    """Record `identity`'s signed rejection of the plan, with the reason."""
    reason = reason.strip()
    if not reason:
        raise InputError("a rejection needs a reason", hint="say what must change")
    if len(reason) > 2000:
        raise InputError("the reason is longer than 2000 characters", hint="shorten it")
    with _LOCK:
        validated = _current(folder, name, expected_hash, catalog, policy)
        private = keys.signing_key(identity, trusted_only=True)  # as `planactor approve`
        now = datetime.now(UTC).replace(microsecond=0)
        # Whoever could not approve the plan cannot reject it either: `sign` applies the
        # rules of `planactor approve`; the approval it returns is dropped, never written.
        sign(validated.plan, identity=identity, key=private, now=now, valid_for=timedelta(1))
        unsigned = Rejection(
            plan_hash=validated.hash,
            plan_file=name,
            identity=identity,
            key_id=key_id_of(private.public_key()),
            reason=reason,
            rejected_at=now.isoformat(),
        )
        signature = base64.b64encode(private.sign(unsigned.payload())).decode("ascii")
        record = Rejection(**{**_fields(unsigned), "signature": signature})
        target = _rejections_file()
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as f:
            f.write(json.dumps(_fields(record), sort_keys=True) + "\n")
        return record


def _fields(r: Rejection) -> dict[str, str]:
    return {name: getattr(r, name) for name in r.__dataclass_fields__}


def rejections() -> list[Rejection]:
    """Every recorded rejection, oldest first; a damaged line is skipped, not fatal."""
    path = _rejections_file()
    if not path.exists():
        return []
    found = []
    for line in path.read_text("utf-8").splitlines():
        try:
            doc = json.loads(line)
            found.append(Rejection(**{k: str(doc[k]) for k in Rejection.__dataclass_fields__}))
        except (ValueError, KeyError, TypeError):
            continue
    return found


def diff_against(
    entry: PlanEntry, others: list[PlanEntry], chosen: str | None
) -> tuple[list[PlanEntry], PlanEntry | None, PlanDiff | None]:
    """Other valid plans for the same intent, the one chosen (else the first), and the diff
    from it to `entry`."""
    plan = entry.plan
    if plan is None:
        return [], None, None
    same = [
        o
        for o in others
        if o.name != entry.name and o.plan is not None and o.plan.intent == plan.intent
    ]
    if not same:
        return [], None, None
    base = next((o for o in same if o.name == chosen), same[0])
    assert base.plan is not None
    return same, base, diff_plans(base.plan, plan)


def kinds(catalog: Catalog) -> Callable[[str], StepKind]:
    return lambda name: catalog.get(name).kind if name in catalog else "unknown"
