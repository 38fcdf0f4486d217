"""Static checks of a plan against the catalog, the inventory and policy.

`validate` never raises for bad input: whatever it is given (text, a mapping, a Plan),
it returns a report with every problem it can find at once.
"""

from __future__ import annotations

import difflib
import gc
import itertools
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from planactor.catalog import ENTITY_KEY, Actor, Catalog
from planactor.plan import (
    API_VERSION,
    JSON_CHECKED,
    BadReference,
    Condition,
    InputRef,
    JsonSyntaxError,
    OutputRef,
    Plan,
    Reference,
    RetryPolicy,
    Step,
    canonical_json,
    find_cycle,
    format_location,
    iter_references,
    parse_json,
    parse_output_ref,
)
from planactor.validate._inventory import Inventory
from planactor.validate._policy import Policy
from planactor.validate._report import Limits, Problem, ValidationReport
from planactor.validate._schema import json_types, schema_at, types_compatible

__all__ = ["validate"]

Loc = tuple[str | int, ...]
# What a schema says about one position: its schemas (None: cannot exist) and JSON types.
_TypesAt = tuple[list[dict[str, Any]] | None, set[str] | None]


def _close(word: str, options: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(options), n=3, cutoff=0.6)
    return f"did you mean {', '.join(repr(c) for c in close)}?" if close else None


