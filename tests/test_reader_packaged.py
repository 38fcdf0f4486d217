"""planactor._reader.load_yaml(packaged=True): the routines shipped in packages are parsed by
libyaml, with the same checks, the same values and the same messages as the Python loader."""

from __future__ import annotations

import importlib.resources
import importlib.util

import pytest
import yaml

from planactor._errors import CatalogError, InputError
from planactor._reader import _NOT_LOADED, MAX_DEPTH, _load_fast, load_yaml
from planactor.catalog import BUILTIN_PACKS


def _shipped_routines() -> list[tuple[str, str]]:
    found = []
    for module in BUILTIN_PACKS.values():
        if not importlib.util.find_spec(module).submodule_search_locations:  # type: ignore[union-attr]
            continue  # a module pack: no routines folder
        folder = importlib.resources.files(module).joinpath("routines")
        if folder.is_dir():
            for entry in sorted(folder.iterdir(), key=lambda e: e.name):
                if entry.name.endswith((".yaml", ".yml")):
                    found.append((f"{module}/{entry.name}", entry.read_text("utf-8")))
    return found


SHIPPED = _shipped_routines()


def test_the_built_in_packs_ship_routines() -> None:
    """The comparison below has files to compare."""
    assert len(SHIPPED) >= 5


@pytest.mark.parametrize(("name", "text"), SHIPPED, ids=[n for n, _ in SHIPPED])
def test_a_shipped_routine_reads_the_same_either_way(name: str, text: str) -> None:
    """Each built-in routine gives the same value through libyaml as through Python."""
    assert load_yaml(text, source=name, what="routine", packaged=True) == load_yaml(
        text, source=name, what="routine"
    )


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")
def test_packaged_text_is_parsed_by_libyaml() -> None:
    """With libyaml, a good document is read by the fast path itself (no fallback)."""
    text = "a: [1, 2.5, yes, null, '3']\nb: &x {c: d}\ne: *x\n"
    assert _load_fast(text) == {"a": [1, 2.5, True, None, "3"], "b": {"c": "d"}, "e": {"c": "d"}}


BAD = {
    "syntax": "name: a.b\n  bad: : x\n",
    "unclosed": "name: a.b\nsteps: [\n  {id: a\n",
    "tag": "a: !!python/object:os.system x\n",
    "local tag": "a: !thing x\n",
    "duplicate key": "a: 1\nb:\n  c: 2\n  c: 3\n",
    "deep": "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n",
    "aliases": "a: &a [x]\n" + "".join(f"k{i}: *a\n" for i in range(100)),
    "laughs": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(6)
    ),
    "control character": "a: b\x00c\n",
    "surrogate": "a: \udc80\n",
}


@pytest.mark.parametrize("text", BAD.values(), ids=BAD.keys())
def test_a_refused_document_has_the_same_message_either_way(text: str) -> None:
    """A problem in a packaged file is reported exactly as the Python loader reports it:
    the same error class, message (file, line, column) and hint."""
    errors = []
    for packaged in (False, True):
        with pytest.raises(InputError) as caught:
            load_yaml(text, source="p.yaml", what="routine", error=CatalogError, packaged=packaged)
        errors.append(caught.value)
    plain, fast = errors
    assert type(fast) is type(plain) is CatalogError
    assert (fast.message, fast.hint) == (plain.message, plain.hint)
    assert fast.message.startswith("p.yaml")
    assert _load_fast(text) is _NOT_LOADED
