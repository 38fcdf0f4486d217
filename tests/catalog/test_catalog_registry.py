"""The Catalog: the rules it enforces on actors, lookup, fingerprint, and pack discovery."""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

from planactor import Catalog, CatalogError, UnknownActor
from planactor.catalog import BUILTIN_PACKS, ENTRY_POINT_GROUP, ActorContext, actor


class VolIn(BaseModel):
    volume: str


class VolOut(BaseModel):
    volume: str


class FailOverIn(BaseModel):
    array: str
    controller: str


class FailOverOut(BaseModel):
    previous: str


class FailBackIn(BaseModel):
    array: str
    controller: str = Field(alias="previous")


class RestoreIn(BaseModel):
    array: str
    previous: str
    reason: str = "undo"


class NeedsTicketIn(BaseModel):
    array: str
    ticket: str


def make(
    name: str,
    effect: str = "read",
    *,
    inp: type[BaseModel] = VolIn,
    out: type[BaseModel] = VolOut,
    **options: Any,
) -> Callable[..., BaseModel]:
    """A fresh actor function with the given models and options."""

    def fn(args: Any, ctx: Any) -> Any:
        return out.model_construct()

    fn.__annotations__ = {"args": inp, "ctx": ActorContext, "return": out}
    return actor(name=name, effect=effect, **options)(fn)  # type: ignore[arg-type]


def restore_pair(**options: Any) -> list[Callable[..., BaseModel]]:
    """storage.fail_over, compensated by storage.restore (fed by input + output fields)."""
    return [
        make(
            "storage.fail_over",
            "write",
            inp=FailOverIn,
            out=FailOverOut,
            compensate="storage.restore",
            **options,
        ),
        make("storage.restore", "write", inp=RestoreIn, out=VolOut, irreversible=True),
    ]


# -- the rules ---------------------------------------------------------------------------


def test_write_actor_without_compensation_or_irreversible_is_refused() -> None:
    """A write actor needs a compensation or irreversible=True; the error names it and its pack."""
    with pytest.raises(CatalogError) as exc:
        Catalog([make("storage.resize", "write")], pack="acme")
    message = str(exc.value)
    assert "'storage.resize'" in message
    assert "'acme'" in message
    assert "compensate=" in message
    assert "irreversible=True" in message
    assert exc.value.hint


@pytest.mark.parametrize(
    "options",
    [{"irreversible": True}, {"compensate": "storage.undo"}],
    ids=["irreversible", "compensated"],
)
def test_read_actor_cannot_be_irreversible_or_compensated(options: dict[str, Any]) -> None:
    """A read actor marked irreversible or given a compensation is refused, naming it."""
    with pytest.raises(CatalogError, match=r"'storage\.status' \(pack 'acme'.*read actor"):
        Catalog([make("storage.status", "read", **options)], pack="acme")


def test_irreversible_and_compensate_together_are_refused() -> None:
    """irreversible=True with a compensation is a contradiction, refused naming the actor."""
    actors = [
        make("storage.wipe", "write", irreversible=True, compensate="storage.unwipe"),
        make("storage.unwipe", "write", irreversible=True),
    ]
    with pytest.raises(CatalogError, match=r"'storage\.wipe'.*contradict"):
        Catalog(actors, pack="acme")


@pytest.mark.parametrize(
    "name",
    ["Storage.FailOver", "nodots", "storage.", ".fail_over", "1storage.x", "storage.fail-over"],
)
def test_malformed_names_are_refused(name: str) -> None:
    """Names must be dotted lower-case identifiers like 'storage.fail_over'."""
    with pytest.raises(CatalogError) as exc:
        Catalog([make(name)], pack="acme")
    assert repr(name) in str(exc.value)
    assert "'acme'" in str(exc.value)
    assert "dotted lower-case" in str(exc.value)


@pytest.mark.parametrize("name", ["storage.fail_over", "a.b.c", "net2.port_9"])
def test_well_formed_names_are_accepted(name: str) -> None:
    """Dotted lower-case names, with digits and underscores, are accepted."""
    assert name in Catalog([make(name)])


def test_duplicate_names_are_refused() -> None:
    """Two actors with one name are refused, naming the name and the pack that has it."""
    with pytest.raises(CatalogError, match=r"'core\.ping'.*already registered by pack 'acme'"):
        Catalog([make("core.ping"), make("core.ping")], pack="acme")


