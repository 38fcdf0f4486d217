"""What a routine acts on: the kind of entity a clause asks an action of, the entities a
request keeps out that a routine changing a whole array cannot leave out, and the check a
yes/no question about one named thing asks for. Pure functions over the clause, the
routine and the inventory."""

from __future__ import annotations

import re
from collections.abc import Mapping

from planactor.catalog import Routine
from planactor.plan import Inventory
from planactor.planner._clauses import Reading, noun
from planactor.planner._grounding import mentions, tokens

__all__ = ["cannot_leave_out", "kind_of", "object_kind", "status_check", "unreported"]

_PARTICLE = frozenset({"back", "up", "down", "out", "over", "off", "away", "again"})
_PREPOSITION = frozenset({"on", "of", "to", "in", "for", "with", "at", "from", "behind", "onto"})


def object_kind(r: Routine, text: str, inventory: Inventory | None) -> str | None:
    """The kind of entity the clause's verb is applied to ("update the ESXi hosts on
    array-01": hosts), when `r` takes no parameter of that kind and its intent and examples
    never say it: the action is asked of something the routine does not act on."""
    if inventory is None:
        return None
    words = re.findall(r"[\w.'-]+", text.lower())[1:]
    end = next((i for i, w in enumerate(words) if w in _PREPOSITION), len(words))
    # The phrase's head is its last word ("LUN paths" are paths), particles aside.
    phrase = [w.removesuffix("'s") for w in words[:end] if w not in _PARTICLE]
    head = phrase[-1:]
    taken = {p.entity for p in r.params.values() if p.entity is not None}
    said = {noun(w) for x in (r.intent, *r.examples) for w in tokens(x)}
    for kind, names in inventory.entities.items():
        if kind in taken or noun(kind) in said:
            continue
        lowered = {n.lower() for n in names}
        if any(w in lowered or noun(w) == noun(kind) for w in head):
            return kind
    return None


def kind_of(name: str, inventory: Inventory | None) -> str:
    kinds = inventory.entities.items() if inventory is not None else ()
    return next((k for k, names in kinds if name in names), "entity")


def cannot_leave_out(r: Routine, reading: Reading, inventory: Inventory | None) -> list[str]:
    """Entities a negated clause excludes ("keep esx-01 on array-02-a") of a kind `r` takes
    no parameter for: a change over a whole array cannot honour it, so nothing is planned.
    An excluded entity of a kind `r` names (another array, another host) is honoured by
    naming the right one."""
    if inventory is None:
        return []
    named_kinds = {p.entity for p in r.params.values() if p.entity is not None}
    text = " ".join(c.text for c in reading.of_kind("negated"))
    return sorted(
        n
        for kind, names in inventory.entities.items()
        if kind not in named_kinds
        for n in names
        if mentions(text, n)
    )


_YES_NO = re.compile(r"^(?:is|are|was|were|does|do|has|have)\b", re.IGNORECASE)


def status_check(
    text: str, read_only: Mapping[str, Routine], inventory: Inventory | None
) -> dict[str, Routine]:
    """The read-only routine a yes/no question about one named entity asks for: the only
    one whose one required parameter is that entity's kind. Empty when the question names
    none or several entities, or when several checks (or none) take that kind."""
    if inventory is None or not _YES_NO.match(text.strip()):
        return {}
    named = [
        (kind, n)
        for kind, names in inventory.entities.items()
        for n in names
        if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text, re.IGNORECASE)
    ]
    if len(named) != 1:
        return {}
    ((kind, _),) = named
    takes = {
        n: r
        for n, r in read_only.items()
        if [p.entity for p in r.params.values() if p.default is None] == [kind]
    }
    return takes if len(takes) == 1 else {}


# "show me the serial numbers of array-02": a read verb and what it asks to see.
_SHOW = re.compile(
    r"^(?:show|list|display|give|get|print|pull|fetch|report)(?:\s+(?:me|us))?\s+(?P<what>.+)$",
    re.IGNORECASE,
)
_FILLER = frozenset(
    {"the", "a", "an", "all", "any", "every", "its", "their", "current", "latest", "full"}
    | {"me", "us", "please", "pls", "of", "for", "on", "from", "in", "and", "or", "with"}
    | {"about", "to"}
)


def unreported(r: Routine, text: str, inventory: Inventory | None) -> list[str]:
    """What a "show me X of Y" clause asks to see that read-only `r` never mentions (its
    description, intent, examples and steps): ["serial", "warranty"] for "show me the serial
    numbers and warranty expiry of array-02" from the health check. Empty when the clause
    is no such request, asks for nothing beyond its entity, or names anything `r` reports."""
    m = _SHOW.match(text.strip())
    if m is None:
        return []
    names = {n.lower() for ns in (inventory.entities.values() if inventory else ()) for n in ns}
    words = [
        w
        for w in re.findall(r"[a-z][\w'-]*", m.group("what").lower())
        if w not in _FILLER and w.removesuffix("'s") not in names and len(w) > 2
    ]
    if not words:
        return []
    said = " ".join([r.description, r.intent, *r.examples, *(s.description or "" for s in r.steps)])
    mentioned = {noun(w) for w in tokens(said)}
    return [] if any(noun(w) in mentioned for w in words) else words
