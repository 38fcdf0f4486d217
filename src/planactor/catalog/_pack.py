"""Declarative packs: read a folder's `pack.yaml`, check it, and build its actors.

The inputs and outputs are JSON Schema (or a short field list turned into one); each becomes
a pydantic model whose fields validate against their part of the schema with `jsonschema`,
so the validator type-checks a plan's arguments exactly as for a Python actor, and the
model reports the declared schema as its own. The implementation kinds live above the
catalog (`planactor.actors.kinds`); they are imported by name, as the built-in packs are.

Every mistake is a CatalogError naming the file, the JSON path and a hint: a broken
declarative pack stops the catalog as a broken Python pack does.
"""

from __future__ import annotations

import copy
import importlib
import keyword
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from planactor._errors import CatalogError
from planactor._reader import load_yaml, read_text
from planactor.catalog._actor import Actor
from planactor.catalog._pack_schema import (
    CONTEXT_VALUES,
    RESERVED_OUTPUT,
    ActorDecl,
    AnsibleSpec,
    CommandSpec,
    HttpSpec,
    PackDoc,
    placeholders,
)
from planactor.catalog._routine import Routine, parse_routine
from planactor.plan import RetryPolicy, format_location

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = [
    "KINDS_MODULE",
    "PACK_FILE",
    "PACK_MAX_BYTES",
    "DeclaredModel",
    "LoadedPack",
    "declared_values",
    "inside",
    "load_pack",
    "model_from_schema",
]

PACK_FILE = "pack.yaml"
PACK_MAX_BYTES = 1 << 20
# Above the catalog in the layers: imported by name, like the built-in packs.
KINDS_MODULE = "planactor.actors.kinds"
_HINT = "see docs/packs.md for the pack.yaml format"
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TYPE_WORDS = {
    "string": "string",
    "str": "string",
    "integer": "integer",
    "int": "integer",
    "number": "number",
    "float": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "object": "object",
    "array": "array",
    "list": "array",
}


@dataclass(frozen=True, slots=True)
class LoadedPack:
    """A checked declarative pack: its name, folder, actors and routines."""

    name: str
    folder: Path
    source: Path
    actors: tuple[Actor, ...]
    routines: tuple[Routine, ...]


