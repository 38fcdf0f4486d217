"""The catalog: every actor a plan may call, from the built-in packs and third-party packs."""

from __future__ import annotations

import difflib
import importlib
import importlib.resources
import os
import re
import threading
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from planactor._errors import CatalogError, InputError, UnknownActor
from planactor.catalog._actor import Actor, actor_of
from planactor.catalog._routine import Routine, parse_routine
from planactor.plan import ACTOR_NAME_PATTERN, content_hash

if TYPE_CHECKING:
    from planactor.catalog._pack import LoadedPack

__all__ = ["BUILTIN_PACKS", "ENTRY_POINT_GROUP", "PACKS_ENV", "Catalog", "pack_folders"]

ENTRY_POINT_GROUP = "planactor.actors"
# Folders of declarative packs (pack.yaml), separated by os.pathsep; `--pack DIR` adds one.
PACKS_ENV = "PLANACTOR_PACKS"
BUILTIN_PACKS: dict[str, str] = {
    "core": "planactor.actors.core",
    "graph": "planactor.actors.graph",
    "network": "planactor.actors.network",
    "storage": "planactor.actors.storage",
}
_NAME = re.compile(ACTOR_NAME_PATTERN)
# planactor.catalog._pack.PACK_FILE: the pack loader and its schema models are imported
# only when a pack has one, not by every command that loads the catalog.
_PACK_FILE = "pack.yaml"


