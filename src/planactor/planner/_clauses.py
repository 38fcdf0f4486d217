"""Reading an intent as clauses: what is asked, what is excluded, what is only context.

A write plan needs a positive reason: a clause that asks for an action a routine declares
(its `actions`). Before any routine is ranked, the intent is cut into clauses and each is
read as one of

    action     asks for something to be done ("upgrade array-01 to 5.2.1")
    negated    says not to do something, or excludes an entity ("do not reboot array-01-a",
               "leave array-02 alone", "not array-03")
    question   asks about something ("is it safe to reboot ...?", "what would happen if ...")
    context    history or state ("array-01 was done last week", "array-02-a is hung")

and text that tries to steer the planner (role markers, `[[routine: ...]]`, pasted JSON,
"ignore your rules") is cut out and flagged: with it, no write plan is made. Pure text
functions; which routine covers which clause is decided by the routine planner.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "Clause",
    "NotPlanned",
    "Reading",
    "action_matches",
    "asked_for",
    "has_pronoun",
    "is_again",
    "is_remedy",
    "leading_verb",
    "noun",
    "read_intent",
    "stem",
    "transposed",
    "unplannable",
]

# Text pasted into a request to steer a planner, and the reason each is named.
_INJECTION: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), why)
    for p, why in (
        (r"\[\[.*?(\]\]|$)", "a [[...]] directive"),
        (r"<!--.*?(-->|$)", "an HTML comment"),
        (r"\{.*(\}|$)", "pasted JSON"),
        (r"#{3,}.*?(#{3,}|$)", "a ### block"),
        (r"(?:^|(?<=[.;!?\n]))\s*(?:system|assistant|developer|admin)\s*:.*$", "a role marker"),
        (
            r"\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+)?(?:the\s+|your\s+|my\s+)?"
            r"(?:previous|prior|above|earlier|rules|instructions|policy|policies|guardrails)\b.*$",
            "an instruction to ignore the rules",
        ),
        (
            r"\b(?:disregard|drop|disable|bypass|skip|turn\s+off)\s+(?:the\s+|all\s+|any\s+)?"
            r"(?:safety|policy|approvals?|checks|validation|guardrails)\b[^.;]*",
            "an instruction to drop the safety checks",
        ),
        (r"\byou\s+are\s+(?:now\s+)?(?:dan|root|admin|an?\s+\w+)\b[^.;]*", "a role-play"),
        (r"\bpretend\s+(?:you\s+are|to\s+be)\b[^.;]*", "a role-play"),
        (r"\b(?:developer|maintenance|god|admin)\s+mode\b[^.;]*", "a mode switch"),
        (r"\b(?:approvals?|policy|safety)\s*(?:=\s*off|disabled|off)\b", "a policy switch"),
        (r"\b(?:routine|actor)\s*=\s*\S+", "a routine named by key"),
        (r"\brm\s+-rf\b.*$", "a shell command"),
        (
            r"\bas\s+(?:the\s+|an?\s+)?(?:system\s+|sys\s+)?(?:admin|administrator|root|"
            r"superuser|owner)\b,?|\bi\s+(?:hereby\s+)?(?:authori[sz]e|permit|allow)\s+you"
            r"(?:\s+to)?\b|\byou\s+(?:are|have\s+been)\s+(?:authori[sz]ed|cleared|allowed)"
            r"(?:\s+to)?\b",
            "a claim of authority",
        ),
        (r"\bwithout\s+(?:any\s+)?(?:checks|approvals?|validation)\b", "checks waived"),
    )
)

# Where one clause ends and another starts.
_SPLIT = re.compile(
    r"\s*;\s*|(?<=[.!?])\s+(?=\S)|\s*\b\d\)\s*|\s*,?\s+and\s+then\s+|\s*,\s*then\s+"
    r"|\s+then\s+|\s*,?\s+but\s+|\s*,?\s+also\s+|\s*,\s*|\s*\(\s*|\s*\)\s*|\s+-\s+"
    # "do X -> then Y" breaks; "5.1.0 -> 5.2.2" is a version going to another
    r"|\s+--\s+|\s+--?>\s+(?![vV]?\d)"
)
_LEADING = re.compile(
    r"^(?:(?:and|also|then|now|so|just|please|pls|hey|ok|okay|after\s+that|afterwards|"
    r"can\s+you|could\s+you|would\s+you|will\s+you|can\s+someone|could\s+someone|"
    r"can\s+somebody|i\s+need\s+you\s+to|i\s+want\s+you\s+to|go\s+ahead\s+and|kindly|"
    r"(?:once|when|after)\s+(?:that|this|it)(?:'s|\s+is|\s+has)?\s+(?:been\s+)?"
    r"(?:done|finished|complete|completed|over)|(?:once|when)\s+done)"
    r"(?:[\s,:]+|$))+",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"\b(?:do\s+not|don'?t|never|not|no\s+need|nobody|no\s+one|no-one|avoid|"
    r"no\s+(?:more\s+)?(?:firmware|fw|code|reboots?|restarts?|changes?|upgrades?|updates?|"
    r"moves?|fail-?backs?|rebalanc\w*)|must\s*n[o']t|should\s*n[o']t|"
    r"shouldn't|won'?t|hold\s+off|cancel|skip|leave\b.*\b(?:alone|as\s+is|where|untouched)|"
    r"leave\s+(?:the\s+)?[\w.-]+\s+(?:on|at)|keep\s+(?:the\s+)?[\w.-]+\s+(?:on|at|where|as|in)|"
    r"except|ignore|exclude|excluding|keep\s+\S+\s+out|instead\s+of|rather\s+than)\b",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(
    r"^(?:could\s+we|could\s+i|can\s+we|can\s+i|should\s+we|should\s+i|"
    r"when|why|what|what's|whats|how|which|who|where|is\s+it\s+safe|"
    r"check\s+(?:whether|if)|see\s+(?:whether|if)|find\s+out|tell\s+me)\b",
    re.IGNORECASE,
)
_HISTORY = re.compile(
    r"\b(?:was|were|has\s+been|have\s+been|had\s+been|already|yesterday|yesterday's|"
    r"came|went|ran|took|"
    r"last\s+(?:night|week|month|quarter|time)|last\s+night's|earlier|ago|until|"
    r"is|are|looks?|seems?|appears?|'s\s+(?:hung|down|fine|over|done|lopsided|stuck))\b",
    re.IGNORECASE,
)
_VERSION_NOW = re.compile(
    r"\b(?:is|are)\s+(?:still\s+|now\s+|currently\s+)?(?:on\s+|at\s+|running\s+)?v?\d+\.\d+"
)
_PRONOUN = re.compile(r"\b(?:it|its|them|their|this\s+one|that\s+one)\b", re.IGNORECASE)
_TOKEN = re.compile(r"[a-z0-9][a-z0-9.'-]*")

# Verbs that ask for a change no routine may declare: a clause led by one of them is an
# action that must be covered, or reported as not covered.
OPS_VERBS = frozenset(
    [
        "abort",
        "add",
        "alert",
        "apply",
        "attach",
        "build",
        "change",
        "clean",
        "clear",
        "clone",
        "close",
        "configure",
        "create",
        "decommission",
        "delete",
        "deploy",
        "destroy",
        "detach",
        "disable",
        "downgrade",
        "drain",
        "drop",
        "email",
        "enable",
        "erase",
        "escalate",
        "evacuate",
        "expand",
        "extend",
        "format",
        "grow",
        "halt",
        "increase",
        "inform",
        "install",
        "kill",
        "map",
        "mask",
        "migrate",
        "mount",
        "move",
        "notify",
        "open",
        "order",
        "page",
        "pause",
        "post",
        "power",
        "provision",
        "purge",
        "rebuild",
        "remove",
        "rename",
        "replace",
        "replicate",
        "reset",
        "resize",
        "restore",
        "revert",
        "rollback",
        "schedule",
        "set",
        "shrink",
        "shut",
        "shutdown",
        "snapshot",
        "start",
        "stop",
        "suspend",
        "swap",
        "take",
        "tear",
        "unmap",
        "unmount",
        "upgrade",
        "vmotion",
        "wipe",
        "write",
        "zone",
    ]
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Clause:
    """One clause of the intent and how it reads."""

    text: str
    kind: str  # action | negated | question | context


@dataclass(frozen=True, slots=True, kw_only=True)
class NotPlanned:
    """A clause the plan does not cover, and why."""

    clause: str
    reason: str

    def to_document(self) -> dict[str, str]:
        return {"clause": self.clause, "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """The intent as clauses, with what was cut out as an attempt to steer the planner."""

    intent: str
    clauses: tuple[Clause, ...]
    injected: tuple[str, ...] = ()  # why: "a role marker", ...

    def of_kind(self, kind: str) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if c.kind == kind)


# Irregular pasts of action verbs, by the stem of their present: "went to 5.2.1" says "go to".
_IRREGULAR_PAST = {"went": "go", "got": "get", "came": "com", "ran": "run", "took": "tak"}


def stem(word: str) -> str:
    """A crude stem so that upgrade, upgrades, upgrading and upgraded compare equal."""
    w = word.lower().strip("'")
    for suffix in ("ing", "ed", "es", "s"):
        # "moved" and "moving" keep a stem of three letters; a plural needs four ("luns").
        shortest = len(suffix) + (3 if suffix in ("ing", "ed") else 4)
        if len(w) >= shortest and w.endswith(suffix):
            w = w[: -len(suffix)]
            break
    return w.removesuffix("e")


def _tokens(text: str) -> list[str]:
    return [t.rstrip(".'").removesuffix("'s") for t in _TOKEN.findall(text.lower())]


# A value in an action phrase: "be on {re:\d+\.\d+\.\d+}" (the planner writes a routine's
# "be on {version}" so, from the parameter's pattern).
_SLOT = re.compile(r"\{re:(\S+)\}")


def action_matches(action: str, text: str, *, gap: int = 4) -> bool:
    """Whether `text` says `action`: its words in order, each a word of the text (by stem,
    or a typo of a long word), with at most `gap` words between two of them. A phrase with a
    value slot (`{re:PATTERN}`) is said only word for word, the slot by a matching value."""
    words = _tokens(text)
    stems = [stem(w) for w in words]
    said = [w if _SLOT.fullmatch(w) else w.lower() for w in action.split()]
    wanted = [w if _SLOT.fullmatch(w) else stem(w) for w in said]
    if not wanted:
        return False
    raw = dict(zip(wanted, said, strict=True))
    slots = [w for w in said if _SLOT.fullmatch(w)]
    if slots:
        gap = 0  # "be on {version}": a phrase around a value is said word for word

    def at(i: int, target: str) -> bool:
        slot = _SLOT.fullmatch(target)
        if slot is not None:  # a value of the parameter's pattern: "5.2.2", "v5.2.2"
            return re.fullmatch(slot.group(1), words[i].removeprefix("v")) is not None
        if stems[i] == target or words[i] == target or _IRREGULAR_PAST.get(words[i]) == target:
            return True
        if len(raw[target]) >= 4 and transposed(words[i], raw[target]):
            return True  # mvoe, rebot
        last = words[i].rsplit("-", 1)[-1]  # "mid-rebuild" ends with "rebuild", not "build"
        if (
            len(said) == 1
            and len(raw[target]) >= 5
            and len(last) >= len(raw[target]) + 3
            and last.endswith(raw[target])
        ):
            return True  # healthcheck, helthcheck: a compound ending with the action
        # A typo is close both as a stem and as typed: "starting" and "status" share
        # stems that look alike ("start", "statu") but are different words.
        return (
            len(target) > 4
            and bool(difflib.get_close_matches(stems[i], [target], n=1, cutoff=0.8))
            and bool(difflib.get_close_matches(words[i], [raw[target]], n=1, cutoff=0.75))
        )

    def from_(i: int, k: int) -> bool:
        if k == len(wanted):
            return True
        stop = len(words) if k == 0 else min(len(words), i + gap + 1)
        return any(at(j, wanted[k]) and from_(j + 1, k + 1) for j in range(i, stop))

    if from_(0, 0):
        return True
    # "healthcheck", "helthcheck", "failbak": the words of an action written as one.
    joined = "".join(w for w in said if w.isalpha()) if len(said) > 1 and not slots else ""
    return len(joined) > 6 and any(
        w == joined or bool(difflib.get_close_matches(w, [joined], n=1, cutoff=0.85)) for w in words
    )


def transposed(word: str, target: str) -> bool:
    """Two neighbouring letters swapped, or one letter dropped: a typo of `target`."""
    if word[:1] != target[:1]:
        return False
    if len(word) == len(target):
        diff = [i for i in range(len(word)) if word[i] != target[i]]
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and word[diff[0]] == target[diff[1]]
            and word[diff[1]] == target[diff[0]]
        )
    return len(word) == len(target) - 1 and any(
        target[:i] + target[i + 1 :] == word for i in range(1, len(target))
    )


def _injections(intent: str) -> tuple[str, tuple[str, ...]]:
    """The intent with steering text cut out, and why each cut was made."""
    text, found = intent, []
    for pattern, why in _INJECTION:
        if pattern.search(text):
            found.append(why)
            text = pattern.sub(" ", text)
    return " ".join(text.split()), tuple(dict.fromkeys(found))


def _kind(text: str, actions: Iterable[str], verbs: set[str]) -> str:
    """The clause's kind; `verbs` are the stems of `actions`' first words and OPS_VERBS."""
    lowered = text.lower()
    if _NEGATED.search(lowered):
        return "negated"
    first = _tokens(text)[:1]
    asked = lowered.rstrip().endswith("?")
    if _QUESTION_START.match(lowered) or asked:
        return "question"
    if _VERSION_NOW.search(lowered):
        return "context"  # "fw on array-01 is 5.1.0": what it runs, whatever word leads
    if _HISTORY.search(lowered) and not (first and (stem(first[0]) in verbs)):
        return "context"
    said = [a for a in actions if action_matches(a, text)]
    if _EVENT.match(lowered) or _done(text, said, verbs):
        return "context"
    if said or (first and first[0] in OPS_VERBS) or is_remedy(text):
        return "action"
    return "elaboration"


# "after the reboot of array-03-a", "since yesterday's failover": an event, not a request;
# "before rebooting array-01-b": what comes later, not what to do now.
_EVENT = re.compile(
    r"^(?:(?:after|since|following|during|before)\s+(?:the|a|an|this|that|its|their|"
    r"(?:yesterday|today|tonight|this\s+morning|last\s+night|last\s+week)'s)\b|"
    r"before\s+\w+ing\b)"
)


def _done(text: str, said: Iterable[str], verbs: set[str]) -> bool:
    """ "array-01-a rebooted itself overnight": an action word in the past, after its
    subject (not "to be upgraded", which asks for it): what happened, not a request.
    `said`: the actions the clause says; `verbs` as for `_kind`."""
    words = _tokens(text)
    if not words or stem(words[0]) in verbs:
        return False
    stems = {stem(a.split()[0]) for a in said if a.strip()}
    return any(
        (
            (w.endswith("ed") and stem(w) in stems)
            # "array-01 went to 5.2.1 last night": an irregular past of an action's verb.
            or _IRREGULAR_PAST.get(w, "") in stems
        )
        and words[i - 1] not in ("be", "been", "being")
        for i, w in enumerate(words)
        if i > 0
    )


def _verb_stems(actions: Iterable[str]) -> set[str]:
    return {stem(a.split()[0]) for a in actions if a.strip()} | {stem(v) for v in OPS_VERBS}


def read_intent(intent: str, *, actions: Sequence[str]) -> Reading:
    """Cut `intent` into clauses and read each; `actions` are every routine's action words.

    Fragments that ask nothing of their own ("target 5.2.1", "tonight") join the action
    before them (or after them, at the start), so a clause keeps its values.
    """
    text, injected = _injections(intent)
    verbs = _verb_stems(actions)
    parts = [piece for p in _SPLIT.split(text) for piece in _split_and(p.strip(" ,.:;!"), verbs)]
    raw: list[tuple[str, str]] = []
    for part in parts:
        question_mark = part.endswith("?")
        part = _LEADING.sub("", part.strip(" ,.:;!?")).strip()
        if not part:
            continue
        kind = _kind(part + ("?" if question_mark else ""), actions, verbs)
        # "can you reboot X?": a request, however it is punctuated.
        if kind == "question" and question_mark and _polite(intent, part):
            kind = "action" if any(action_matches(a, part) for a in actions) else kind
        if kind == "elaboration" and is_again(part) and raw:
            kind = "action"  # its action is the one the context before it says
        raw.append((part, kind))
    merged: list[list[str]] = []  # [text, kind]
    pending: list[str] = []
    for part, kind in raw:
        if kind == "elaboration":
            target = next((m for m in reversed(merged) if m[1] == "action"), None)
            if target is not None and merged[-1] is target:
                target[0] = f"{target[0]}, {part}"
            else:
                pending.append(part)
            continue
        if kind == "action" and pending:
            part = ", ".join([*pending, part])
            pending = []
        merged.append([part, kind])
    if pending:
        merged.append([", ".join(pending), "context"])
    return Reading(
        intent=intent,
        clauses=tuple(Clause(text=t, kind=k) for t, k in merged),
        injected=injected,
    )


def _split_and(text: str, verbs: set[str]) -> list[str]:
    """ "health check array-01 and delete lun-2": two clauses, when a verb follows "and",
    after an article or not (or a negation: "and do not ..."); "esx-02 and esx-03" stays
    one."""
    out: list[str] = []
    rest = text
    while True:
        m = next(
            (
                m
                # An article may stand before the next request's word: "... and a fat tree".
                for m in re.finditer(
                    r"\s+(?:and|&)\s+(?:(?:then|afterwards|after\s+that|later|next|finally)\s+)?"
                    r"(?:(?:a|an|the)\s+)?(?P<next>[a-z'-]+)",
                    rest,
                    re.IGNORECASE,
                )
                if stem(m.group("next")) in verbs
                or m.group("next").lower() in ("do", "don't", "dont", "never", "not", "also")
            ),
            None,
        )
        if m is None:
            out.append(rest)
            return [p for p in out if p]
        out.append(rest[: m.start()])
        rest = rest[m.start() :].strip()
        rest = re.sub(r"^(?:and|&)\s+", "", rest, flags=re.IGNORECASE)


def _polite(intent: str, part: str) -> bool:
    """Whether the clause was asked as "can you ...", "could you ...": a request."""
    at = intent.lower().find(part.lower()[:20])
    before = intent.lower()[max(0, at - 40) : at] if at >= 0 else ""
    return bool(
        re.search(r"\b(?:can|could|would|will)\s+(?:you|someone|somebody)\s*$|\bplease\s*$", before)
    )


# "roll array-02 back to 5.1.0", "revert", "back out": undoing a change, whatever verb
# carries it; read as the verb rollback, which a routine must declare to plan it.
_REVERSAL = re.compile(
    r"\broll(?:s|ed|ing)?\s+(?:[\w.'-]+\s+){0,4}?back\b|\broll-?back|\brevert|\bundo\b|"
    r"\bdowngrad|\bback\s+(?:out|off)\s+(?:the\s+)?(?:upgrade|update|patch|firmware|change)",
    re.IGNORECASE,
)


def leading_verb(text: str) -> str | None:
    """The stem of the verb that asks for a change, when the clause says one that routines
    must declare: its first word (delete, replace, move ...), or "rollback" for a clause
    that undoes a change ("roll array-02 back to 5.1.0"). Only a routine declaring that
    verb may plan the clause."""
    if _REVERSAL.search(text):
        return stem("rollback")
    words = _tokens(text)
    if words and words[0] in OPS_VERBS:
        return stem(words[0])
    return None


_REMEDY = re.compile(
    r"^(?:fix|sort(?:\s+\S+)?\s+out|deal\s+with|take\s+care\s+of|resolve|remediate)"
    # "fix it", or a bare "fix." / "fix pls" after the state it remedies
    r"(?:\s+(?:it|this|that|them)\b|\s*(?:pls|please)?\s*$)",
    re.IGNORECASE,
)


# "do the same for array-01-b", "now do array-02 to 5.2.1": the action is the one said in
# the clause before ("array-01-a was power cycled yesterday"), asked again of another entity.
_AGAIN = re.compile(
    r"^(?:do|redo|repeat)\b(?!\s+(?:not|nothing|n't)\b)|^(?:the\s+)?same\s+(?:for|on|with)\b",
    re.IGNORECASE,
)


def is_again(text: str) -> bool:
    """ "do the same for X", "do X to 5.2.1", "same for X": the action said before, again."""
    return _AGAIN.match(text.strip()) is not None


def is_remedy(text: str) -> bool:
    """ "fix it", "sort it out", "deal with that": a request whose action is the remedy for
    the state said beside it ("array-03 looks unbalanced, fix it")."""
    return _REMEDY.match(text.strip()) is not None


def has_pronoun(text: str) -> bool:
    return _PRONOUN.search(text) is not None


_ASKED_FOR = re.compile(
    r"\b(?:how\s+many|how\s+much|what|which)\s+([a-z][\w-]*)(?:\s+([a-z][\w-]*))?", re.IGNORECASE
)


def noun(word: str) -> str:
    """A noun's stem, singular and plural alike (leaves and leaf, luns and lun)."""
    w = word.lower()
    if w.endswith("ves"):
        w = w[:-3] + "f"
    elif w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        w = w[:-1]
    return stem(w)