def test_non_actor_in_a_pack_is_refused() -> None:
    """An undecorated object in a pack is refused, naming the pack."""

    def plain(args: VolIn) -> VolOut:
        return VolOut(volume=args.volume)

    with pytest.raises(CatalogError, match=r"pack 'acme'.*is not an actor"):
        Catalog([plain], pack="acme")


def test_missing_compensation_is_refused_with_did_you_mean() -> None:
    """A compensation that is not in the catalog is refused, suggesting the close name."""
    actors = [
        make("storage.fail_over", "write", compensate="storage.fail_bak"),
        make("storage.fail_back", "write", irreversible=True),
    ]
    with pytest.raises(CatalogError) as exc:
        Catalog(actors, pack="acme")
    assert "'storage.fail_over' (pack 'acme')" in str(exc.value)
    assert "'storage.fail_bak' is not in the catalog" in str(exc.value)
    assert (exc.value.hint or "").startswith("did you mean 'storage.fail_back'")


def test_compensation_needing_unavailable_fields_is_refused() -> None:
    """A compensation whose required input neither the input nor the output provides is refused."""
    actors = [
        make("storage.fail_over", "write", inp=FailOverIn, out=FailOverOut, compensate="x.undo"),
        make("x.undo", "write", inp=NeedsTicketIn, irreversible=True),
    ]
    with pytest.raises(CatalogError) as exc:
        Catalog(actors, pack="acme")
    assert "'storage.fail_over'" in str(exc.value)
    assert "'x.undo' needs ticket" in str(exc.value)
    assert "compensate_args" in (exc.value.hint or "")


def test_compensate_args_lifts_the_field_requirement() -> None:
    """With compensate_args, a compensation may need fields the original does not have."""
    actors = [
        make(
            "storage.fail_over",
            "write",
            inp=FailOverIn,
            out=FailOverOut,
            compensate="x.undo",
            compensate_args=lambda inp, out: {"array": inp.array, "ticket": "CHG-1"},
        ),
        make("x.undo", "write", inp=NeedsTicketIn, irreversible=True),
    ]
    assert "storage.fail_over" in Catalog(actors)


def test_compensation_fed_by_input_and_output_is_accepted() -> None:
    """A write actor whose compensation takes fields from its input and output is accepted."""
    catalog = Catalog(restore_pair(), pack="acme")
    original = catalog.get("storage.fail_over")
    assert original.compensate == "storage.restore"
    assert original.kind == "write"
    assert catalog.pack_of("storage.fail_over") == "acme"
    assert len(catalog) == 2
    restored = original.compensation_input(
        catalog.get("storage.restore"),
        FailOverIn(array="a1", controller="c2"),
        FailOverOut(previous="c1"),
    )
    assert restored == RestoreIn(array="a1", previous="c1")


def test_irreversible_write_actor_is_accepted() -> None:
    """A write actor marked irreversible needs no compensation."""
    catalog = Catalog([make("storage.destroy", "write", irreversible=True)])
    assert catalog.get("storage.destroy").kind == "irreversible"


def test_compensation_may_come_later_in_the_list() -> None:
    """Links are checked once all actors are in, so order in the pack does not matter."""
    assert len(Catalog(list(reversed(restore_pair())))) == 2


# -- lookup ------------------------------------------------------------------------------


def test_get_unknown_raises_with_suggestions() -> None:
    """get() of an unknown name raises UnknownActor (exit 2) with the closest names."""
    catalog = Catalog(restore_pair())
    with pytest.raises(UnknownActor) as exc:
        catalog.get("storage.failover")
    assert exc.value.name == "storage.failover"
    assert exc.value.suggestions[0] == "storage.fail_over"
    assert "did you mean 'storage.fail_over'" in (exc.value.hint or "")
    assert exc.value.exit_code == 2


def test_suggestions_fall_back_to_the_last_segment() -> None:
    """When the full names are far apart, a close last segment still gives a suggestion."""
    catalog = Catalog(
        [make("storage_array_controller.fail_over", "write", irreversible=True), make("core.echo")]
    )
    assert catalog.suggest("x.failover") == ("storage_array_controller.fail_over",)
    with pytest.raises(UnknownActor) as exc:
        catalog.get("x.failover")
    assert exc.value.suggestions == ("storage_array_controller.fail_over",)


