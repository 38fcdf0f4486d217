"""What a routine says about itself to the planner: the words that ask for it, whether it
changes anything, and whether a lab's facts can serve it. Pure functions of the routine."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from planactor.catalog import Routine
from planactor.planner._grounding import tokens

__all__ = ["actions_of", "applicable", "unserved", "writes"]


def actions_of(r: Routine) -> tuple[str, ...]:
    """The words that ask for `r`: its declared `actions`, else (a routine written before
    they existed) the verb of its name and the first word of its intent and examples."""
    if r.actions:
        # "be on {version}": the parameter's pattern stands in the phrase as a value slot.
        return tuple(
            re.sub(r"\{(\w+)\}", lambda m: f"{{re:{r.params[m.group(1)].pattern}}}", a)
            for a in r.actions
        )
    verb = r.name.rsplit(".", 1)[-1].split("_")[0]
    firsts = [t[0] for t in (tokens(x) for x in (r.intent, *r.examples)) if t]
    return tuple(dict.fromkeys([verb, *firsts]))


def writes(r: Routine, effect_of: Callable[[str], str]) -> bool:
    """Whether any step of `r` changes something (an actor with effect `write`)."""
    return any(effect_of(s.actor) == "write" for s in r.steps)


def applicable(
    routines: Mapping[str, Routine], facts: Mapping[str, Any] | None
) -> dict[str, Routine]:
    """The routines this inventory can serve: those whose facts it has (a network routine
    reads `site.*`, which a storage lab does not hold). Without facts, all of them."""
    if facts is None:
        return dict(routines)
    return {
        name: r
        for name, r in routines.items()
        if all(path.split(".", 1)[0] in facts for path in r.facts.values())
    }


def unserved(
    routines: Mapping[str, Routine], facts: Mapping[str, Any] | None
) -> dict[str, Routine]:
    """The routines `applicable` leaves out for these facts."""
    usable = applicable(routines, facts)
    return {n: r for n, r in routines.items() if n not in usable}
