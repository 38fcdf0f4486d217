"""`@llm_skill`: an actor whose output a model writes, under its output's JSON schema.

The decorated function gathers what the prompt needs (deterministically, from its input and
its context's resources) and returns it as a mapping; the skill fills its prompt template
with it, asks the model the run was given (the resource "llm", any object with the planner
backends' `complete`), and parses the answer into its output model. The call's prompt,
model, parameters and raw output go to the engine's journal (`step.llm_call`), so an audit shows
them, and replay and resume use the step's recorded output: the model is never asked again
for a step that has finished.

A skill is marked probabilistic (`Actor.probabilistic`) in the catalog, in `planactor
actors` and in audits. The catalog holds it to the rules of any actor (a write skill names
its compensation or is irreversible); validation refuses a write skill unless the policy
opts in by name (`llm_skills: {allow_writes: [NAME]}`).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ValidationError

from planactor._errors import ActorError, CatalogError, PlanactorError
from planactor.catalog._actor import (
    _ATTR,
    Actor,
    ActorContext,
    CompensateArgs,
    Effect,
    LLMSkill,
    _first_line,
    _is_model,
)
from planactor.plan import RetryPolicy

__all__ = ["LLM_RESOURCE", "LLMClient", "llm_skill"]

F = TypeVar("F", bound=Callable[..., Any])
LLM_RESOURCE = "llm"
_LLM_HINT = (
    "give the run a model: Engine(resources={'llm': planactor.planner.get_backend('local')}),"
    " or --planner on the command line"
)


class _Answer(Protocol):
    text: str
    backend: str
    model: str
    tokens_in: int
    tokens_out: int


@runtime_checkable
class LLMClient(Protocol):
    """What a skill needs of a model: the planner backends' `complete` (planactor.planner)."""

    name: str
    model: str

    def complete(
        self,
        messages: Sequence[dict[str, str]],
        *,
        schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        timeout_s: float = 120.0,
    ) -> _Answer: ...


def _input_model(fn: Callable[..., Any], name: str) -> type[BaseModel]:
    where = f"LLM skill {name!r} ({getattr(fn, '__module__', '?')}.{fn.__qualname__})"
    try:
        hints = typing.get_type_hints(fn)
    except Exception as e:  # unresolved forward references and the like
        raise CatalogError(f"{where}: cannot resolve its type hints: {e}") from None
    params = list(inspect.signature(fn).parameters.values())
    if len(params) != 2 or not _is_model(hints.get(params[0].name)):
        raise CatalogError(
            f"{where}: takes {len(params)} parameters",
            hint="an LLM skill is `def f(args: MyInput, ctx: ActorContext) -> dict` returning "
            "the prompt's variables",
        )
    model: type[BaseModel] = hints[params[0].name]
    return model


def llm_skill(
    *,
    name: str,
    effect: Effect,
    prompt: str,
    output: type[BaseModel],
    max_tokens: int = 256,
    compensate: str | None = None,
    compensate_args: CompensateArgs | None = None,
    irreversible: bool = False,
    timeout_s: float | None = None,
    tags: tuple[str, ...] | list[str] = (),
) -> Callable[[F], F]:
    """Declare an actor implemented by a model call; the function is returned unchanged.

    `prompt` is a `str.format` template filled with the mapping the function returns;
    `output` is the model the answer must parse into (its JSON schema constrains the model).
    """
    if effect not in ("read", "write"):
        raise CatalogError(f"LLM skill {name!r}: effect must be 'read' or 'write', not {effect!r}")
    if not _is_model(output):
        raise CatalogError(f"LLM skill {name!r}: output must be a pydantic model class")
    skill = LLMSkill(prompt=prompt, max_tokens=max_tokens)
    schema = output.model_json_schema()

    def register(fn: F) -> F:
        inp = _input_model(fn, name)

        def call(args: BaseModel, ctx: ActorContext) -> BaseModel:
            variables = fn(args, ctx)
            try:
                text = prompt.format_map(variables)
            except (KeyError, IndexError, ValueError) as e:
                raise ActorError(
                    f"LLM skill {name!r}: its prompt needs {e} the skill did not provide",
                    retryable=False,
                ) from None
            client = ctx.resource(LLM_RESOURCE, LLMClient, hint=_LLM_HINT)  # type: ignore[type-abstract]
            messages = [
                {"role": "system", "content": skill.system},
                {"role": "user", "content": text},
            ]
            try:
                answer = client.complete(messages, schema=schema, max_tokens=skill.max_tokens)
            except PlanactorError as e:  # BackendError, or a configuration InputError
                raise ActorError(
                    f"LLM skill {name!r}: {e.message}",
                    hint=e.hint,
                    retryable=bool(getattr(e, "retryable", False)),
                ) from None
            if ctx.llm_log is not None:
                ctx.llm_log(
                    ctx,
                    {
                        "skill": name,
                        "backend": answer.backend,
                        "model": answer.model,
                        "prompt": text,
                        "parameters": {
                            "max_tokens": skill.max_tokens,
                            "temperature": skill.temperature,
                            "system": skill.system,
                        },
                        "raw": answer.text,
                        "tokens_in": answer.tokens_in,
                        "tokens_out": answer.tokens_out,
                    },
                )
            try:
                return output.model_validate_json(answer.text)
            except ValidationError as e:
                first = e.errors(include_url=False)[0]
                raise ActorError(
                    f"LLM skill {name!r}: the model's answer is not a {output.__name__}: "
                    f"{'.'.join(map(str, first['loc'])) or 'answer'}: {first['msg']}",
                    hint="a larger model, or a prompt that asks for less",
                    retryable=False,
                ) from None

        spec = Actor(
            name=name,
            fn=call,
            input_model=inp,
            output_model=output,
            effect=effect,
            idempotent=effect == "read",
            irreversible=irreversible,
            compensate=compensate,
            compensate_args=compensate_args,
            timeout_s=timeout_s,
            retry=RetryPolicy(attempts=1),
            tags=(*tags, "llm"),
            description=_first_line(fn.__doc__),
            module=getattr(fn, "__module__", ""),
            takes_context=True,
            llm=skill,
        )
        setattr(fn, _ATTR, spec)
        return fn

    return register
