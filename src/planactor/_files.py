"""Reading and writing plan files: the I/O edge around the pure plan model."""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from pathlib import Path

from planactor._errors import InputError, PlanLoadError
from planactor._reader import read_bounded
from planactor.catalog import Catalog
from planactor.plan import Plan
from planactor.validate import Limits, Policy, ValidatedPlan, validate_plan

__all__ = ["load_plan", "read_plan_text", "save_plan"]


def read_plan_text(path: str | Path, *, limits: Limits | None = None) -> tuple[bytes, str]:
    """The raw bytes of a plan file (`-` reads standard input) and a name for messages."""
    limits = limits or Limits()
    if str(path) == "-":
        data = sys.stdin.buffer.read(limits.max_bytes + 1)
        return data, "<stdin>"
    source = str(Path(path))
    try:
        # One byte past the limit so the validator can say "too large" without pulling an
        # arbitrarily large file into memory; FIFOs and devices (/dev/zero) are refused.
        return read_bounded(path, what="plan", limit=limits.max_bytes), source
    except InputError as e:
        raise PlanLoadError(e.message, source=source, hint=e.hint) from None


def load_plan(
    path: str | Path,
    *,
    catalog: Catalog | None = None,
    limits: Limits | None = None,
    policy: Policy | None = None,
) -> ValidatedPlan:
    """Read and validate a plan file; raise PlanInvalid (with the whole report) if it is not.

    Without a catalog, only the built-in packs and installed packs are used. The result
    binds the plan to its hash and report (see `ValidatedPlan`).
    """
    data, source = read_plan_text(path, limits=limits)
    if catalog is None:  # not `catalog or ...`: an empty Catalog is falsy (len 0)
        catalog = Catalog.discover()
    return validate_plan(data, catalog=catalog, policy=policy, limits=limits, source=source)


def save_plan(plan: Plan, path: str | Path) -> None:
    """Write the normalised document atomically: a crash leaves the old file or the new one."""
    target = Path(path)
    text = json.dumps(plan.to_document(), indent=2, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        # mkstemp creates the file 0600; give the plan the mode a plain write would have.
        os.fchmod(fd, _file_mode(target))
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _file_mode(target: Path) -> int:
    """The existing file's permissions, else those `open(target, "w")` would create."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask
