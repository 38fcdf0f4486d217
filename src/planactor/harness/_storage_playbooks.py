"""The storage pack's recovery playbooks, registered when `planactor.harness` is imported.

- `storage.controller-failed-upgrade`: a firmware upgrade halted its controller -> reboot
  that controller safely (the tested routine `storage.reboot_controller_safely`: preflight,
  its hosts to the partner, reboot, the same hosts back, verify), then resume: the failed
  upgrade gets a fresh attempt on a controller that is online again.
- `storage.host-lost-path`: a host's path through one controller is down -> move that
  host's I/O to the controller whose path works (`storage.move_host_paths`); no actor
  repairs a path, so the paused run resumes once the path is repaired.
- `storage.host-unresponsive`: a host does not answer -> nothing to change; resume once
  it answers.

Each reads the lab as it is now (the recovery context's fresh state), never the state the
paused plan was made from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from planactor.harness._playbooks import Playbook, Proposal, RecoveryContext, register_playbook
from planactor.lab.storage import StorageState, io_controller, path_works, storage_state
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
    return Plan.model_validate({**plan.to_document(), "recovers": ctx.run_id})


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


def _failed_upgrade(ctx: RecoveryContext) -> Proposal | None:
    f = ctx.failure
    array, ctrl = f.args.get("array"), f.args.get("controller")
    state = _state(ctx)
    if not isinstance(array, str) or not isinstance(ctrl, str) or state is None:
        return None
    if ctrl not in state.controllers or state.controllers[ctrl].array != array:
        return None
    c = state.controllers[ctrl]
    pending = [
        x for x in ctx.faults if x.get("kind") == "upgrade-fails" and x.get("controller") == ctrl
    ]
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
            f"run needs it ({f.text}); repair it (in the lab: `planactor lab fault clear`), "
            f"then {_resume(ctx)}; if it cannot be repaired soon, {_abort(ctx)}"
        )
        active = state.hosts[host].active[array]
        if active != to:
            return Proposal(
                source="playbook storage.host-lost-path",
                why=f"{host} lost its path through {lost} but its I/O to {array} is set to "
                f"go through it (now served by {io_controller(state, host, array)}); moving "
                f"it to {to}, whose path works, keeps it on a path that works",
                plan=_remediation(ctx, _MOVE, {"array": array, "host": host, "to_controller": to}),
                then="repair-then-resume",
                then_why=repair,
            )
        return Proposal(
            source="playbook storage.host-lost-path",
            why=f"{host} lost its path through {lost}; its I/O already flows through {to}, "
            "whose path works: nothing to move",
            plan=None,
            then="repair-then-resume",
            then_why=repair,
        )
    return None


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
        error=r"path through \S+ is down|no working path|still carries host I/O",
        propose=_lost_path,
    ),
    Playbook(
        name="storage.host-unresponsive",
        pack=_PACK,
        description="a host does not respond: nothing to change; resume once it answers",
        error=r"does not respond",
        propose=_unresponsive,
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
