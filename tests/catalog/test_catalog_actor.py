"""The @actor decorator, the Actor metadata it records, and the context an actor receives."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from planactor import CatalogError, RetryPolicy
from planactor.catalog import ENTITY_KEY, Actor, ActorContext, actor, actor_of, entity


class PingIn(BaseModel):
    host: str
    count: int = 1


class PingOut(BaseModel):
    host: str
    replies: int


class SnapIn(BaseModel):
    volume: str
    size_gb: int


class SnapOut(BaseModel):
    volume: str
    snapshot_id: str


class UndoIn(BaseModel):
    volume: str
    snapshot_id: str


class UndoOut(BaseModel):
    done: bool


class ArrayIn(BaseModel):
    array: str = entity("array", description="The array to inspect.")
    hosts: list[str] = entity("host", default=[])


CTX = ActorContext.for_step(run_id="run-1", step_id="step-a")


def _ping_actor(**options: Any) -> Actor:
    @actor(name="net.ping", effect="read", **options)
    def ping(args: PingIn, ctx: ActorContext) -> PingOut:
        """Ping a host a number of times.

        The rest of the docstring is not the description.
        """
        return PingOut(host=args.host, replies=args.count)

    spec = actor_of(ping)
    assert spec is not None
    return spec


def test_decorator_returns_the_function_unchanged() -> None:
    """@actor returns the very function it decorates, still callable as before."""

    def ping(args: PingIn, ctx: ActorContext) -> PingOut:
        return PingOut(host=args.host, replies=args.count)

    decorated = actor(name="net.ping", effect="read")(ping)
    assert decorated is ping
    assert decorated(PingIn(host="h1", count=2), CTX) == PingOut(host="h1", replies=2)


def test_actor_of_finds_the_recorded_actor() -> None:
    """actor_of returns the Actor of a decorated function, an Actor itself, else None."""
    spec = _ping_actor()
    assert actor_of(spec.fn) is spec
    assert actor_of(spec) is spec

    def plain(args: PingIn) -> PingOut:
        return PingOut(host=args.host, replies=0)

    assert actor_of(plain) is None
    assert actor_of(42) is None


def test_metadata_is_recorded() -> None:
    """Name, effect, models, options and module are recorded on the Actor."""

    def check(args: SnapIn) -> bool:
        return True

    @actor(
        name="storage.snapshot",
        effect="write",
        compensate="storage.drop_snapshot",
        check=check,
        timeout_s=30.0,
        tags=["storage", "safe"],
    )
    def snapshot(args: SnapIn, ctx: ActorContext) -> SnapOut:
        return SnapOut(volume=args.volume, snapshot_id="s-1")

    spec = actor_of(snapshot)
    assert spec is not None
    assert spec.name == "storage.snapshot"
    assert spec.effect == "write"
    assert spec.input_model is SnapIn
    assert spec.output_model is SnapOut
    assert spec.compensate == "storage.drop_snapshot"
    assert spec.irreversible is False
    assert spec.check is check
    assert spec.timeout_s == 30.0
    assert spec.tags == ("storage", "safe")
    assert spec.module == __name__
    assert spec.fn is snapshot
    assert spec.kind == "write"


@pytest.mark.parametrize(
    ("effect", "given", "expected"),
    [
        ("read", None, True),
        ("write", None, False),
        ("read", False, False),
        ("write", True, True),
    ],
)
def test_idempotent_defaults_by_effect(effect: str, given: bool | None, expected: bool) -> None:
    """Read actors default to idempotent, write actors do not; an explicit value wins."""

    @actor(name="x.op", effect=effect, idempotent=given, irreversible=effect == "write")  # type: ignore[arg-type]
    def op(args: PingIn) -> PingOut:
        return PingOut(host=args.host, replies=0)

    spec = actor_of(op)
    assert spec is not None
    assert spec.idempotent is expected


def test_kind_distinguishes_read_write_and_irreversible() -> None:
    """An actor's kind is read, write, or irreversible for irreversible writes."""

    @actor(name="x.wipe", effect="write", irreversible=True)
    def wipe(args: PingIn) -> PingOut:
        return PingOut(host=args.host, replies=0)

    spec = actor_of(wipe)
    assert spec is not None
    assert spec.kind == "irreversible"
    assert _ping_actor().kind == "read"