class Catalog:
    """A checked, immutable-after-load set of actors, looked up by dotted name.

    Loading refuses (CatalogError, naming the actor and its pack) any actor that breaks
    the rules: a malformed or duplicate name, a write actor with neither a compensation
    nor `irreversible=True`, a compensation that does not exist or cannot be fed.
    """

    def __init__(self, actors: Iterable[Any] = (), *, pack: str = "local") -> None:
        self._actors: dict[str, Actor] = {}
        self._packs: dict[str, str] = {}
        self._routines: dict[str, Routine] = {}
        self._routine_packs: dict[str, str] = {}
        # The built-in packs' routine files, parsed on first use of the routines:
        # (pack, package, file name). Checking a plan needs no routine.
        self._shipped: list[tuple[str, str, str]] = []
        self._lock = threading.RLock()
        for obj in actors:
            self._add(obj, pack)
        self._check_links()

    # -- loading ------------------------------------------------------------------------

    @classmethod
    def discover(
        cls,
        *,
        builtins: bool = True,
        entry_point_group: str | None = None,
        packs: Iterable[str | os.PathLike[str]] | None = None,
    ) -> Catalog:
        """The built-in packs, every pack registered under the `planactor.actors` group, and
        the declarative packs in `packs` (default: the folders PLANACTOR_PACKS names).

        Every pack's actors and routines are checked here, except the built-in packs'
        routines: planactor's own files, parsed and checked on first use of the routines
        (checking a plan needs none), or as soon as another pack adds one.
        """
        catalog = cls()
        if builtins:
            for pack, module in BUILTIN_PACKS.items():
                catalog._add_module(importlib.import_module(module), pack, shipped=True)
        for ep in entry_points(group=entry_point_group or ENTRY_POINT_GROUP):
            if ep.value in BUILTIN_PACKS.values():
                continue
            try:
                loaded = ep.load()
            except Exception as e:  # a broken third-party pack: name it, do not crash
                raise CatalogError(
                    f"actor pack {ep.name!r} ({ep.value}) failed to import: "
                    f"{type(e).__name__}: {e}",
                    hint="fix or uninstall that package",
                ) from None
            if isinstance(loaded, ModuleType):
                catalog._add_module(loaded, ep.name)
            elif isinstance(loaded, list | tuple):
                for obj in loaded:
                    catalog._add(obj, ep.name)
            else:
                raise CatalogError(
                    f"actor pack {ep.name!r} ({ep.value}) is neither a module nor a list of actors"
                )
        for folder in pack_folders(packs):
            from planactor.catalog._pack import load_pack

            catalog.add_pack(load_pack(folder))
        catalog._check_links()
        catalog._check_routines()
        return catalog

    def _add_module(self, module: ModuleType, pack: str, *, shipped: bool = False) -> None:
        # Only actors defined in the pack itself: a pack importing another's actor must
        # not register it twice.
        own = module.__name__
        for value in list(vars(module).values()):
            spec = actor_of(value)
            # The pack's module or one of its own private submodules (a package pack).
            if spec is not None and (spec.module == own or spec.module.startswith(own + ".")):
                self._add(spec, pack)
        # A pack that is a package ships its routines as `routines/*.yaml` beside it, and
        # may declare actors in a `pack.yaml` there too.
        if hasattr(module, "__path__"):
            declared = importlib.resources.files(module.__name__).joinpath(_PACK_FILE)
            if declared.is_file():
                from planactor.catalog._pack import load_pack

                self.add_pack(load_pack(Path(str(declared)).parent), pack=pack)
                return  # load_pack read its routines
            folder = importlib.resources.files(module.__name__).joinpath("routines")
            if folder.is_dir():
                for entry in sorted(folder.iterdir(), key=lambda e: e.name):
                    if not entry.name.endswith((".yaml", ".yml")):
                        continue
                    if shipped:  # planactor's own, tested files: parsed on first use
                        self._shipped.append((pack, module.__name__, entry.name))
                    else:
                        self.add_routine(_read_routine(module.__name__, entry.name), pack=pack)

    def _load_shipped(self) -> None:
        """Parse and check the built-in packs' routines, once, before any routine is used
        or added (a problem is the CatalogError loading used to raise, at each use)."""
        if not self._shipped:
            return
        with self._lock:
            if not self._shipped:  # another thread loaded them meanwhile
                return
            before = dict(self._routines), dict(self._routine_packs)
            try:
                for pack, package, name in self._shipped:
                    self._register(_read_routine(package, name), pack)
                self._check_routines()
            except BaseException:  # all or nothing: the next use reports the same problem
                self._routines, self._routine_packs = before
                raise
            self._shipped = []

    def add_pack(self, loaded: LoadedPack, *, pack: str | None = None) -> None:
        """Register a declarative pack's actors and routines (links checked once complete)."""
        name = pack or loaded.name
        for spec in loaded.actors:
            self._add(spec, name)
        for routine in loaded.routines:
            self.add_routine(routine, pack=name)

    def add_routine(self, routine: Routine, *, pack: str = "local") -> None:
        """Register a routine; its actors are checked once the catalog is complete."""
        self._load_shipped()  # the built-in routines first, as their names come first
        self._register(routine, pack)

    def _register(self, routine: Routine, pack: str) -> None:
        if routine.name in self._routines:
            raise CatalogError(
                f"routine {routine.name!r} (pack {pack!r}): name already registered by "
                f"pack {self._routine_packs[routine.name]!r}"
            )
        self._routines[routine.name] = routine
        self._routine_packs[routine.name] = pack

    def _check_routines(self) -> None:
        for r in self._routines.values():
            missing = sorted(a for a in r.actors() if a not in self._actors)
            if missing:
                raise CatalogError(
                    f"routine {r.name!r} (pack {self._routine_packs[r.name]!r}) calls "
                    f"actors that are not in the catalog: {', '.join(missing)}"
                )

    @property
    def routines(self) -> dict[str, Routine]:
        """Every routine, by name, sorted."""
        self._load_shipped()
        return dict(sorted(self._routines.items()))

    def routine(self, name: str) -> Routine:
        self._load_shipped()
        try:
            return self._routines[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._routines), n=3)
            raise InputError(
                f"unknown routine {name!r}",
                hint=f"did you mean {', '.join(map(repr, close))}?"
                if close
                else "`planactor routines` lists them",
            ) from None

    def _add(self, obj: Any, pack: str) -> None:
        spec = actor_of(obj)
        if spec is None:
            raise CatalogError(
                f"pack {pack!r}: {obj!r} is not an actor", hint="decorate it with @actor(...)"
            )
        where = f"actor {spec.name!r} (pack {pack!r}, {spec.module})"
        if not _NAME.match(spec.name):
            raise CatalogError(f"{where}: name must be dotted lower-case, like 'storage.fail_over'")
        if spec.name in self._actors:
            raise CatalogError(
                f"{where}: name already registered by pack {self._packs[spec.name]!r}",
                hint="actor names are global: prefix them with the pack's domain",
            )
        if spec.effect == "write" and not spec.compensate and not spec.irreversible:
            raise CatalogError(
                f"{where}: a write actor must declare compensate='ACTOR' or irreversible=True",
                hint="name the actor that undoes it, or mark it irreversible so reviewers see it",
            )
        if spec.effect == "read" and (spec.compensate or spec.irreversible):
            raise CatalogError(f"{where}: a read actor cannot be irreversible or compensated")
        if spec.irreversible and spec.compensate:
            raise CatalogError(f"{where}: irreversible=True and compensate= contradict each other")
        self._actors[spec.name] = spec
        self._packs[spec.name] = pack

    def _check_links(self) -> None:
        for spec in self._actors.values():
            if not spec.compensate:
                continue
            where = f"actor {spec.name!r} (pack {self._packs[spec.name]!r})"
            comp = self._actors.get(spec.compensate)
            if comp is None:
                raise CatalogError(
                    f"{where}: its compensation {spec.compensate!r} is not in the catalog",
                    hint=self._did_you_mean(spec.compensate),
                )
            if spec.compensate_args is None:
                available = set(spec.input_model.model_fields) | set(spec.output_model.model_fields)
                missing = sorted(
                    n
                    for n, f in comp.input_model.model_fields.items()
                    if f.is_required() and n not in available
                )
                if missing:
                    raise CatalogError(
                        f"{where}: compensation {comp.name!r} needs {', '.join(missing)}, "
                        "which neither its input nor its output provides",
                        hint="pass compensate_args=lambda inp, out: {...}",
                    )

    # -- lookup -------------------------------------------------------------------------

    def get(self, name: str) -> Actor:
        try:
            return self._actors[name]
        except KeyError:
            raise UnknownActor(name, suggestions=self.suggest(name)) from None

    def suggest(self, name: str, n: int = 3) -> tuple[str, ...]:
        """The closest actor names, for did-you-mean messages."""
        names = list(self._actors)
        close = difflib.get_close_matches(name, names, n=n, cutoff=0.6)
        if not close and "." in name:
            # `storage.failover` vs `storage.fail_over`: compare the last segment too.
            tail = name.rsplit(".", 1)[1]
            tails: dict[str, list[str]] = {}
            for a in names:  # several packs may share a last segment: keep them all
                tails.setdefault(a.rsplit(".", 1)[1], []).append(a)
            matches = difflib.get_close_matches(tail, list(tails), n=n)
            close = [a for t in matches for a in tails[t]][:n]
        return tuple(close)

    def _did_you_mean(self, name: str) -> str | None:
        close = self.suggest(name)
        return f"did you mean {', '.join(repr(c) for c in close)}?" if close else None

    def pack_of(self, name: str) -> str:
        return self._packs[name]

    def __contains__(self, name: object) -> bool:
        return name in self._actors

    def __iter__(self) -> Iterator[Actor]:
        return iter(sorted(self._actors.values(), key=lambda a: a.name))

    def __len__(self) -> int:
        return len(self._actors)

    @property
    def fingerprint(self) -> str:
        """Hash of every actor's name, metadata and schemas: changes when the catalog does."""
        return content_hash(
            [
                {
                    "name": a.name,
                    "effect": a.effect,
                    "idempotent": a.idempotent,
                    "irreversible": a.irreversible,
                    "compensate": a.compensate,
                    "input": a.input_schema,
                    "output": a.output_schema,
                    # Only when set, so the fingerprints of catalogs without skills stay.
                    **({"probabilistic": True} if a.probabilistic else {}),
                }
                for a in self
            ]
        )


def _read_routine(package: str, name: str) -> Routine:
    """A routine file shipped in a Python pack's `routines/` folder."""
    text = importlib.resources.files(package).joinpath("routines").joinpath(name).read_text("utf-8")
    return parse_routine(text, source=f"{package}/routines/{name}", packaged=True)


def pack_folders(packs: Iterable[str | os.PathLike[str]] | None = None) -> list[Path]:
    """The declarative pack folders to load: `packs`, else PLANACTOR_PACKS; each once."""
    if packs is None:
        packs = [p for p in os.environ.get(PACKS_ENV, "").split(os.pathsep) if p.strip()]
    seen: dict[Path, None] = {}
    for p in packs:
        seen.setdefault(Path(p).expanduser().resolve(), None)
    return list(seen)
