"""The storage and network packs import the lab when an actor runs, not when the catalog
loads them; their re-exports from the lab still work."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _modules_after(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_loading_the_catalog_imports_no_lab_and_no_journal() -> None:
    """Catalog.discover() registers every built-in actor without planactor.lab or the
    journal (the core pack's summarize_run imports it when it runs)."""
    loaded = _modules_after(
        "from planactor.catalog import Catalog\n"
        "c = Catalog.discover()\n"
        "assert 'storage.upgrade_firmware' in c and 'network.apply_fabric' in c\n"
    )
    assert not [m for m in loaded if m.startswith(("planactor.lab", "planactor.journal"))]


@pytest.mark.parametrize("name", ["StorageSafety", "WRITE_ACTORS"])
def test_the_storage_packs_re_exports_are_the_labs(name: str) -> None:
    """`from planactor.actors.storage import StorageSafety` gives the lab's own object."""
    import planactor.actors.storage as pack
    from planactor.lab import storage as lab_storage

    assert getattr(pack, name) is getattr(lab_storage, name)
    assert name in pack.__all__


def test_an_unknown_name_of_the_storage_pack_is_an_attribute_error() -> None:
    """The lazy re-export answers only for its own names."""
    import planactor.actors.storage as pack

    with pytest.raises(AttributeError, match="no_such_name"):
        pack.no_such_name  # noqa: B018