def asked_for(text: str) -> set[str]:
    """The nouns a question asks the value of: spines in "how many spines ...", version in
    "what version ..." (and the word after, for "which firmware version")."""
    return {noun(w) for m in _ASKED_FOR.finditer(text) for w in m.groups() if w}


_REPEAT = re.compile(
    r"\b(?:\d+|two|three|four|five|several|many)\s+times\b|\btwice\b|\bevery\s+(?:\d+\s+)?"
    r"(?:minute|hour|day|night|week|month)s?\b|\b(?:hourly|daily|nightly|weekly|monthly)\b",
    re.IGNORECASE,
)
_REPEATED = "asks for it repeatedly or on a schedule: a plan runs once, when it is run"
# "if so, upgrade it", "upgrade it if needed": the request hangs on an answer nobody gave.
_OPEN_CONDITION = re.compile(
    r"\b(?:if|unless)\s+(?:so|not|yes|no|needed|necessary|required|need\s+be|"
    r"that's\s+the\s+case|it\s+(?:is|isn't|does|doesn't|needs\s+(?:it|to)))\b",
    re.IGNORECASE,
)
_CONDITIONAL = "hangs on an answer the request does not give (if so, if needed): ask it first"
_CONDITION_CLAUSE = re.compile(
    r"^(?:if|unless|in\s+case|provided|only\s+if|when)\b.*\b(?:is|are|was|were|has|have|"
    r"does|do|isn't|aren't|doesn't|still)\b",
    re.IGNORECASE,
)


def unplannable(text: str, previous: str = "") -> str | None:
    """Why a request cannot be one plan, or None: it asks for repeats or a schedule ("3
    times", "every hour": a plan runs once, when it is run), or it hangs on an answer nobody
    gave ("if so, upgrade it", "if needed", or a condition said just before it: "if array-01
    is on 5.1.0, upgrade it"), which the plan could not check and would run through."""
    if _REPEAT.search(text):
        return _REPEATED
    if _OPEN_CONDITION.search(text) or _CONDITION_CLAUSE.search(previous):
        return _CONDITIONAL
    return None