@dataclass
class _Checker:
    catalog: Catalog
    inventory: Inventory | None
    problems: list[Problem] = field(default_factory=list)
    # Memos for one run: plans repeat the same actors, references and argument positions.
    _types: dict[tuple[str, bool, Loc], _TypesAt] = field(default_factory=dict)
    _arg_names: dict[str, set[str] | None] = field(default_factory=dict)  # None: extra allowed
    _actors: dict[str, Actor | None] = field(default_factory=dict)

    def add(
        self,
        code: str,
        loc: Loc,
        message: str,
        hint: str | None = None,
        *,
        step: str | None = None,
        severity: str = "error",
    ) -> None:
        self.problems.append(
            Problem(
                code=code,
                location=format_location(loc),
                message=message,
                hint=hint,
                step=step,
                severity="warning" if severity == "warning" else "error",
            )
        )

    # -- structure ------------------------------------------------------------------------

    def structure(
        self, doc: dict[str, Any], *, from_text: bool
    ) -> tuple[Plan | None, list[tuple[int, Step]], bool]:
        """Parse into models. Returns the plan if whole, the steps that parsed, inputs_ok.

        A document parsed from text by the strict parser is JSON by construction, so the
        models skip their JSON-only walk; a mapping from Python code gets it.
        """
        ctx = _JSON_CHECKED if from_text else None
        try:
            plan = Plan.model_validate(doc, context=ctx)
        except ValidationError:
            pass
        else:
            return plan, list(enumerate(plan.steps)), True
        # Slow path: find every structural problem, keeping what did parse.
        top = {k: v for k, v in doc.items() if k != "steps"}
        top["steps"] = []
        inputs_ok = True
        try:
            Plan.model_validate(top, context=ctx)
        except ValidationError as e:
            for err in e.errors():
                if err["loc"] and err["loc"][0] == "inputs":
                    inputs_ok = False
                self._pydantic({**err, "loc": _data_loc(top, err["loc"])}, (), None)
        steps_raw = doc.get("steps")
        good: list[tuple[int, Step]] = []
        if "steps" not in doc:
            self.add("missing-field", ("steps",), "the plan has no 'steps'", "add a list of steps")
        elif not isinstance(steps_raw, list):
            self.add("wrong-type", ("steps",), "'steps' must be a list of step objects")
        else:
            for i, raw in enumerate(steps_raw):
                try:
                    good.append((i, Step.model_validate(raw, context=ctx)))
                except ValidationError as e:
                    sid = raw.get("id") if isinstance(raw, dict) else None
                    for err in e.errors():
                        err = {**err, "loc": _data_loc(raw, err["loc"])}
                        self._pydantic(err, ("steps", i), sid if isinstance(sid, str) else None)
        return None, good, inputs_ok

    def _pydantic(self, err: Any, prefix: Loc, step: str | None) -> None:
        loc: Loc = (*prefix, *err["loc"])
        kind = err["type"]
        if loc == ("api_version",) and kind != "missing":
            self.add(
                "api-version",
                loc,
                f"unsupported api_version {err.get('input')!r}",
                f"this planactor reads {API_VERSION!r}",
            )
        elif kind == "missing":
            self.add(
                "missing-field",
                loc,
                f"required field {format_location(loc)!r} is missing",
                step=step,
            )
        elif kind == "extra_forbidden":
            self.add(
                "unknown-field",
                loc,
                f"unknown field {str(loc[-1])!r}",
                _close(str(loc[-1]), _known_fields(loc[:-1])),
                step=step,
            )
        elif kind.endswith("_type") or kind in ("model_type", "dict_type", "list_type"):
            self.add("wrong-type", loc, err["msg"], step=step)
        else:
            self.add("invalid-value", loc, err["msg"], step=step)

    # -- semantics ------------------------------------------------------------------------

    def semantics(
        self,
        steps: list[tuple[int, Step]],
        all_ids: dict[str, int],
        inputs: Mapping[str, Any] | None,
    ) -> None:
        position = all_ids
        by_id: dict[str, tuple[int, Step]] = {}
        for i, step in steps:
            if step.id in by_id:
                first = by_id[step.id][0]
                self.add(
                    "duplicate-step-id",
                    ("steps", i, "id"),
                    f"step id {step.id!r} is already used by steps[{first}]",
                    "give every step a unique id",
                    step=step.id,
                )
                continue
            by_id[step.id] = (i, step)

        used_inputs: set[str] = set()
        # Dependency edges, with where each was declared, for cycle and order checks.
        edges: dict[str, dict[str, tuple[str, Loc]]] = {sid: {} for sid in by_id}
        for i, step in steps:
            if by_id.get(step.id, (None,))[0] != i:
                continue
            base: Loc = ("steps", i)
            actor = self._actor(step, base)
            if actor is not None and actor.effect == "write" and step.on_failure == "continue":
                self.add(
                    "write-continue",
                    (*base, "on_failure"),
                    f"write step {step.id!r} ({step.actor}) cannot use on_failure: continue",
                    "a failed write must compensate or pause, never be ignored",
                    step=step.id,
                )
            for j, dep in enumerate(step.after):
                loc = (*base, "after", j)
                if dep not in position:
                    self.add(
                        "after-unknown-step",
                        loc,
                        f"'after' names unknown step {dep!r}",
                        _close(dep, position),
                        step=step.id,
                    )
                else:
                    edges[step.id].setdefault(dep, ("after", loc))
            # Only a dict or a list can hold a reference (or `args` itself be one): most
            # arguments are plain values, and walking them would find nothing.
            refs: list[Reference] = []
            if any(k[:1] == "$" or isinstance(v, dict | list) for k, v in step.args.items()):
                refs = list(iter_references(step.args, (*base, "args")))
            for ref in refs:
                self._reference(ref, step, by_id, position, edges, inputs, used_inputs)
            if step.when is not None:
                wloc: Loc = (*base, "when")
                if step.when.ref is not None:
                    when = parse_output_ref(step.when.ref, (*wloc, "$ref"))
                    self._reference(when, step, by_id, position, edges, inputs, used_inputs)
                else:
                    assert step.when.input is not None
                    self._reference(
                        InputRef(name=step.when.input, location=(*wloc, "$input")),
                        step,
                        by_id,
                        position,
                        edges,
                        inputs,
                        used_inputs,
                    )
            if actor is not None:
                self._args(step, actor, base, inputs, refs)

        self._order(edges, position)
        if inputs is not None:
            for name in inputs:
                if name not in used_inputs:
                    self.add(
                        "input-unused",
                        ("inputs", name),
                        f"input {name!r} is declared but no step uses it",
                        'remove it, or reference it with {"$input": "' + name + '"}',
                        severity="warning",
                    )

    def _lookup(self, name: str) -> Actor | None:
        """The catalog's actor of that name, or None; remembered for the run."""
        try:
            return self._actors[name]
        except KeyError:
            found = self._actors[name] = self.catalog.get(name) if name in self.catalog else None
            return found

    def _actor(self, step: Step, base: Loc) -> Actor | None:
        found = self._lookup(step.actor)
        if found is not None:
            return found
        close = self.catalog.suggest(step.actor)
        hint = (
            f"did you mean {', '.join(repr(c) for c in close)}?"
            if close
            else "run `planactor actors` to list the catalog"
        )
        self.add(
            "unknown-actor", (*base, "actor"), f"unknown actor {step.actor!r}", hint, step=step.id
        )
        return None

    def _reference(
        self,
        ref: OutputRef | InputRef | BadReference,
        step: Step,
        by_id: dict[str, tuple[int, Step]],
        position: dict[str, int],
        edges: dict[str, dict[str, tuple[str, Loc]]],
        inputs: Mapping[str, Any] | None,
        used_inputs: set[str],
    ) -> None:
        if isinstance(ref, BadReference):
            self.add("ref-malformed", ref.location, ref.reason, ref.hint, step=step.id)
        elif isinstance(ref, InputRef):
            used_inputs.add(ref.name)
            if inputs is not None and ref.name not in inputs:
                self.add(
                    "input-undeclared",
                    ref.location,
                    f"input {ref.name!r} is not declared in 'inputs'",
                    _close(ref.name, inputs) or f"add {ref.name!r} to the plan's inputs",
                    step=step.id,
                )
        elif ref.step not in position:
            self.add(
                "ref-unknown-step",
                ref.location,
                f"reference {ref.text!r} names unknown step {ref.step!r}",
                _close(ref.step, position),
                step=step.id,
            )
        else:
            edges[step.id].setdefault(ref.step, ("ref", ref.location))
            target = by_id.get(ref.step)
            producer = None if target is None else self._lookup(target[1].actor)
            if producer is None:
                return  # reported elsewhere; nothing more to check here
            produced, have = self._types_at(producer, True, ref.path)
            if produced is None:
                fields = sorted(producer.output_model.model_fields)
                self.add(
                    "ref-unknown-field",
                    ref.location,
                    f"{ref.text!r}: actor {producer.name!r} has no output "
                    f"{format_location(ref.path)!r}",
                    f"its output fields are: {', '.join(fields)}",
                    step=step.id,
                )
                return
            consumer = self._lookup(step.actor)
            if ref.location[2:3] != ("args",) or consumer is None:
                return  # a `when` operand is compared, not typed
            accepted, want = self._types_at(consumer, False, ref.location[3:])
            if accepted and not types_compatible(have, want):
                self.add(
                    "ref-type-mismatch",
                    ref.location,
                    f"{ref.text!r} is {'/'.join(sorted(have or ()))} but "
                    f"{step.actor} expects {'/'.join(sorted(want or ()))} here",
                    "reference a field of the right type",
                    step=step.id,
                )

    def _types_at(self, actor: Actor, output: bool, path: Loc) -> _TypesAt:
        """The schemas at `path` in the actor's output (or input), and their JSON types."""
        key = (actor.name, output, path)
        hit = self._types.get(key)
        if hit is None:
            at = schema_at(actor.output_schema if output else actor.input_schema, path)
            hit = self._types[key] = (at, json_types(at or []))
        return hit

    def _args(
        self,
        step: Step,
        actor: Actor,
        base: Loc,
        inputs: Mapping[str, Any] | None,
        refs: list[Reference],
    ) -> None:
        loc: Loc = (*base, "args")
        model = actor.input_model
        try:
            names = self._arg_names[actor.name]
        except KeyError:
            fields = model.model_fields
            names = self._arg_names[actor.name] = (
                {f.alias or n for n, f in fields.items()} | set(fields)
                if model.model_config.get("extra") != "allow"
                else None
            )
        if names is not None:
            for key in step.args:
                if key not in names:
                    fields = model.model_fields
                    self.add(
                        "args-unknown",
                        (*loc, key),
                        f"{actor.name} takes no argument {key!r}",
                        _close(key, names) or f"it takes: {', '.join(sorted(fields))}",
                        step=step.id,
                    )
        opaque: list[Loc] = []  # locations whose value is only known at run time
        value: dict[str, Any] = step.args
        if refs and all(type(r) is OutputRef for r in refs):
            # Nothing to substitute: each output reference leaves a hole where it stands.
            n = len(loc)
            opaque = [r.location[n:] for r in refs]
        elif refs:
            value = _substitute(step.args, inputs, opaque, ())
        errors: list[tuple[Loc, Any]] = []
        if not opaque:
            try:
                model.model_validate(value)
            except ValidationError as e:
                errors = [((), err) for err in e.errors(include_url=False, include_input=False)]
        else:
            # Some arguments are only known at run time: check the others field by field
            # rather than have pydantic raise (and us filter) an error for every reference.
            for key, (adapter, required) in actor.field_adapters.items():
                if key not in value:
                    if required:
                        errors.append(((), {"type": "missing", "loc": (key,), "msg": ""}))
                elif (key,) not in opaque:
                    try:
                        adapter.validate_python(value[key])
                    except ValidationError as e:
                        errors.extend(
                            ((key,), err)
                            for err in e.errors(include_url=False, include_input=False)
                        )
        for prefix, err in errors:
            eloc: Loc = _data_loc(value, (*prefix, *err["loc"]))
            if any(eloc[: len(o)] == o for o in opaque):
                continue
            if err["type"] == "extra_forbidden" and len(eloc) == 1:
                continue  # already reported as args-unknown
            where = (*loc, *eloc)
            if err["type"] == "missing":
                fields = model.model_fields  # a costly class property: only on errors
                desc = (
                    fields[str(eloc[0])].description
                    if len(eloc) == 1 and str(eloc[0]) in fields
                    else None
                )
                self.add(
                    "args-missing",
                    where,
                    f"{actor.name} needs argument {format_location(eloc)!r}",
                    desc,
                    step=step.id,
                )
            else:
                self.add(
                    "args-invalid",
                    where,
                    err["msg"],
                    f"see `planactor actors show {actor.name}`",
                    step=step.id,
                )
        if self.inventory is not None:
            self._entities(step, actor, loc, value)

    def _entities(self, step: Step, actor: Actor, loc: Loc, value: dict[str, Any]) -> None:
        assert self.inventory is not None
        for name, prop in actor.input_schema.get("properties", {}).items():
            kind = prop.get(ENTITY_KEY) if isinstance(prop, dict) else None
            if kind is None or name not in value:
                continue
            known = self.inventory.names(kind)
            if known is None:
                continue
            given = value[name]
            items: list[tuple[Loc, Any]] = []
            if isinstance(given, str):
                items.append(((*loc, name), given))
            elif isinstance(given, list):
                items.extend(((*loc, name, i), v) for i, v in enumerate(given))
            for where, v in items:
                if not isinstance(v, str):
                    continue
                if v not in known:
                    self.add(
                        "unknown-entity",
                        where,
                        f"no {kind} named {v!r} in the inventory",
                        _close(v, known) or f"known: {', '.join(sorted(known)[:10])}",
                        step=step.id,
                    )

    def _order(
        self, edges: dict[str, dict[str, tuple[str, Loc]]], position: dict[str, int]
    ) -> None:
        forward = [
            (sid, dep) for sid, ds in edges.items() for dep in ds if position[dep] >= position[sid]
        ]
        if not forward:
            return  # every edge points back up the list: no cycle is possible
        deps = {sid: list(d) for sid, d in edges.items()}
        in_cycle: set[tuple[str, str]] = set()
        while (cycle := find_cycle(deps)) is not None:
            head = cycle[0]
            self.add(
                "cycle",
                ("steps", position[head]),
                "dependency cycle: " + " -> ".join(cycle),
                "a step cannot (indirectly) depend on itself: remove one of these edges",
                step=head,
            )
            in_cycle.update(itertools.pairwise(cycle))
            for sid in cycle:
                deps[sid] = []
        for sid, dep in forward:
            if (sid, dep) not in in_cycle:
                kind, loc = edges[sid][dep]
                self.add(
                    f"{kind}-later-step",
                    loc,
                    f"step {sid!r} depends on {dep!r}, which is listed later "
                    f"(steps[{position[dep]}])",
                    f"list {dep!r} before {sid!r}: a plan is written in dependency order",
                    step=sid,
                )


