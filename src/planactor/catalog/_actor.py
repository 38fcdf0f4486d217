"""The `@actor` decorator, the metadata it records, and the context an actor receives."""

from __future__ import annotations

import inspect
import logging
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Annotated, Any, Literal, TypeVar, cast

from pydantic import BaseModel, Field, TypeAdapter
from pydantic_core import PydanticUndefined

from planactor._errors import ActorError, CatalogError
from planactor.plan import RetryPolicy, StepKind

__all__ = [
    "ENTITY_KEY",
    "Actor",
    "ActorContext",
    "Effect",
    "LLMSkill",
    "LlmLog",
    "actor",
    "actor_of",
    "entity",
]

Effect = Literal["read", "write"]
F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")
# Builds the compensation's input from the original step's input and output.
CompensateArgs = Callable[[Any, Any], "Mapping[str, Any] | BaseModel"]

_ATTR = "__planactor_actor__"
# getLogger takes a lock on every call: look the default logger up once.
_ACTOR_LOG = logging.getLogger("planactor.actor")
# JSON-schema key that marks a string field (or list of strings) as naming an inventory entity.
ENTITY_KEY = "x-planactor-entity"


def entity(kind: str, *, description: str | None = None, default: Any = PydanticUndefined) -> Any:
    """A pydantic field naming an inventory entity of `kind` (checked against the inventory).

    `array: str = entity("array")` lets the validator refuse `array-99` when the
    inventory has no such array, and lets the planner offer only names that exist.
    """
    return Field(default, description=description, json_schema_extra={ENTITY_KEY: kind})


# Told of an LLM skill's model call (prompt, model, parameters, raw output) so that the
# engine journals it beside the step (`step.llm_call`).
LlmLog = Callable[["ActorContext", Mapping[str, Any]], None]

# Shared by every context without resources: one empty read-only mapping.
_NO_RESOURCES: Mapping[str, object] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorContext:
    """What an actor knows about the call it is serving.

    `idempotency_key` is `RUN_ID/STEP_ID` and never contains the attempt number, so a
    write actor can recognise a retry or a resumed call of work it may already have done.

    `resources` are what the engine was given for its actors (`Engine(resources=...)`): a lab
    handle, a client, credentials, by name. Actors take them with `resource(name, type)`,
    never from process-global state, so two engines in one process can drive two worlds.
    """

    run_id: str
    step_id: str
    idempotency_key: str
    dry_run: bool = False
    attempt: int = 1
    logger: logging.Logger = field(default_factory=lambda: _ACTOR_LOG)
    resources: Mapping[str, object] = field(default_factory=lambda: _NO_RESOURCES)
    llm_log: LlmLog | None = None  # the engine's journal of LLM skill calls, if any

    @classmethod
    def for_step(
        cls,
        *,
        run_id: str,
        step_id: str,
        dry_run: bool = False,
        attempt: int = 1,
        logger: logging.Logger | None = None,
        resources: Mapping[str, object] | None = None,
    ) -> ActorContext:
        return cls(
            run_id=run_id,
            step_id=step_id,
            idempotency_key=f"{run_id}/{step_id}",
            dry_run=dry_run,
            attempt=attempt,
            logger=logger or logging.getLogger(f"planactor.actor.{step_id}"),
            resources=_NO_RESOURCES if not resources else MappingProxyType(dict(resources)),
        )

    def resource(self, name: str, kind: type[R], *, hint: str | None = None) -> R:
        """The resource named `name`, which must be a `kind`.

        A missing or mistyped resource is a setup mistake no retry can mend: a final
        ActorError naming what is missing (`hint` says how to provide it).
        """
        found = self.resources.get(name)
        if found is None:
            given = ", ".join(sorted(self.resources)) or "none"
            raise ActorError(
                f"this run was given no {name!r} resource (resources given: {given})",
                hint=hint or f"pass it to the engine: Engine(..., resources={{{name!r}: ...}})",
                retryable=False,
            )
        if not isinstance(found, kind):
            raise ActorError(
                f"the {name!r} resource is a {type(found).__name__}, not a {kind.__name__}",
                hint=hint,
                retryable=False,
            )
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class LLMSkill:
    """What makes an actor an LLM skill: its prompt template and the call's parameters."""

    prompt: str
    max_tokens: int = 256
    temperature: float = 0.0
    system: str = "You answer only with JSON that fits the schema."


