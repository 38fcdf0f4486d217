"""The storage pack's recovery playbooks, registered when `planactor.harness` is imported.

- `storage.controller-failed-upgrade`: a firmware upgrade halted its controller -> reboot
  that controller safely (the tested routine `storage.reboot_controller_safely`: preflight,
  its hosts to the partner, reboot, the same hosts back, verify), then resume: the failed
  upgrade gets a fresh attempt on a controller that is online again.
- `storage.host-lost-path`: a host's path through one controller is down -> when nothing
  serves its I/O any more, move it to the controller whose path works
  (`storage.move_host_paths`); otherwise nothing to change. No actor repairs a path, so the
  paused run resumes once the path is repaired (or is aborted).
- `storage.controller-carries-io`: a controller that must be idle still carries host I/O
  -> move those hosts to its partner (one per plan), then resume; when one of them cannot
  reach the partner, repair first.
- `storage.host-unresponsive`: a host does not answer -> nothing to change; resume once
  it answers.
- `storage.timed-out`: a write timed out -> nothing to change; resume once the array
  answers in time (the write's idempotency key makes it apply at most once).

Each reads the lab as it is now (the recovery context's fresh state), never the state the
paused plan was made from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from planactor.harness._playbooks import (
    Next,
    Playbook,
    Proposal,
    RecoveryContext,
    register_playbook,
)
from planactor.lab.storage import (
    StorageState,
    carries_io,
    io_controller,
    other_controller,
    path_works,
    storage_state,
)
from planactor.plan import Plan

__all__ = ["STORAGE_PLAYBOOKS", "storage_diagnostics"]

_PACK = "storage"
_REBOOT = "storage.reboot_controller_safely"
_MOVE = "storage.move_host_paths"


def _remediation(ctx: RecoveryContext, routine: str, params: Mapping[str, Any]) -> Plan:
    """The tested routine expanded on the lab's facts now, linked to the paused run."""
    plan = ctx.catalog.routines[routine].expand(
        params,
        facts=ctx.facts,
        inventory=ctx.inventory,
        requested_by=ctx.requested_by,
        change_ticket=ctx.plan.change_ticket,  # the change the paused run belongs to
    )
    return ctx.link(plan)


def _state(ctx: RecoveryContext) -> StorageState | None:
    if ctx.lab_kind != "storage" or ctx.lab_state is None:
        return None
    try:
        return storage_state(ctx.lab_state)
    except ValueError:
        return None


def _resume(ctx: RecoveryContext) -> str:
    return f"`planactor resume {ctx.run_id}`"


def _abort(ctx: RecoveryContext) -> str:
    return f"`planactor resume {ctx.run_id} --abort`"


# -- a controller that failed its upgrade -------------------------------------------------------


def _failed_controller(ctx: RecoveryContext) -> tuple[StorageState, str, str] | None:
    """The lab's state, and the array and controller the failed step named, if both exist."""
    f = ctx.failure
    array, ctrl = f.args.get("array"), f.args.get("controller")
    state = _state(ctx)
    if not isinstance(array, str) or not isinstance(ctrl, str) or state is None:
        return None
    if ctrl not in state.controllers or state.controllers[ctrl].array != array:
        return None
    return state, array, ctrl


def _failed_upgrade(ctx: RecoveryContext) -> Proposal | None:
    named = _failed_controller(ctx)
    if named is None:
        return None
    state, array, ctrl = named
    f = ctx.failure
    c = state.controllers[ctrl]
    pending = [
        x for x in ctx.faults if x.get("kind") == "upgrade-fails" and x.get("controller") == ctrl
    ]
    then: Next
    if pending:
        times = pending[0].get("times")
        then, then_why = (
            "abort",
            f"the lab still fails {'every' if times is None else times} upgrade(s) of {ctrl} "
            f"(a pending fault): resuming would fail {f.step!r} the same way; "
            f"{_abort(ctx)} (compensation moves hosts back only where that is safe), or "
            f"clear the fault first and then {_resume(ctx)}",
        )
    else:
        then, then_why = (
            "resume",
            ("once the fix run has succeeded and " if c.state != "online" else "")
            + f"{ctrl} is online again: {_resume(ctx)} gives step {f.step!r} a fresh "
            "attempt; nothing already done runs again",
        )
    if c.state == "failed":
        return Proposal(
            source="playbook storage.controller-failed-upgrade",
            why=f"{ctrl} failed its firmware upgrade and halted on {c.firmware}; rebooting it "
            "safely (routine storage.reboot_controller_safely) brings it back online while "
            "every host keeps a working path through its partner",
            plan=_remediation(ctx, _REBOOT, {"array": array, "controller": ctrl}),
            then=then,
            then_why=then_why,
        )
    done = [rid for rid, status in ctx.fixes if status == "succeeded"]
    return Proposal(
        source="playbook storage.controller-failed-upgrade",
        why=f"{ctrl} is {c.state} on {c.firmware}"
        + (f" (fix run {', '.join(done)} succeeded)" if done else "")
        + ": no remediation is needed",
        plan=None,
        then=then if c.state == "online" else "abort",
        then_why=then_why if c.state == "online" else f"{ctrl} is {c.state}; {_abort(ctx)}",
    )