def _data_loc(data: Any, loc: Iterable[str | int]) -> Loc:
    """A pydantic error location as a JSON path into `data`.

    pydantic puts the member of a union it tried into the location (`x.int`, `x.str`,
    `value.list[...]`); those are not in the document, so they are dropped. A last part
    that is not in the data is kept: it names a missing or unexpected key.
    """
    parts = list(loc)
    out: list[str | int] = []
    current = data
    for n, part in enumerate(parts):
        is_key = isinstance(current, dict) and isinstance(part, str)
        is_index = isinstance(current, list) and isinstance(part, int)
        if (is_key and part in current) or (is_index and 0 <= int(part) < len(current)):
            current = current[part]
        elif n < len(parts) - 1 or not (is_key or is_index):
            continue  # a union tag, not a place in the document
        out.append(part)
    return tuple(out)


def _substitute(value: Any, inputs: Mapping[str, Any] | None, opaque: list[Loc], loc: Loc) -> Any:
    """Replace `$input` references by their values; record where `$ref`s leave a hole."""
    if isinstance(value, dict):
        keys = [k for k in value if isinstance(k, str) and k.startswith("$")]
        if keys:
            if len(value) == 1 and keys[0] == "$input" and inputs is not None:
                name = value["$input"]
                if isinstance(name, str) and name in inputs:
                    return inputs[name]
            opaque.append(loc)
            return value
        return {k: _substitute(v, inputs, opaque, (*loc, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, inputs, opaque, (*loc, i)) for i, v in enumerate(value)]
    return value


def _field_names(model: type[Plan | Step | RetryPolicy | Condition]) -> frozenset[str]:
    return frozenset(f.alias or n for n, f in model.model_fields.items())


# For documents from parse_json: strict JSON by construction (see _Checker.structure).
_JSON_CHECKED = {JSON_CHECKED: True}
_PLAN_FIELDS = _field_names(Plan)
_STEP_FIELDS = _field_names(Step)
_RETRY_FIELDS = _field_names(RetryPolicy)
_CONDITION_FIELDS = _field_names(Condition)


def _known_fields(parent: Loc) -> frozenset[str]:
    """The fields of the object at `parent`, for a did-you-mean on an unknown one."""
    if not parent:
        return _PLAN_FIELDS
    if len(parent) == 2 and parent[0] == "steps":
        return _STEP_FIELDS
    if len(parent) == 3 and parent[0] == "steps":
        return {"retry": _RETRY_FIELDS, "when": _CONDITION_FIELDS}.get(str(parent[2]), frozenset())
    return frozenset()


def _json_problem(e: JsonSyntaxError) -> Problem:
    # A JSON path also comes with other errors found after parsing (a lone surrogate).
    dup = e.location != () and e.message.startswith("duplicate key")
    return Problem(
        code="json-duplicate-key" if dup else "json-syntax",
        location=format_location(e.location),
        message=e.message if dup else f"not valid JSON: {e.message}",
        hint="keep one of the two keys" if dup else "fix the JSON syntax at that position",
        line=e.line,
        column=e.column,
    )


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, restoring its previous state afterwards.

    Validation builds a tree of objects proportional to the plan and creates no reference
    cycles; collections triggered while it grows only rescan that tree (a quarter of the
    time at 10,000 steps). Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def validate(
    plan: Plan | Mapping[str, Any] | str | bytes,
    catalog: Catalog,
    inventory: Inventory | None = None,
    policy: Policy | None = None,
    *,
    limits: Limits | None = None,
) -> ValidationReport:
    """Check a plan; return every problem found. Never raises for bad input.

    `plan` may be JSON text, a parsed JSON object or a Plan. The report is ok when it
    holds no error (warnings do not fail a plan).
    """
    with _cyclic_gc_paused():
        return _validate(plan, catalog, inventory, policy, limits or Limits())


def _validate(
    plan: Plan | Mapping[str, Any] | str | bytes,
    catalog: Catalog,
    inventory: Inventory | None,
    policy: Policy | None,
    limits: Limits,
) -> ValidationReport:
    if isinstance(plan, str | bytes):
        # surrogatepass: a lone surrogate is counted here and refused by the parser.
        size = len(plan.encode("utf-8", "surrogatepass") if isinstance(plan, str) else plan)
        if size > limits.max_bytes:
            return ValidationReport(problems=(_too_large(size, limits),))
        try:
            doc: Any = parse_json(plan)
        except JsonSyntaxError as e:
            return ValidationReport(problems=(_json_problem(e),))
    elif isinstance(plan, Plan):
        doc = plan.to_document()
    else:
        doc = plan
    if not isinstance(doc, Mapping):
        return ValidationReport(
            problems=(
                Problem(
                    code="not-an-object",
                    location="$",
                    message=f"a plan is a JSON object, not {type(doc).__name__}",
                    hint='start from `{"api_version": "planactor/v1", "steps": [...]}`',
                ),
            )
        )
    doc = dict(doc)
    if not isinstance(plan, str | bytes):
        try:
            size = len(canonical_json(doc))
        except (TypeError, ValueError, RecursionError) as e:
            return ValidationReport(
                problems=(
                    Problem(
                        code="not-json", location="$", message=f"the plan is not JSON data: {e}"
                    ),
                )
            )
        if size > limits.max_bytes:
            return ValidationReport(problems=(_too_large(size, limits),))
    steps_raw = doc.get("steps")
    if isinstance(steps_raw, list) and len(steps_raw) > limits.max_steps:
        return ValidationReport(
            problems=(
                Problem(
                    code="too-many-steps",
                    location="steps",
                    message=f"the plan has {len(steps_raw):,} steps; "
                    f"the limit is {limits.max_steps:,}",
                    hint="split the change into smaller plans, or raise --max-steps",
                ),
            )
        )

    checker = _Checker(catalog=catalog, inventory=inventory)
    parsed, steps, inputs_ok = checker.structure(doc, from_text=isinstance(plan, str | bytes))
    if isinstance(steps_raw, list) and not steps_raw:
        checker.add("empty-plan", ("steps",), "the plan has no steps", "add at least one step")
    all_ids: dict[str, int] = {}
    if isinstance(steps_raw, list):
        for i, raw in enumerate(steps_raw):
            sid = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(sid, str):
                all_ids.setdefault(sid, i)
    raw_inputs = doc.get("inputs", {})
    inputs = raw_inputs if inputs_ok and isinstance(raw_inputs, dict) else None
    checker.semantics(steps, all_ids, inputs)

    if (
        parsed is not None
        and policy is not None
        and not any(p.severity == "error" for p in checker.problems)
    ):
        try:
            checker.problems.extend(policy.check(parsed, catalog=catalog, inventory=inventory))
        except Exception as e:  # a broken policy must not look like a passing plan
            checker.add("policy-error", (), f"policy {type(policy).__name__} failed: {e}")
    problems = tuple(checker.problems)
    return ValidationReport(
        problems=problems,
        plan_hash=parsed.hash if parsed is not None else None,
        step_count=len(steps_raw) if isinstance(steps_raw, list) else 0,
    )


def _too_large(size: int, limits: Limits) -> Problem:
    return Problem(
        code="too-large",
        location="$",
        message=f"the plan is {size:,} bytes; the limit is {limits.max_bytes:,}",
        hint="split the change into smaller plans, or raise --max-bytes",
    )