@dataclass(frozen=True, kw_only=True)
class Actor:
    """A registered operation: a typed function plus what the engine and reviewers must know."""

    name: str
    fn: Callable[..., BaseModel]
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    effect: Effect
    idempotent: bool
    irreversible: bool = False
    compensate: str | None = None
    compensate_args: CompensateArgs | None = None
    check: Callable[..., Any] | None = None
    timeout_s: float | None = None
    retry: RetryPolicy | None = None
    tags: tuple[str, ...] = ()
    description: str = ""
    module: str = ""
    takes_context: bool = True
    llm: LLMSkill | None = None  # set for an LLM skill (`@llm_skill`): a model writes its output

    @property
    def probabilistic(self) -> bool:
        """A model, not code, produces the output: reviewers and audits must see it."""
        return self.llm is not None

    @property
    def kind(self) -> StepKind:
        if self.effect == "read":
            return "read"
        return "irreversible" if self.irreversible else "write"

    @cached_property
    def input_schema(self) -> dict[str, Any]:
        return self.input_model.model_json_schema()

    @cached_property
    def output_schema(self) -> dict[str, Any]:
        return self.output_model.model_json_schema(mode="serialization")

    @cached_property
    def field_adapters(self) -> dict[str, tuple[TypeAdapter[Any], bool]]:
        """Per input field, keyed by the name used in JSON: (validator, required).

        Lets the validator check the literal arguments of a step whose other arguments
        are references, which are only known at run time. Model-level validators cannot
        run then; they run when the actor is called.
        """
        return {
            (f.alias or name): (TypeAdapter(cast(Any, Annotated[f.annotation, f])), f.is_required())
            for name, f in self.input_model.model_fields.items()
        }

    def parse_input(self, args: Mapping[str, Any] | BaseModel) -> BaseModel:
        """Validate JSON arguments into the input model (pydantic's ValidationError if not)."""
        if isinstance(args, self.input_model):
            return args
        if isinstance(args, BaseModel):
            args = args.model_dump()
        return self.input_model.model_validate(args)

    def call(self, args: Mapping[str, Any] | BaseModel, ctx: ActorContext) -> BaseModel:
        """Validate the input, run the function, and insist on the declared output type."""
        inp = self.parse_input(args)
        out = self.fn(inp, ctx) if self.takes_context else self.fn(inp)
        if not isinstance(out, self.output_model):
            raise TypeError(
                f"actor {self.name!r} returned {type(out).__name__}, "
                f"not its declared output {self.output_model.__name__}"
            )
        return out

    def compensation_input(self, compensation: Actor, inp: BaseModel, out: BaseModel) -> BaseModel:
        """The compensation's input: from `compensate_args`, else matching field names.

        Without a mapper, fields are taken from the original input, overridden by the output.
        """
        if self.compensate_args is not None:
            return compensation.parse_input(self.compensate_args(inp, out))
        merged = {**inp.model_dump(), **out.model_dump()}
        wanted = compensation.input_model.model_fields
        return compensation.parse_input({k: v for k, v in merged.items() if k in wanted})


def _first_line(doc: str | None) -> str:
    return inspect.cleandoc(doc).split("\n", 1)[0] if doc else ""


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _signature(fn: Callable[..., Any], name: str) -> tuple[type[BaseModel], type[BaseModel], bool]:
    where = f"actor {name!r} ({getattr(fn, '__module__', '?')}.{fn.__qualname__})"
    try:
        hints = typing.get_type_hints(fn)
    except Exception as e:  # unresolved forward references and the like
        raise CatalogError(f"{where}: cannot resolve its type hints: {e}") from None
    params = list(inspect.signature(fn).parameters.values())
    if not params or len(params) > 2:
        raise CatalogError(
            f"{where}: takes {len(params)} parameters",
            hint="an actor takes (input: InputModel) or (input: InputModel, ctx: ActorContext)",
        )
    inp = hints.get(params[0].name)
    out = hints.get("return")
    if not _is_model(inp):
        raise CatalogError(
            f"{where}: its first parameter is not annotated with a pydantic model",
            hint="declare `def f(args: MyInput, ctx: ActorContext) -> MyOutput`",
        )
    if not _is_model(out):
        raise CatalogError(
            f"{where}: its return annotation is not a pydantic model",
            hint="return an instance of a pydantic BaseModel subclass",
        )
    return inp, out, len(params) == 2  # type: ignore[return-value]


def actor(
    *,
    name: str,
    effect: Effect,
    idempotent: bool | None = None,
    compensate: str | None = None,
    compensate_args: CompensateArgs | None = None,
    irreversible: bool = False,
    check: Callable[..., Any] | None = None,
    timeout_s: float | None = None,
    retry: RetryPolicy | int | None = None,
    tags: tuple[str, ...] | list[str] = (),
) -> Callable[[F], F]:
    """Declare a function as an actor. The function is returned unchanged, so tests call it.

    Read actors are idempotent unless told otherwise; write actors are not. A write actor
    must name its `compensate` actor or say `irreversible=True`: the catalog checks that.
    """
    if effect not in ("read", "write"):
        raise CatalogError(f"actor {name!r}: effect must be 'read' or 'write', not {effect!r}")
    policy = RetryPolicy(attempts=retry) if isinstance(retry, int) else retry

    def register(fn: F) -> F:
        inp, out, takes_ctx = _signature(fn, name)
        spec = Actor(
            name=name,
            fn=fn,
            input_model=inp,
            output_model=out,
            effect=effect,
            idempotent=(effect == "read") if idempotent is None else idempotent,
            irreversible=irreversible,
            compensate=compensate,
            compensate_args=compensate_args,
            check=check,
            timeout_s=timeout_s,
            retry=policy,
            tags=tuple(tags),
            description=_first_line(fn.__doc__),
            module=getattr(fn, "__module__", ""),
            takes_context=takes_ctx,
        )
        setattr(fn, _ATTR, spec)
        return fn

    return register


def actor_of(obj: Any) -> Actor | None:
    """The Actor behind a decorated function (or the Actor itself), else None."""
    if isinstance(obj, Actor):
        return obj
    spec = getattr(obj, _ATTR, None)
    return spec if isinstance(spec, Actor) else None