# -- a host that lost a path --------------------------------------------------------------------


def _named_hosts(ctx: RecoveryContext, state: StorageState) -> list[str]:
    host = ctx.failure.args.get("host")
    named = [host] if isinstance(host, str) and host in state.hosts else []
    text = ctx.failure.text
    named += [h for h in sorted(state.hosts) if h not in named and re.search(rf"\b{h}\b", text)]
    return named


def _lost_path(ctx: RecoveryContext) -> Proposal | None:
    f = ctx.failure
    array = f.args.get("array")
    state = _state(ctx)
    if not isinstance(array, str) or state is None or array not in state.arrays:
        return None
    ctrls = state.arrays[array].controllers
    for host in _named_hosts(ctx, state):
        if array not in state.hosts[host].active:
            continue
        down = [c for c in ctrls if state.paths[(host, c)].state == "down"]
        healthy = [c for c in ctrls if path_works(state, host, c)]
        if not down:
            ctrl = f.args.get("controller")
            if isinstance(ctrl, str) and ctrl in ctrls and carries_io(state, ctrl):
                return _still_carries(ctx)  # repaired, but the step needs that controller idle
            return Proposal(
                source="playbook storage.host-lost-path",
                why=f"every path of {host} to {array} works again: no remediation is needed",
                plan=None,
                then="resume",
                then_why=f"{_resume(ctx)} gives step {f.step!r} a fresh attempt",
            )
        if not healthy:
            return None  # no path works: data unavailable, not a playbook's case
        to, lost = healthy[0], down[0]
        repair = (
            f"the path {host} -> {lost} is down and no actor repairs a path, while the paused "
            f"run needs it ({f.text}); repair it (in the lab: `planactor lab clear-faults`), "
            f"then {_resume(ctx)}; if it cannot be repaired soon, {_abort(ctx)}"
        )
        now = io_controller(state, host, array)
        if now is None:
            # Its I/O is set on the lost path and nothing else serves it (data unavailable):
            # the one change that helps now is to move it where a path works.
            return Proposal(
                source="playbook storage.host-lost-path",
                why=f"{host} lost its path through {lost}, which carried its I/O to {array}: "
                f"moving its I/O to {to}, whose path works, gives it back its LUNs",
                plan=_remediation(ctx, _MOVE, {"array": array, "host": host, "to_controller": to}),
                then="repair-then-resume",
                then_why=repair,
            )
        return Proposal(
            source="playbook storage.host-lost-path",
            why=f"{host} lost its path through {lost}; its I/O flows through {now}, whose path "
            "works: nothing to move",
            plan=None,
            then="repair-then-resume",
            then_why=repair,
        )
    return None


# -- a controller that still carries host I/O ----------------------------------------------------


def _still_carries(ctx: RecoveryContext) -> Proposal | None:
    named = _failed_controller(ctx)
    if named is None:
        return None
    state, array, ctrl = named
    f = ctx.failure
    partner = other_controller(state, ctrl)
    hosts = carries_io(state, ctrl)
    source = "playbook storage.controller-carries-io"
    if not hosts:
        return Proposal(
            source=source,
            why=f"{ctrl} carries no host I/O now: no remediation is needed",
            plan=None,
            then="resume",
            then_why=f"{_resume(ctx)} gives step {f.step!r} a fresh attempt",
        )
    blocked = [h for h in hosts if not path_works(state, h, partner)]
    if blocked:
        return Proposal(
            source=source,
            why=f"{ctrl} still carries the I/O of {', '.join(blocked)}, which cannot reach "
            f"{array} through {partner}: no move is safe",
            plan=None,
            then="repair-then-resume",
            then_why=f"repair the path(s) {', '.join(f'{h} -> {partner}' for h in blocked)} "
            f"(in the lab: `planactor lab clear-faults`), then recover again; if they cannot "
            f"be repaired soon, {_abort(ctx)}",
        )
    host = hosts[0]
    more = f" ({len(hosts) - 1} more after it: recover again)" if len(hosts) > 1 else ""
    return Proposal(
        source=source,
        why=f"{ctrl} must carry no host I/O for step {f.step!r}, and it still carries the I/O "
        f"of {', '.join(hosts)}; moving {host} to {partner}, whose path works{more}",
        plan=_remediation(ctx, _MOVE, {"array": array, "host": host, "to_controller": partner}),
        then="resume",
        then_why=f"once {ctrl} carries no host I/O, {_resume(ctx)} gives step {f.step!r} a "
        "fresh attempt",
    )