def test_description_is_the_docstring_first_line() -> None:
    """The description is the first line of the docstring, without the rest."""
    assert _ping_actor().description == "Ping a host a number of times."


def test_description_is_empty_without_docstring() -> None:
    """A function without a docstring gets an empty description."""

    @actor(name="x.nodoc", effect="read")
    def nodoc(args: PingIn) -> PingOut:
        return PingOut(host=args.host, replies=0)

    spec = actor_of(nodoc)
    assert spec is not None
    assert spec.description == ""


def test_retry_int_becomes_a_retry_policy() -> None:
    """retry=3 is recorded as RetryPolicy(attempts=3) with the default backoff."""
    spec = _ping_actor(retry=3)
    assert spec.retry == RetryPolicy(attempts=3)


def test_retry_policy_and_none_are_kept() -> None:
    """A RetryPolicy is recorded as given; no retry stays None."""
    policy = RetryPolicy(attempts=5, backoff_s=0.5)
    assert _ping_actor(retry=policy).retry is policy
    assert _ping_actor().retry is None


def test_invalid_retry_count_is_refused() -> None:
    """retry=0 is not a valid number of attempts."""
    with pytest.raises(ValidationError):
        _ping_actor(retry=0)


def test_unknown_effect_is_refused_naming_the_actor() -> None:
    """An effect other than read/write is a CatalogError naming the actor."""
    with pytest.raises(CatalogError, match=r"'x\.op'.*effect"):
        actor(name="x.op", effect="delete")  # type: ignore[arg-type]


def _no_input_annotation(args, ctx: ActorContext) -> PingOut:  # type: ignore[no-untyped-def]
    return PingOut(host="h", replies=0)


def _input_not_a_model(args: dict, ctx: ActorContext) -> PingOut:  # type: ignore[type-arg]
    return PingOut(host="h", replies=0)


def _no_return_annotation(args: PingIn, ctx: ActorContext):  # type: ignore[no-untyped-def]
    return PingOut(host="h", replies=0)


def _return_not_a_model(args: PingIn, ctx: ActorContext) -> dict:  # type: ignore[type-arg]
    return {}


def _return_list_of_models(args: PingIn) -> list[PingOut]:
    return []


def _no_params() -> PingOut:
    return PingOut(host="h", replies=0)


def _three_params(args: PingIn, ctx: ActorContext, extra: int) -> PingOut:
    return PingOut(host="h", replies=extra)