def test_last_segment_suggestions_keep_every_pack_sharing_it() -> None:
    """Actors of different packs sharing a last segment are all suggested."""
    catalog = Catalog(
        [make("storage_array_controller.health"), make("network_fabric_switch.health")]
    )
    assert set(catalog.suggest("x.helth")) == {
        "storage_array_controller.health",
        "network_fabric_switch.health",
    }


def test_nothing_close_gives_no_suggestions() -> None:
    """A name unlike anything in the catalog has no suggestions."""
    catalog = Catalog(restore_pair())
    assert catalog.suggest("zzz.qqq") == ()
    assert catalog.suggest("nodots") == ()


def test_iteration_is_sorted_by_name() -> None:
    """Iterating a catalog yields actors sorted by name, whatever the load order."""
    names = ["zeta.last", "alpha.first", "mid.one", "alpha.b"]
    catalog = Catalog([make(n) for n in names])
    assert [a.name for a in catalog] == sorted(names)
    assert "mid.one" in catalog
    assert "mid.two" not in catalog


def test_fingerprint_is_stable() -> None:
    """The same actors give the same fingerprint, whatever the order or the instance."""
    one = Catalog([make("a.one"), make("b.two")])
    two = Catalog([make("b.two"), make("a.one")])
    assert one.fingerprint == two.fingerprint
    assert one.fingerprint.startswith("sha256:")


def test_fingerprint_changes_when_a_schema_changes() -> None:
    """Changing one actor's input schema changes the catalog's fingerprint."""

    class VolInV2(BaseModel):
        volume: str
        force: bool = False

    before = Catalog([make("a.one"), make("b.two")])
    after = Catalog([make("a.one", inp=VolInV2), make("b.two")])
    assert before.fingerprint != after.fingerprint


def test_fingerprint_changes_when_metadata_changes() -> None:
    """Changing an actor's idempotency or adding an actor changes the fingerprint."""
    base = Catalog([make("a.one")])
    assert base.fingerprint != Catalog([make("a.one", idempotent=False)]).fingerprint
    assert base.fingerprint != Catalog([make("a.one"), make("a.two")]).fingerprint


# -- discovery ---------------------------------------------------------------------------

Installer = Callable[..., None]


@pytest.fixture
def install_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installer]:
    """Install a real distribution (module + dist-info with entry points) on sys.path."""
    modules: list[str] = []

    def install(dist: str, sources: dict[str, str], entry_points: dict[str, str]) -> None:
        for module, source in sources.items():
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
            modules.append(module)
        info = tmp_path / f"{dist}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
        (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}")
        monkeypatch.syspath_prepend(str(tmp_path))
        importlib.invalidate_caches()

    yield install
    for module in modules:
        sys.modules.pop(module, None)


HELLO_PACK = """
    from pydantic import BaseModel

    from planactor.catalog import actor


    class HelloIn(BaseModel):
        name: str


    class HelloOut(BaseModel):
        greeting: str


    @actor(name="third.hello", effect="read")
    def hello(args: HelloIn) -> HelloOut:
        \"\"\"Greet someone.\"\"\"
        return HelloOut(greeting="hello " + args.name)
"""


def test_discover_loads_the_builtin_packs() -> None:
    """discover() holds core.echo, core.sleep and graph.shortest_path from their packs."""
    catalog = Catalog.discover()
    assert {"core.echo", "core.sleep", "graph.shortest_path"} <= {a.name for a in catalog}
    assert catalog.pack_of("core.echo") == "core"
    assert catalog.pack_of("core.sleep") == "core"
    assert catalog.pack_of("graph.shortest_path") == "graph"
    assert set(BUILTIN_PACKS) == {"core", "graph", "network", "storage"}


def test_discover_without_builtins_skips_them() -> None:
    """discover(builtins=False) leaves the built-in packs out."""
    assert "core.echo" not in Catalog.discover(builtins=False)


def test_discover_loads_a_third_party_pack_through_entry_points(
    install_pack: Installer,
) -> None:
    """A pack installed with a planactor.actors entry point is found and named by the entry."""
    install_pack("thirdparty_pack", {"thirdparty_pack": HELLO_PACK}, {"third": "thirdparty_pack"})
    found = [
        ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == "third"
    ]
    assert [ep.value for ep in found] == ["thirdparty_pack"]
    assert importlib.metadata.version("thirdparty_pack") == "1.0"

    catalog = Catalog.discover()
    assert "third.hello" in catalog
    assert catalog.pack_of("third.hello") == "third"
    assert {"core.echo", "core.sleep", "graph.shortest_path"} <= {a.name for a in catalog}
    hello = catalog.get("third.hello")
    assert hello.description == "Greet someone."
    ctx = ActorContext.for_step(run_id="r", step_id="s")
    assert hello.call({"name": "ops"}, ctx).model_dump() == {"greeting": "hello ops"}