# -- a host that does not answer ----------------------------------------------------------------


def _unresponsive(ctx: RecoveryContext) -> Proposal | None:
    state = _state(ctx)
    if state is None:
        return None
    for host in _named_hosts(ctx, state):
        answers = state.hosts[host].responsive
        return Proposal(
            source="playbook storage.host-unresponsive",
            why=f"{host} "
            + ("answers again" if answers else "does not respond")
            + ": no plan of ours can change that",
            plan=None,
            then="resume" if answers else "repair-then-resume",
            then_why=f"{_resume(ctx)} moves its paths now"
            if answers
            else f"once {host} answers, {_resume(ctx)}; if it will not soon, {_abort(ctx)}",
        )
    return None


# -- an operation that timed out ---------------------------------------------------------------


def _timed_out(ctx: RecoveryContext) -> Proposal | None:
    if _state(ctx) is None:
        return None
    op = ctx.failure.actor.removeprefix("storage.") if ctx.failure.actor else None
    slow = [x for x in ctx.faults if x.get("kind") == "timeout" and x.get("operation") == op]
    if slow:
        return Proposal(
            source="playbook storage.timed-out",
            why=f"the array still does not answer {op} in time (a pending fault): no plan of "
            "ours can change that",
            plan=None,
            then="repair-then-resume",
            then_why=f"once it answers again, {_resume(ctx)}: the write carries its "
            f"idempotency key, so it applies at most once; if it will not soon, {_abort(ctx)}",
        )
    return Proposal(
        source="playbook storage.timed-out",
        why=f"{op} timed out, and the array answers in time again: no remediation is needed",
        plan=None,
        then="resume",
        then_why=f"{_resume(ctx)} calls it again with the same idempotency key (it applies at "
        "most once)",
    )


STORAGE_PLAYBOOKS = (
    Playbook(
        name="storage.controller-failed-upgrade",
        pack=_PACK,
        description="a controller failed its firmware upgrade: reboot it safely, then resume",
        actors=("storage.upgrade_firmware",),
        error=r"upgrade of \S+ .*failed|has failed",
        propose=_failed_upgrade,
    ),
    Playbook(
        name="storage.host-lost-path",
        pack=_PACK,
        description="a host lost a path: move it to the controller whose path works; resume "
        "once the path is repaired",
        error=r"path through \S+ is down|no working path",
        propose=_lost_path,
    ),
    Playbook(
        name="storage.controller-carries-io",
        pack=_PACK,
        description="a controller still carries host I/O it must not: move those hosts to its "
        "partner, one at a time, then resume",
        actors=("storage.upgrade_firmware", "storage.reboot_controller"),
        error=r"still carries host I/O",
        propose=_still_carries,
    ),
    Playbook(
        name="storage.host-unresponsive",
        pack=_PACK,
        description="a host does not respond: nothing to change; resume once it answers",
        error=r"does not respond",
        propose=_unresponsive,
    ),
    Playbook(
        name="storage.timed-out",
        pack=_PACK,
        description="a write timed out: nothing to change; resume once the array answers",
        error=r"timed out",
        propose=_timed_out,
    ),
)

for _pb in STORAGE_PLAYBOOKS:
    register_playbook(_pb, replace=True)


def storage_diagnostics(lab_state: Mapping[str, Any]) -> list[str]:
    """Read-only findings about a storage lab now: what is not as it should be."""
    state = storage_state(lab_state)
    lines = [
        f"controller {c.name} ({c.array}) is {c.state} on firmware {c.firmware}"
        for c in state.controllers.values()
        if c.state != "online"
    ]
    lines += [
        f"path {h} -> {c} is down" for (h, c), p in sorted(state.paths.items()) if p.state == "down"
    ]
    lines += [f"host {h.name} does not respond" for h in state.hosts.values() if not h.responsive]
    for host in state.hosts.values():
        for array, ctrl in host.active.items():
            now = io_controller(state, host.name, array)
            if now is None:
                lines.append(f"host {host.name} has no working path to {array}")
            elif now != ctrl:
                lines.append(f"host {host.name}'s I/O to {array} flows through {now}, not {ctrl}")
    return lines or ["every controller online, every path up, every host responsive"]