@pytest.mark.parametrize(
    ("fn", "why"),
    [
        (_no_input_annotation, "first parameter is not annotated with a pydantic model"),
        (_input_not_a_model, "first parameter is not annotated with a pydantic model"),
        (_no_return_annotation, "return annotation is not a pydantic model"),
        (_return_not_a_model, "return annotation is not a pydantic model"),
        (_return_list_of_models, "return annotation is not a pydantic model"),
        (_no_params, "takes 0 parameters"),
        (_three_params, "takes 3 parameters"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else "",
)
def test_bad_signatures_are_refused_naming_the_actor(fn: Any, why: str) -> None:
    """A function that is not (Model) -> Model or (Model, ctx) -> Model is a CatalogError."""
    with pytest.raises(CatalogError) as exc:
        actor(name="bad.signature", effect="read")(fn)
    message = str(exc.value)
    assert "'bad.signature'" in message
    assert fn.__name__ in message
    assert why in message
    assert exc.value.hint


def test_unresolvable_type_hints_are_refused_naming_the_actor() -> None:
    """Annotations naming types that do not exist are a CatalogError, not a NameError."""

    def f(args: NoSuchModel) -> PingOut:  # type: ignore[name-defined]  # noqa: F821
        return PingOut(host="h", replies=0)

    with pytest.raises(CatalogError, match=r"'bad\.hints'.*cannot resolve"):
        actor(name="bad.hints", effect="read")(f)


def test_function_with_context_receives_it() -> None:
    """A two-parameter actor is called with the input and the ActorContext."""
    seen: list[ActorContext] = []

    @actor(name="x.ctx", effect="read")
    def with_ctx(args: PingIn, ctx: ActorContext) -> PingOut:
        seen.append(ctx)
        return PingOut(host=args.host, replies=args.count)

    spec = actor_of(with_ctx)
    assert spec is not None
    assert spec.takes_context is True
    assert spec.call({"host": "h"}, CTX) == PingOut(host="h", replies=1)
    assert seen == [CTX]


def test_function_without_context_is_called_with_input_only() -> None:
    """A one-parameter actor is called with the input alone."""

    @actor(name="x.noctx", effect="read")
    def no_ctx(args: PingIn) -> PingOut:
        return PingOut(host=args.host, replies=args.count)

    spec = actor_of(no_ctx)
    assert spec is not None
    assert spec.takes_context is False
    assert spec.call({"host": "h", "count": 4}, CTX) == PingOut(host="h", replies=4)


@pytest.mark.parametrize(
    "args",
    [{}, {"host": "h", "count": "many"}, {"host": 7}],
    ids=["missing", "wrong-type", "not-a-string"],
)
def test_call_validates_input_before_running(args: dict[str, Any]) -> None:
    """Actor.call raises pydantic's ValidationError on bad arguments and never runs the function."""
    calls: list[PingIn] = []

    @actor(name="x.strict", effect="read")
    def strict(a: PingIn) -> PingOut:
        calls.append(a)
        return PingOut(host=a.host, replies=a.count)

    spec = actor_of(strict)
    assert spec is not None
    with pytest.raises(ValidationError):
        spec.call(args, CTX)
    assert calls == []


def test_call_accepts_a_model_instance_or_another_model() -> None:
    """Actor.call takes the input model itself, or any model with matching fields."""

    class Similar(BaseModel):
        host: str
        count: int

    spec = _ping_actor()
    given = PingIn(host="h", count=3)
    assert spec.parse_input(given) is given
    assert spec.call(Similar(host="h", count=2), CTX) == PingOut(host="h", replies=2)


def test_call_refuses_a_wrong_return_type_naming_the_actor() -> None:
    """An actor returning something other than its declared output model is a TypeError."""

    @actor(name="x.liar", effect="read")
    def liar(args: PingIn) -> PingOut:
        return {"host": args.host, "replies": 1}  # type: ignore[return-value]

    spec = actor_of(liar)
    assert spec is not None
    with pytest.raises(
        TypeError, match=r"'x\.liar' returned dict, not its declared output PingOut"
    ):
        spec.call({"host": "h"}, CTX)


def test_call_refuses_a_different_model_with_the_same_fields() -> None:
    """Returning another model, even one that looks alike, is refused."""

    class LookAlike(BaseModel):
        host: str
        replies: int

    @actor(name="x.lookalike", effect="read")
    def lookalike(args: PingIn) -> PingOut:
        return LookAlike(host=args.host, replies=1)  # type: ignore[return-value]

    spec = actor_of(lookalike)
    assert spec is not None
    with pytest.raises(TypeError, match=r"'x\.lookalike' returned LookAlike"):
        spec.call({"host": "h"}, CTX)


def test_context_idempotency_key_is_run_and_step_without_attempt() -> None:
    """for_step builds the key RUN/STEP; the attempt number never changes it."""
    first = ActorContext.for_step(run_id="r-42", step_id="fail_over")
    third = ActorContext.for_step(run_id="r-42", step_id="fail_over", attempt=3)
    assert first.idempotency_key == "r-42/fail_over"
    assert third.idempotency_key == first.idempotency_key
    assert third.attempt == 3
    assert ActorContext.for_step(run_id="r-43", step_id="fail_over").idempotency_key != (
        first.idempotency_key
    )


def test_context_defaults_and_logger() -> None:
    """A context defaults to a first, real attempt with a per-step logger, or the one given."""
    ctx = ActorContext.for_step(run_id="r", step_id="route")
    assert (ctx.run_id, ctx.step_id, ctx.dry_run, ctx.attempt) == ("r", "route", False, 1)
    assert ctx.logger.name == "planactor.actor.route"
    mine = logging.getLogger("mine")
    assert ActorContext.for_step(run_id="r", step_id="s", logger=mine, dry_run=True).logger is mine


def _snapshot_actor(**options: Any) -> Actor:
    @actor(name="storage.snapshot", effect="write", compensate="storage.drop", **options)
    def snapshot(args: SnapIn) -> SnapOut:
        return SnapOut(volume=args.volume, snapshot_id="snap-1")

    spec = actor_of(snapshot)
    assert spec is not None
    return spec


def _undo_actor() -> Actor:
    @actor(name="storage.drop", effect="write", irreversible=True)
    def drop(args: UndoIn) -> UndoOut:
        return UndoOut(done=True)

    spec = actor_of(drop)
    assert spec is not None
    return spec


def test_compensation_input_maps_by_field_name() -> None:
    """Without compensate_args, the compensation takes same-named fields of input and output."""
    original, undo = _snapshot_actor(), _undo_actor()
    inp = SnapIn(volume="vol-1", size_gb=10)
    out = SnapOut(volume="vol-1", snapshot_id="snap-9")
    assert original.compensation_input(undo, inp, out) == UndoIn(
        volume="vol-1", snapshot_id="snap-9"
    )


def test_compensation_input_output_overrides_input() -> None:
    """When input and output share a field name, the output's value is used."""
    original, undo = _snapshot_actor(), _undo_actor()
    inp = SnapIn(volume="vol-requested", size_gb=10)
    out = SnapOut(volume="vol-actual", snapshot_id="snap-9")
    assert original.compensation_input(undo, inp, out).volume == "vol-actual"  # type: ignore[attr-defined]


def test_compensation_input_uses_compensate_args() -> None:
    """A compensate_args mapper builds the compensation's input instead of field matching."""
    original = _snapshot_actor(
        compensate_args=lambda inp, out: {"volume": inp.volume.upper(), "snapshot_id": "X"}
    )
    result = original.compensation_input(
        _undo_actor(), SnapIn(volume="vol-1", size_gb=1), SnapOut(volume="v", snapshot_id="s")
    )
    assert result == UndoIn(volume="VOL-1", snapshot_id="X")


def test_compensation_input_is_validated() -> None:
    """A compensate_args mapper that produces bad input raises a ValidationError."""
    original = _snapshot_actor(compensate_args=lambda inp, out: {"volume": 3})
    with pytest.raises(ValidationError):
        original.compensation_input(
            _undo_actor(), SnapIn(volume="v", size_gb=1), SnapOut(volume="v", snapshot_id="s")
        )


def test_entity_marks_the_json_schema() -> None:
    """entity(kind) puts x-planactor-entity: kind into the field's JSON schema."""
    assert ENTITY_KEY == "x-planactor-entity"
    props = ArrayIn.model_json_schema()["properties"]
    assert props["array"][ENTITY_KEY] == "array"
    assert props["array"]["description"] == "The array to inspect."
    assert props["hosts"][ENTITY_KEY] == "host"
    assert ENTITY_KEY not in ArrayIn.model_json_schema()


def test_entity_is_required_unless_given_a_default() -> None:
    """An entity field without a default is required; with one it is optional."""
    assert ArrayIn.model_json_schema()["required"] == ["array"]
    with pytest.raises(ValidationError):
        ArrayIn.model_validate({})
    assert ArrayIn(array="array-01").hosts == []


def test_actor_schemas_come_from_the_models() -> None:
    """input_schema and output_schema are the models' JSON schemas."""
    spec = _ping_actor()
    assert spec.input_schema == PingIn.model_json_schema()
    assert set(spec.input_schema["properties"]) == {"host", "count"}
    assert set(spec.output_schema["properties"]) == {"host", "replies"}