class DeclaredModel(BaseModel):
    """Base of the models built from declared schemas: reports the declared schema, and
    checks the rules about the whole object (dependentRequired, oneOf...) once each field
    has passed its own part."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    declared_schema: ClassVar[dict[str, Any]] = {}
    whole_validator: ClassVar[Draft202012Validator | None] = None

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # noqa: ARG003
        # The declared schema as written, for the validator, the planner and `actors show`.
        return copy.deepcopy(cls.declared_schema)

    @model_validator(mode="after")
    def _whole(self) -> DeclaredModel:
        validator = type(self).whole_validator
        if validator is not None:
            for e in validator.iter_errors(declared_values(self)):
                if not e.absolute_path:  # a field's own problem was reported by the field
                    raise ValueError(e.message)
        return self


def declared_values(model: BaseModel) -> dict[str, Any]:
    """The values given, plus the declared defaults; not the None of an absent optional."""
    values = model.model_dump(mode="json")
    given = model.model_fields_set
    fields = type(model).model_fields
    return {
        name: value
        for name, value in values.items()
        if name in given or name not in fields or fields[name].default is not None
    }


def _schema_checker(schema: Any, defs: Any) -> Callable[[Any], Any]:
    from jsonschema import Draft202012Validator

    full = {**schema, "$defs": defs} if defs and isinstance(schema, dict) else schema
    validator = Draft202012Validator(full)

    def check(value: Any) -> Any:
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        if errors:
            e = errors[0]
            at = format_location(tuple(e.absolute_path)) if e.absolute_path else ""
            message = f"{at}: {e.message}" if at else e.message
            raise PydanticCustomError("json_schema", "{message}", {"message": message})
        return value

    return check


def model_from_schema(name: str, schema: dict[str, Any], *, refuse_extra: bool) -> type[BaseModel]:
    """A pydantic model for an object schema; each field checked by its JSON Schema part.

    `refuse_extra`: unknown fields are refused (inputs), else dropped (outputs); a schema that
    allows additional properties explicitly keeps them.
    """
    # Imported here: only a catalog with declarative packs pays for jsonschema (~50 ms).
    from jsonschema import Draft202012Validator

    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    defs = schema.get("$defs")
    fields: dict[str, Any] = {}
    for field, sub in props.items():
        tp = Annotated[Any, AfterValidator(_schema_checker(sub, defs))]
        default = copy.deepcopy(sub.get("default")) if isinstance(sub, dict) else None
        fields[field] = (tp, ...) if field in required else (tp, default)
    extra: Literal["allow", "forbid", "ignore"] = "forbid" if refuse_extra else "ignore"
    if schema.get("additionalProperties") is True:
        extra = "allow"

    class Base(DeclaredModel):
        model_config = ConfigDict(extra=extra, frozen=True)

    model = create_model(name, __base__=Base, **fields)
    model.declared_schema = schema
    model.whole_validator = Draft202012Validator(schema)
    return model


def inside(folder: Path, relative: str, *, what: str) -> Path:
    """`relative` resolved inside `folder` (symlinks followed); ValueError if it leaves it."""
    if Path(relative).is_absolute():
        raise ValueError(f"the {what} {relative!r} is absolute: give a path inside the pack folder")
    target = (folder / relative).resolve()
    if not target.is_relative_to(folder.resolve()):
        raise ValueError(f"the {what} {relative!r} is outside the pack folder {folder}")
    return target


class _Problem(Exception):
    """A mistake at a JSON path of pack.yaml; becomes a CatalogError naming the file."""

    def __init__(self, loc: tuple[str | int, ...], message: str, hint: str = _HINT) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message
        self.hint = hint


def _field_names(schema: Mapping[str, Any], loc: tuple[str | int, ...]) -> None:
    for name in schema.get("properties", {}):
        if (
            not _FIELD_NAME.match(name)
            or keyword.iskeyword(name)
            or name.startswith("model_")
            or hasattr(BaseModel, name)
        ):
            raise _Problem(
                (*loc, "properties", name),
                f"{name!r} cannot be a field name",
                "use letters, digits and _ (not a Python keyword, not model_*, "
                "not a pydantic method name such as json or copy)",
            )


def _fields_schema(fields: Mapping[str, Any], loc: tuple[str | int, ...]) -> dict[str, Any]:
    """A short field list (`name: string`, `count: integer?`, `mode: {enum: [a, b]}`) as
    JSON Schema; `?` or a default makes a field optional."""
    props: dict[str, Any] = {}
    required: list[str] = []
    for name, value in fields.items():
        if isinstance(value, str):
            word = value.strip()
            optional = word.endswith("?")
            word = word.rstrip("?").strip()
            if word not in _TYPE_WORDS:
                raise _Problem(
                    (*loc, name),
                    f"unknown type {value!r}",
                    "one of string, integer, number, boolean, object, array (add ? if optional),"
                    " or a JSON Schema mapping",
                )
            sub: dict[str, Any] = {"type": _TYPE_WORDS[word]}
        else:
            sub = dict(value)
            optional = bool(sub.pop("optional", False)) or "default" in sub
        props[name] = sub
        if not optional:
            required.append(name)
    return {
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


def _object_schema(decl: ActorDecl, which: str, loc: tuple[str | int, ...]) -> dict[str, Any]:
    fields = getattr(decl, which)
    given = getattr(decl, f"{which}_schema")
    if fields is not None:
        schema = _fields_schema(fields, (*loc, which))
        where: tuple[str | int, ...] = (*loc, which)
    elif given is not None:
        schema, where = copy.deepcopy(given), (*loc, f"{which}_schema")
    else:
        schema = {"type": "object", "properties": {}, "additionalProperties": False}
        where = loc
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as e:
        raise _Problem(
            (*where, *e.absolute_path), f"not a valid JSON Schema: {e.message}"
        ) from None
    if schema.get("type") != "object":
        raise _Problem(where, "the schema must describe an object (type: object)")
    _field_names(schema, where)
    return schema


def _output_schema(decl: ActorDecl, loc: tuple[str | int, ...]) -> dict[str, Any]:
    declared = _object_schema(decl, "output", loc)
    reserved = RESERVED_OUTPUT[decl.kind]
    clash = sorted(set(declared.get("properties", {})) & set(reserved))
    if clash:
        raise _Problem(
            (*loc, "output"),
            f"the {decl.kind} kind sets {', '.join(clash)} itself",
            "rename the declared field(s)",
        )
    always = [n for n in reserved if not (decl.kind == "command" and n == "stdout")]
    return {
        **declared,
        "properties": {**copy.deepcopy(reserved), **declared.get("properties", {})},
        "required": [*always, *declared.get("required", [])],
    }


def _check_templates(
    templates: Iterator[tuple[tuple[str | int, ...], str]],
    *,
    inputs: Mapping[str, Any],
    secrets: Mapping[str, Any] | None,
) -> None:
    props = inputs.get("properties", {})
    required = set(inputs.get("required", []))
    for loc, text in templates:
        try:
            found = placeholders(text)
        except ValueError as e:
            raise _Problem(loc, str(e)) from None
        for namespace, name in found:
            if namespace == "planactor":
                if name not in CONTEXT_VALUES:
                    raise _Problem(
                        loc, f"no {{planactor.{name}}}: one of {', '.join(CONTEXT_VALUES)}"
                    )
            elif namespace == "secret":
                if secrets is None:
                    raise _Problem(
                        loc,
                        f"a secret ({{secret.{name}}}) cannot be used here",
                        "secrets may go in HTTP headers and bodies only (never in a URL or "
                        "argv, which logs and process lists show); a command takes them as env",
                    )
                if name not in secrets:
                    raise _Problem(
                        loc, f"no secret {name!r} is declared", "declare it under secrets:"
                    )
            elif name not in props:
                raise _Problem(
                    loc,
                    f"{{{name}}} is not an input field",
                    f"inputs: {', '.join(props) or 'none'}",
                )
            elif name not in required and not (
                isinstance(props[name], dict) and "default" in props[name]
            ):
                raise _Problem(
                    loc,
                    f"{{{name}}} names an optional field without a default",
                    "make it required or give it a default, so the template always fills",
                )


def _strings(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, (*loc, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*loc, i))


def _check_kind(
    decl: ActorDecl, folder: Path, loc: tuple[str | int, ...], inputs: dict[str, Any]
) -> None:
    spec = decl.spec
    here: tuple[str | int, ...] = (*loc, decl.kind)
    try:
        if isinstance(spec, AnsibleSpec):
            book = inside(folder, spec.playbook, what="playbook")
            if not book.is_file():
                raise _Problem((*here, "playbook"), f"no playbook {spec.playbook!r} in {folder}")
            if (
                spec.inventory.endswith((".ini", ".yml", ".yaml", ".cfg"))
                and "\n" not in spec.inventory
            ) and not inside(folder, spec.inventory, what="inventory").is_file():
                raise _Problem((*here, "inventory"), f"no inventory file {spec.inventory!r}")
            clash = [n for n in inputs.get("properties", {}) if n.startswith("planactor_")]
            if clash:
                raise _Problem(
                    (*loc, "input"), f"{clash[0]!r}: planactor_* extra vars are planactor's"
                )
        elif isinstance(spec, HttpSpec):
            urls = [((*here, "path"), spec.path)] + [
                ((*here, "query", k), v) for k, v in spec.query.items()
            ]
            _check_templates(iter(urls), inputs=inputs, secrets=None)
            rest = [
                *_strings(spec.headers, (*here, "headers")),
                *_strings(spec.body, (*here, "body")),
            ]
            _check_templates(iter(rest), inputs=inputs, secrets=spec.secrets)
            if spec.check is not None:
                c = spec.check
                _check_templates(
                    iter(
                        [
                            ((*here, "check", "path"), c.path),
                            *_strings(c.query, (*here, "check", "query")),
                        ]
                    ),
                    inputs=inputs,
                    secrets=None,
                )
                _check_templates(
                    iter(
                        [
                            *_strings(c.headers, (*here, "check", "headers")),
                            *_strings(c.body, (*here, "check", "body")),
                        ]
                    ),
                    inputs=inputs,
                    secrets=spec.secrets,
                )
        elif isinstance(spec, CommandSpec):
            for key in ("argv", "check_argv"):
                argv = getattr(spec, key)
                if argv is None:
                    continue
                program = argv[0]
                if "{" in program.replace("{{", "").replace("}}", ""):
                    raise _Problem(
                        (*here, key, 0), "the program cannot be a template", "name it literally"
                    )
                if "/" in program and not inside(folder, program, what="program").is_file():
                    raise _Problem((*here, key, 0), f"no program {program!r} in {folder}")
                _check_templates(_strings(argv, (*here, key)), inputs=inputs, secrets=None)
            if not inside(folder, spec.cwd, what="working directory").is_dir():
                raise _Problem((*here, "cwd"), f"no folder {spec.cwd!r} in {folder}")
    except ValueError as e:
        raise _Problem(
            here, str(e), "keep playbooks, programs and folders inside the pack folder"
        ) from None


def _compensate_args(
    decl: ActorDecl, inputs: dict[str, Any], outputs: dict[str, Any], loc: tuple[str | int, ...]
) -> Callable[[Any, Any], Mapping[str, Any]] | None:
    mapping = decl.compensate_args
    if mapping is None:
        return None
    sources: dict[str, tuple[str, str]] = {}
    for name, path in mapping.items():
        side, _, field = path.partition(".")
        schema = inputs if side == "input" else outputs if side == "output" else None
        if schema is None or field not in schema.get("properties", {}):
            raise _Problem(
                (*loc, "compensate_args", name),
                f"{path!r} names no input or output field",
                "write input.FIELD or output.FIELD",
            )
        sources[name] = (side, field)

    def build(inp: BaseModel, out: BaseModel) -> Mapping[str, Any]:
        values = {"input": inp.model_dump(mode="json"), "output": out.model_dump(mode="json")}
        return {name: values[side].get(field) for name, (side, field) in sources.items()}

    return build


def _actor(decl: ActorDecl, folder: Path, source: Path, loc: tuple[str | int, ...]) -> Actor:
    inputs = _object_schema(decl, "input", loc)
    outputs = _output_schema(decl, loc)
    _check_kind(decl, folder, loc, inputs)
    stem = "".join(p.title() for p in re.split(r"[._]", decl.name))
    input_model = model_from_schema(f"{stem}Input", inputs, refuse_extra=True)
    output_model = model_from_schema(f"{stem}Output", outputs, refuse_extra=False)
    kinds = importlib.import_module(KINDS_MODULE)
    fn, check = kinds.bind(
        decl=decl, folder=folder, input_model=input_model, output_model=output_model
    )
    retry = RetryPolicy(attempts=decl.retry) if isinstance(decl.retry, int) else decl.retry
    return Actor(
        name=decl.name,
        fn=fn,
        input_model=input_model,
        output_model=output_model,
        effect=decl.effect,
        idempotent=(decl.effect == "read") if decl.idempotent is None else decl.idempotent,
        irreversible=decl.irreversible,
        compensate=decl.compensate,
        compensate_args=_compensate_args(decl, inputs, outputs, loc),
        check=check if decl.effect == "write" else None,
        timeout_s=decl.timeout_s,
        retry=retry,
        tags=(*decl.tags, f"kind:{decl.kind}"),
        description=decl.description,
        module=f"{decl.kind}: {source}",
        takes_context=True,
    )


def load_pack(folder: str | Path) -> LoadedPack:
    """The declarative pack in `folder` (its pack.yaml and routines/*.yaml), checked."""
    folder = Path(folder).expanduser().resolve()
    source = folder / PACK_FILE
    if not folder.is_dir():
        raise CatalogError(f"{folder}: no such pack folder", hint="check --pack / PLANACTOR_PACKS")
    if not source.exists():
        raise CatalogError(f"{folder}: no {PACK_FILE} in this folder", hint=_HINT)
    try:
        text = read_text(source, what="pack file", max_bytes=PACK_MAX_BYTES)
    except CatalogError:
        raise
    except Exception as e:  # the reader's InputError: a FIFO, too large, not UTF-8...
        raise CatalogError(str(e), hint=getattr(e, "hint", None)) from None
    data = load_yaml(text, source=str(source), what="pack file", error=CatalogError)
    if not isinstance(data, dict):
        raise CatalogError(f"{source}: a pack file is a YAML mapping (name:, actors:)", hint=_HINT)
    try:
        doc = PackDoc.model_validate(data)
    except ValidationError as e:
        lines = [
            f"{format_location(tuple(err['loc']))}: {err['msg']}"
            for err in e.errors(include_url=False)
        ]
        raise CatalogError(
            f"{source}: invalid pack:\n  " + "\n  ".join(lines), hint=_HINT
        ) from None
    actors: list[Actor] = []
    seen: set[str] = set()
    for i, decl in enumerate(doc.actors):
        loc: tuple[str | int, ...] = ("actors", i)
        try:
            if decl.name in seen:
                raise _Problem((*loc, "name"), f"actor {decl.name!r} is declared twice")
            seen.add(decl.name)
            actors.append(_actor(decl, folder, source, loc))
        except _Problem as p:
            raise CatalogError(
                f"{source}: {format_location(p.loc)}: {p.message}", hint=p.hint
            ) from None
    routines: list[Routine] = []
    folder_r = folder / "routines"
    if folder_r.is_dir():
        for entry in sorted(folder_r.iterdir()):
            if entry.suffix in (".yaml", ".yml"):
                routine_text = read_text(entry, what="routine", max_bytes=PACK_MAX_BYTES)
                routines.append(parse_routine(routine_text, source=str(entry)))
    return LoadedPack(
        name=doc.name, folder=folder, source=source, actors=tuple(actors), routines=tuple(routines)
    )