def test_discover_names_a_pack_whose_import_fails(install_pack: Installer) -> None:
    """A pack that raises on import becomes a CatalogError naming the pack and the cause."""
    install_pack(
        "boom_dist",
        {"boom_pack_a": "raise RuntimeError('missing licence key')\n"},
        {"boom": "boom_pack_a"},
    )
    with pytest.raises(CatalogError) as exc:
        Catalog.discover()
    message = str(exc.value)
    assert "'boom'" in message
    assert "boom_pack_a" in message
    assert "RuntimeError: missing licence key" in message
    assert exc.value.hint
    assert exc.value.exit_code == 2


def test_discover_refuses_a_pack_that_is_neither_module_nor_list(
    install_pack: Installer,
) -> None:
    """An entry point resolving to something other than a module or a list is refused."""
    install_pack("odd_dist", {"odd_pack_b": "VALUE = 42\n"}, {"odd": "odd_pack_b:VALUE"})
    with pytest.raises(CatalogError, match=r"'odd'.*neither a module nor a list"):
        Catalog.discover()


def test_discover_accepts_a_list_of_actors(install_pack: Installer) -> None:
    """An entry point naming a list of actors registers each under the entry's name."""
    source = HELLO_PACK.replace("third.hello", "listc.hello") + "\n    ACTORS = [hello]\n"
    install_pack("listy_dist", {"list_pack_c": source}, {"listy": "list_pack_c:ACTORS"})
    catalog = Catalog.discover()
    assert catalog.pack_of("listc.hello") == "listy"


def test_discover_does_not_register_imported_actors_twice(install_pack: Installer) -> None:
    """A module pack that imports another pack's actor does not register it again."""
    base = HELLO_PACK.replace("third.hello", "basee.hello")
    reexport = """
        from base_pack_e import HelloIn, HelloOut, hello
        from planactor.actors.core import echo
        from planactor.catalog import actor


        @actor(name="reexd.hello_twice", effect="read")
        def hello_twice(args: HelloIn) -> HelloOut:
            return HelloOut(greeting=hello(args).greeting * 2)
    """
    install_pack(
        "reexport_dist",
        {"base_pack_e": base, "reexport_pack_d": reexport},
        {"reex": "reexport_pack_d", "base": "base_pack_e"},
    )
    catalog = Catalog.discover()
    assert catalog.pack_of("basee.hello") == "base"
    assert catalog.pack_of("reexd.hello_twice") == "reex"
    assert catalog.pack_of("core.echo") == "core"
    assert sum(1 for a in catalog if a.name == "basee.hello") == 1


def test_discover_refuses_a_pack_reusing_a_builtin_name(install_pack: Installer) -> None:
    """A third-party actor reusing a built-in's name is refused, naming both packs."""
    source = HELLO_PACK.replace("third.hello", "core.echo")
    install_pack("clash_dist", {"clash_pack_f": source}, {"clash": "clash_pack_f"})
    with pytest.raises(CatalogError) as exc:
        Catalog.discover()
    assert "'core.echo' (pack 'clash'" in str(exc.value)
    assert "already registered by pack 'core'" in str(exc.value)


def test_discover_checks_compensation_links(install_pack: Installer) -> None:
    """Discovery runs the link checks too: a misspelt compensation is refused."""
    source = """
        from pydantic import BaseModel

        from planactor.catalog import actor


        class VolIn(BaseModel):
            volume: str


        @actor(name="compg.create", effect="write", compensate="compg.delet")
        def create(args: VolIn) -> VolIn:
            return args


        @actor(name="compg.delete", effect="write", irreversible=True)
        def delete(args: VolIn) -> VolIn:
            return args
    """
    install_pack("comp_dist", {"comp_pack_g": source}, {"compg": "comp_pack_g"})
    with pytest.raises(CatalogError) as exc:
        Catalog.discover()
    assert "'compg.create' (pack 'compg')" in str(exc.value)
    assert (exc.value.hint or "").startswith("did you mean 'compg.delete'")
